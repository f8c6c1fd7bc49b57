"""Bad input that once gave a 500, an HTML page to an API client or a bare English page: each now
gets a clear 4xx in the right format and language. HEAD (link checkers, mail scanners) gets 200
on every residents' page and changes nothing."""

import json

import pytest

from surveys.api.models import ApiKey
from surveys.invitations.addresses import address_hash
from surveys.invitations.models import Invitation, InvitationStatus, OptOut
from surveys.invitations.unsubscribe import unsubscribe_token
from surveys.responses.models import Response
from tests.api.client import ApiClient


@pytest.fixture
def api(organisation):
    _key, plain = ApiKey.objects.create_key(organisation=organisation, name="telefonie")
    return ApiClient(plain)


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("path", ["/api/v1/contacts/", "/api/v1/contacts/bulk/", "/api/v1/responses/"])
def test_deeply_nested_json_is_a_400_in_json(api, path):
    for body in (nested(1000), '{"a":' * 5000 + "1" + "}" * 5000):
        answer = api.post(path, raw=body)
        assert answer.status_code == 400, answer.content[:200]
        assert answer.json() == {"detail": "De JSON is te diep genest."}


def test_an_api_address_that_does_not_exist_is_a_404_in_json(api):
    for path in ("/api/v1/contacts/abc/", "/api/v1/nergens/", "/api/v2/"):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert answer["Content-Type"] == "application/json"
        assert json.loads(answer.content) == {"detail": "Niet gevonden."}


def test_a_form_body_too_large_gets_a_page_in_the_residents_language(client, organisation, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    page = client.post("/o/stichtse-vecht/balie/", {"score": "7", "comment": "x" * 20_000})
    assert page.status_code == 400
    assert "Wat u verstuurde is te groot." in page.content.decode()
    page = client.post("/o/stichtse-vecht/balie/?lang=en", {"score": "7", "comment": "x" * 20_000})
    assert page.status_code == 400 and "What you sent is too large." in page.content.decode()
    assert not Response.objects.exists()


def test_head_on_every_residents_page_is_200_and_changes_nothing(client, invitation, organisation):
    token = invitation.token
    pages = [
        f"/s/{token}/",
        f"/s/{token}/8/",
        "/o/stichtse-vecht/balie/",
        "/o/stichtse-vecht/bedankt/",
        f"/afmelden/{unsubscribe_token(organisation.pk, address_hash('jan@example.nl'))}/",
    ]
    for path in pages:
        assert client.head(path).status_code == 200, path
    assert not Response.objects.exists()  # no one-click score stored
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.CREATED  # not "opened"
    assert not OptOut.objects.exists()
    assert client.get(f"/s/{token}/8/").status_code == 200  # the link still works for the resident
    assert Response.objects.get().score == 8
