"""An open link's version and page are kept in each worker until staff change what it shows
(surveys/questionnaires/open_links.py): a kept page costs no query, a resident's answer no read,
and every change shows on the next request. (Across gunicorn workers: tests/kto/test_deployment.py.)"""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys.organisations.models import Organisation, OrganisationChannel
from surveys.questionnaires.open_links import KEPT_SECONDS
from surveys.responses.models import Response
from tests.reports.test_reports import unused_port
from tests.staff import balie_version, change_url, logged_in, version_post_data

pytestmark = pytest.mark.django_db

URL = "/o/stichtse-vecht/balie/"


def page(client, url=URL) -> str:
    answer = client.get(url)
    assert answer.status_code == 200
    return answer.content.decode()


def test_a_kept_page_costs_no_query_and_an_answer_no_read(client, org_a, django_assert_num_queries):
    first = page(client)
    with django_assert_num_queries(0):
        assert page(client) == first
    assert "Hoe tevreden bent u?" in first and "Stichtse Vecht" in first
    with CaptureQueriesContext(connection) as queries:
        assert client.post(URL, {"score": "8", "comment": "Prima geholpen"}).status_code == 302
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 2  # the response and its rollup change; no read
    assert 'INSERT INTO "surveys_response"' in statements[0] and "INSERT INTO surveys_rollupchange" in statements[1]
    assert Response.objects.get().survey_version == balie_version(org_a)


def test_each_language_and_the_counter_tablet_keep_their_own_page(client, org_a):
    assert 'lang="nl"' in page(client)
    english = page(client, URL + "?lang=en")
    assert 'lang="en"' in english and "How satisfied are you?" in english
    assert 'action="/o/stichtse-vecht/balie/?lang=en"' in english
    assert 'action="/o/stichtse-vecht/balie/?kiosk=1"' in page(client, URL + "?kiosk=1")
    dutch = page(client)
    assert "Hoe tevreden bent u?" in dutch and 'action="/o/stichtse-vecht/balie/"' in dutch


def test_a_version_edited_in_the_admin_shows_at_once_and_takes_the_next_answers(client, org_a, beheerder_a):
    assert page(client) and client.post(URL, {"score": "7"}).status_code == 302  # version 1 is frozen now
    first = balie_version(org_a)
    staff = logged_in(type(client)(), beheerder_a)
    edited = staff.post(change_url(first), version_post_data(first, intro_nl="Vertel ons hoe het ging."))
    assert edited.status_code == 302
    assert "Vertel ons hoe het ging." in page(client)
    assert client.post(URL, {"score": "9"}).status_code == 302
    second = balie_version(org_a)
    assert second.number == 2
    assert list(Response.objects.order_by("pk").values_list("survey_version__number", flat=True)) == [1, 2]


def rename(organisation):
    organisation.name = "Gemeente Stichtse Vecht"
    organisation.brand_colour = "#123456"
    organisation.save()


def drop_a_question(organisation):
    balie_version(organisation).questions.get(key="vriendelijkheid").delete()


def switch_off(organisation):
    channel = OrganisationChannel.objects.get(organisation=organisation, channel="balie")
    channel.enabled = False
    channel.save()


def delete(organisation):
    Organisation.objects.get(pk=organisation.pk).delete()


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (rename, lambda text: "Gemeente Stichtse Vecht" in text and "#123456" in text),
        (drop_a_question, lambda text: 'name="q_vriendelijkheid"' not in text and 'name="q_vraag_beantwoord"' in text),
        (switch_off, None),
        (delete, None),
    ],
)
def test_every_change_to_what_a_link_shows_is_seen_on_the_next_request(client, org_a, change, shown):
    before = page(client)
    assert "Stichtse Vecht" in before and 'name="q_vriendelijkheid"' in before
    change(org_a)
    if shown is None:  # the link is gone
        assert client.get(URL).status_code == 404
        assert client.post(URL, {"score": "8"}).status_code == 404
        assert not Response.objects.exists()
    else:
        assert shown(page(client))
        assert client.post(URL, {"score": "8"}).status_code == 302


def test_a_change_that_no_save_announces_shows_when_the_kept_page_expires(client, org_a):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        assert "Welkom" not in page(client)
        with connection.cursor() as cursor:  # as a change made past the ORM would be
            cursor.execute("UPDATE surveys_surveyversion SET intro_nl = 'Welkom aan de balie'")
        assert "Welkom" not in page(client)
        clock.shift(KEPT_SECONDS + 1)
        assert "Welkom aan de balie" in page(client)


def test_without_the_shared_cache_nothing_is_kept_and_residents_are_served(client, org_a, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_port()}/0",  # nothing listens there
        }
    }
    assert "Stichtse Vecht" in page(client)
    rename(org_a)
    assert "Gemeente Stichtse Vecht" in page(client)
    assert client.post(URL, {"score": "6"}).status_code == 302
    assert Response.objects.get().score == 6
    assert "Shared cache unreachable" in caplog.text
