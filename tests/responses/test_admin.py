"""Responses in the admin: read-only, filtered and searched; a superuser's deletion leaves the
figures."""

import re
from datetime import date

import pytest
from django.conf import settings
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
    month = Response.objects.first().contact_month
    this_month = client.get(f"/admin/surveys/response/?period={month:%Y-%m}").content.decode()
    assert "Mail bleef liggen" in this_month
    this_year = client.get(f"/admin/surveys/response/?period={month:%Y}").content.decode()
    assert "Mail bleef liggen" in this_year
    assert "Mail bleef liggen" not in client.get("/admin/surveys/response/?period=2001-01").content.decode()


def test_a_malformed_month_filter_is_not_a_server_error(client, org_a, kcc_a):
    page = logged_in(client, kcc_a).get("/admin/surveys/response/?period=gisteren")
    assert page.status_code == 302
    assert page.url.endswith("?e=1")


def test_the_period_filter_lists_every_year_with_figures_and_its_months(client, org_a, kcc_a, org_b):
    for organisation, year in ((org_a, 2016), (org_a, 2018), (org_b, 2011)):
        ScoreRollup.objects.create(
            organisation=organisation,
            channel="all",
            question_key="rapportcijfer",
            period="year",
            period_start=date(year, 1, 1),
            n=1,
            n_invited=0,
            total=8,
            total_sq=64,
        )
    client = logged_in(client, kcc_a)
    text = client.get("/admin/surveys/response/").content.decode()
    assert "?period=2016" in text and "?period=2018" in text
    assert "?period=2011" not in text  # another organisation's year
    assert "?period=2018-03" not in text
    assert "?period=2018-03" in client.get("/admin/surveys/response/?period=2018").content.decode()


def test_the_search_is_dutch_full_text(client, org_a, kcc_a):
    ResponseFactory(organisation=org_a, comment="Ik wachtte drie kwartier op de telefoon")
    ResponseFactory(organisation=org_a, comment="De medewerkers waren vriendelijk")
    ResponseFactory(organisation=org_a, comment="Snel en vriendelijk, maar het wachten duurde lang")
    client = logged_in(client, kcc_a)
    found = client.get("/admin/surveys/response/", {"q": "wachten"}).content.decode()
    assert "wachtte drie kwartier" in found and "het wachten duurde" in found  # "wachtte" stems to "wacht"
    assert "De medewerkers waren" not in found
    found = client.get("/admin/surveys/response/", {"q": "medewerker"}).content.decode()
    assert "De medewerkers waren" in found
    found = client.get("/admin/surveys/response/", {"q": "vriendelijk -wachten"}).content.decode()
    assert "De medewerkers waren" in found and "het wachten duurde" not in found
    page = client.get("/admin/surveys/response/", {"q": '"&|!(:*'})  # no tsquery syntax error
    assert page.status_code == 200


def test_the_search_uses_the_dutch_full_text_index(org_a, db):
    from django.contrib.postgres.search import SearchQuery, SearchVector

    ResponseFactory(organisation=org_a, comment="Ik wachtte lang")
    query = (
        Response.objects.annotate(search=SearchVector("comment", config="dutch"))
        .filter(search=SearchQuery("wachten", config="dutch", search_type="websearch"))
        .values("pk")
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "response_comment_fts" in plan, plan


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("score_band=low", "score drie", "score negen"),
        ("score_band=high", "score negen", "score drie"),
        ("has_comment=no", "(geen)", "score drie"),
    ],
)
def test_score_band_and_comment_filters(client, org_a, kcc_a, query, shown, hidden):
    ResponseFactory(organisation=org_a, score=3, comment="score drie")
    ResponseFactory(organisation=org_a, score=9, comment="score negen")
    ResponseFactory(organisation=org_a, score=7, comment="")
    text = logged_in(client, kcc_a).get(f"/admin/surveys/response/?{query}").content.decode()
    if shown != "(geen)":
        assert shown in text
    else:
        assert "1 reactie" in text
    assert hidden not in text


def test_the_follow_up_filter(client, org_a, kcc_a):
    from surveys.followups.models import FollowUp, FollowUpStatus

    for score, status in ((2, FollowUpStatus.NEW), (3, FollowUpStatus.IN_PROGRESS), (4, FollowUpStatus.DONE)):
        response = ResponseFactory(organisation=org_a, score=score, comment=f"terugbellen {status}")
        closed = response.submitted_at if status == FollowUpStatus.DONE else None
        FollowUp.objects.update_or_create(  # (a low score with a comment may have opened one already)
            response=response,
            defaults={"organisation": org_a, "status": status, "due_at": response.submitted_at, "closed_at": closed},
        )
    ResponseFactory(organisation=org_a, score=9, comment="geen verzoek")
    client = logged_in(client, kcc_a)
    listed = client.get("/admin/surveys/response/").content.decode()
    assert "Op terugbelverzoek" in listed and "In behandeling" in listed
    for query, shown in [
        ("none", "geen verzoek"),
        ("new", "terugbellen new"),
        ("in_progress", "terugbellen in_progress"),
    ]:
        text = client.get(f"/admin/surveys/response/?follow_up={query}").content.decode()
        comments = set(re.findall(r"terugbellen \w+|geen verzoek", text))
        assert comments == {shown}, (query, comments)


@pytest.mark.parametrize(
    "query", ["score_band=heel-laag", "has_comment=misschien", "period=2018-13", "follow_up=misschien"]
)
def test_a_wrong_filter_value_is_not_a_server_error(client, org_a, kcc_a, query):
    page = logged_in(client, kcc_a).get(f"/admin/surveys/response/?{query}")
    assert page.status_code == 302 and page.url.endswith("?e=1")


def test_the_count_of_a_long_list_is_capped(client, org_a, kcc_a, monkeypatch):
    from surveys.responses.filters import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "CAP", 5)
    for i in range(8):
        ResponseFactory(organisation=org_a, comment=f"reactie {i}")
    client = logged_in(client, kcc_a)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/surveys/response/")
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 5" in sql and "ORDER BY" not in sql for sql in counts), counts
    assert re.search(r"\s5\+ reacties\s", page.content.decode())  # at least 5: the count stops there
    searched = client.get("/admin/surveys/response/?q=reactie").content.decode()
    assert "5+ resultaten (" in searched  # the search bar's count says so too
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "5+ results (" in client.get("/admin/surveys/response/?q=reactie").content.decode()
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    monkeypatch.setattr(CappedPaginator, "CAP", 10_000)
    assert re.search(r"\s8 reacties\s", client.get("/admin/surveys/response/").content.decode())
    assert "8 resultaten (" in client.get("/admin/surveys/response/?q=reactie").content.decode()


def test_a_list_of_more_than_a_thousand_says_1000_plus(client, org_a, kcc_a):
    first = ResponseFactory(organisation=org_a, comment="wachten")
    copies = [
        Response(**{f.attname: getattr(first, f.attname) for f in Response._meta.concrete_fields if not f.primary_key})
        for _ in range(1000)
    ]
    Response.objects.bulk_create(copies)
    client = logged_in(client, kcc_a)
    page = client.get("/admin/surveys/response/?q=wachten").content.decode()
    assert "1.000+ resultaten (" in page and re.search(r"\s1\.000\+ reacties\s", page)
    assert '<a href="?p=20&amp;q=wachten" class="end">' in page and "p=21" not in page  # 20 pages of 50
