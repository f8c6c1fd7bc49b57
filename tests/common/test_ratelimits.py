"""Rate limits on the real Redis (the cache): per client on the open form, on token pages and
one-click links, per API key and for wrong API keys; 429 with Retry-After as a page in the
resident's language or as JSON; what is over the limit is never stored, so a burst from one client
moves a figure by at most the limit; with the store away the limits fail open."""

import uuid

import pytest

from surveys.api.models import ApiKey
from surveys.responses.models import Response
from tests.api.client import ApiClient
from tests.reports.test_reports import unused_port


@pytest.fixture
def limits(settings):
    settings.RATELIMIT_ENABLE = True
    settings.KTO_RATE_OPEN_FORM = "5/h"
    settings.KTO_RATE_TOKEN_PAGES = "5/m"
    settings.KTO_RATE_API_KEY = "4/m"
    settings.KTO_RATE_API_WRONG_KEY = "3/m"
    return settings


def a_client() -> str:
    """An address of its own per test: the counters live in Redis, across tests."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def test_a_burst_of_votes_from_one_client_stops_at_the_limit_and_is_not_stored(client, organisation, limits):
    me, neighbour = a_client(), a_client()
    answers = [client.post("/o/stichtse-vecht/balie/", {"score": "1"}, REMOTE_ADDR=me) for _ in range(8)]
    assert [a.status_code for a in answers] == [302] * 5 + [429] * 3
    assert Response.objects.count() == 5  # the figure moves by five responses, not eight
    refused = answers[-1]
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Even wachten" in refused.content.decode()
    english = client.post("/o/stichtse-vecht/balie/?lang=en", {"score": "1"}, REMOTE_ADDR=me)
    assert english.status_code == 429 and "Please wait" in english.content.decode()
    assert client.get("/o/stichtse-vecht/balie/", REMOTE_ADDR=me).status_code == 200  # reading the form is free
    assert client.post("/o/stichtse-vecht/balie/", {"score": "9"}, REMOTE_ADDR=neighbour).status_code == 302


def test_token_probing_is_stopped(client, organisation, limits):
    me = a_client()
    codes = [client.get(f"/s/{uuid.uuid4().hex}/", REMOTE_ADDR=me).status_code for _ in range(7)]
    assert 429 not in codes[:5] and codes[5:] == [429, 429]
    assert client.get(f"/s/{uuid.uuid4().hex}/8/", REMOTE_ADDR=me).status_code == 429  # one-click links too


def test_wrong_api_keys_and_a_busy_key_get_429_in_json(organisation, limits):
    me = a_client()
    wrong = ApiClient("not-a-key.nothing")
    codes = [wrong.get("/api/v1/rollups/", headers={"REMOTE_ADDR": me}).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    refused = wrong.get("/api/v1/rollups/", headers={"REMOTE_ADDR": me})
    assert refused["Content-Type"] == "application/json" and int(refused["Retry-After"]) > 0
    _key, plain = ApiKey.objects.create_key(organisation=organisation, name="telefonie")
    api = ApiClient(plain)
    codes = [api.get("/api/v1/rollups/", headers={"REMOTE_ADDR": a_client()}).status_code for _ in range(6)]
    assert codes == [200] * 4 + [429] * 2  # per key, whichever address it comes from
    assert "detail" in api.get("/api/v1/rollups/").json()


def test_with_the_store_away_the_limits_fail_open(client, organisation, limits):
    limits.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_port()}/0",  # nothing listens there
        }
    }
    me = a_client()
    answers = [client.post("/o/stichtse-vecht/balie/", {"score": "7"}, REMOTE_ADDR=me) for _ in range(7)]
    assert {a.status_code for a in answers} == {302}
    assert Response.objects.count() == 7
