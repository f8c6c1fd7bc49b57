"""Responses in the admin: read-only, filtered and searched; a superuser's deletion leaves the
figures."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys.organisations.models import Channel, Role
from surveys.responses.models import Response
from surveys.rollups.incremental import rollup_incremental
from surveys.rollups.models import RollupChange, ScoreRollup
from surveys.rollups.recount import rollup_full
from tests.factories import ResponseFactory
from tests.staff import change_url, logged_in, staff_user

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_response_page_shows_answers_read_only(client, org_a, kcc_a):
    response = ResponseFactory(
        organisation=org_a, score=7, comment="Prima", answers={"vraag_beantwoord": 1, "vriendelijkheid": 4}
    )
    page = logged_in(client, kcc_a).get(change_url(response))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Prima" in text
    assert "Is uw vraag beantwoord?" in text
    assert "4 / 5" in text
    assert 'name="_save"' not in text
    assert 'name="comment"' not in text


@pytest.mark.parametrize("who", ["kcc", "beheerder", "superuser"])
def test_nobody_can_add_or_edit_responses(client, org_a, who):
    user = {
        "kcc": lambda: staff_user("k", org_a, Role.KCC),
        "beheerder": lambda: staff_user("b", org_a, Role.BEHEERDER),
        "superuser": lambda: User.objects.create_superuser(username="root", password="x"),
    }[who]()
    response = ResponseFactory(organisation=org_a, score=3, comment="Slecht")
    client = logged_in(client, user)
    assert client.get("/admin/surveys/response/add/").status_code == 403
    posted = client.post(change_url(response), {"score": "10", "comment": "Top"})
    assert posted.status_code == 403
    response.refresh_from_db()
    assert (response.score, response.comment) == (3, "Slecht")


def test_staff_cannot_delete_responses(client, org_a, beheerder_a):
    response = ResponseFactory(organisation=org_a)
    client = logged_in(client, beheerder_a)
    assert client.post(f"/admin/surveys/response/{response.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Response.objects.filter(pk=response.pk).exists()


def test_superuser_deletes_a_response_and_it_leaves_the_figures(client, org_a, superuser):
    response = ResponseFactory(organisation=org_a)
    rollup_full()
    assert ScoreRollup.objects.filter(organisation=org_a, period_start=response.contact_month).exists()
    page = logged_in(client, superuser).post(f"/admin/surveys/response/{response.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    assert not Response.objects.filter(pk=response.pk).exists()
    assert RollupChange.objects.filter(organisation=org_a, month=response.contact_month).exists()
    rollup_incremental()
    assert not ScoreRollup.objects.filter(organisation=org_a).exists()


def test_response_changelist_has_no_n_plus_one_queries(client, org_a, kcc_a):
    client = logged_in(client, kcc_a)
    ResponseFactory(organisation=org_a, comment="een")
    client.get("/admin/surveys/response/")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/admin/surveys/response/").status_code == 200
    for i in range(15):
        ResponseFactory(organisation=org_a, comment=f"reactie {i}")
    with CaptureQueriesContext(connection) as many:
        page = client.get("/admin/surveys/response/")
    assert "reactie 14" in page.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)


def test_responses_can_be_filtered_and_searched(client, org_a, kcc_a):
    ResponseFactory(organisation=org_a, channel=Channel.BALIE, comment="Snel geholpen aan de balie")
    ResponseFactory(organisation=org_a, channel=Channel.EMAIL, comment="Mail bleef liggen", language="en")
    client = logged_in(client, kcc_a)
    balie = client.get("/admin/surveys/response/?channel__exact=balie").content.decode()
    assert "Snel geholpen" in balie and "Mail bleef liggen" not in balie
    english = client.get("/admin/surveys/response/?language=en").content.decode()
    assert "Mail bleef liggen" in english and "Snel geholpen" not in english
    found = client.get("/admin/surveys/response/?q=liggen").content.decode()
    assert "Mail bleef liggen" in found and "Snel geholpen" not in found
    month = Response.objects.first().contact_month.isoformat()
    this_month = client.get(f"/admin/surveys/response/?contact_month={month}").content.decode()
    assert "Mail bleef liggen" in this_month
    assert "Mail bleef liggen" not in client.get("/admin/surveys/response/?contact_month=2001-01-01").content.decode()


def test_a_malformed_month_filter_is_not_a_server_error(client, org_a, kcc_a):
    page = logged_in(client, kcc_a).get("/admin/surveys/response/?contact_month=gisteren")
    assert page.status_code == 302
    assert page.url.endswith("?e=1")


def test_months_filter_lists_recent_months(client, org_a, kcc_a):
    text = logged_in(client, kcc_a).get("/admin/surveys/response/").content.decode()
    assert f"?contact_month={date.today().replace(day=1).isoformat()}" in text
