"""GET /api/v1/rollups/: the key's organisation's figures with last year's, bad parameters 400."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from surveys.api.models import ApiKey
from surveys.organisations.models import Channel
from surveys.responses.models import Source
from surveys.responses.services import submit_response
from surveys.rollups.incremental import rollup_incremental
from tests.api.conftest import ApiClient
from tests.factories import OrganisationFactory

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
URL = "/api/v1/rollups/"


@pytest.fixture
def api(organisation):
    return ApiClient(ApiKey.objects.create_key(organisation=organisation, name="dashboard")[1])


def respond(organisation, score, moment, channel=Channel.BALIE):
    submit_response(organisation=organisation, channel=channel, score=score, source=Source.OPEN, contact_moment=moment)


@pytest.fixture
def figures(organisation):
    for i in range(40):
        respond(organisation, 8 + i % 3, datetime(2018, 3, 5, 12, tzinfo=AMSTERDAM))
        respond(organisation, 5 + i % 2, datetime(2017, 3, 5, 12, tzinfo=AMSTERDAM))
    respond(organisation, 4, datetime(2018, 4, 30, 23, 30, tzinfo=AMSTERDAM), channel=Channel.TELEFOON)
    rollup_incremental()


@pytest.mark.django_db
def test_monthly_figures_with_last_years_value_and_significance(api, organisation, figures):
    answer = api.get(f"{URL}?period=month&channel=balie&from=2018-01&to=2018-12")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["period"], body["question"], body["min_responses"]) == ("month", "rapportcijfer", 30)
    [march] = body["results"]
    assert (march["period_start"], march["channel"], march["n"]) == ("2018-03-01", "balie", 40)
    assert march["mean"] == pytest.approx(8.975)
    assert march["previous"]["period_start"] == "2017-03-01"
    assert march["previous"]["mean"] == pytest.approx(5.5)
    assert march["difference"] == pytest.approx(3.475)
    assert march["significant"] is True and march["indicative"] is False
    assert march["distribution"] == {"8": 14, "9": 13, "10": 13}
    assert march["share_8_plus"] == 1 and march["share_insufficient"] == 0
    assert march["responses"] == 40 and march["response_rate"] is None


@pytest.mark.django_db
def test_yearly_figures_for_every_channel_mark_small_samples_indicative(api, figures):
    body = api.get(f"{URL}?period=year&from=2018").json()
    by_channel = {f["channel"]: f for f in body["results"]}
    assert set(by_channel) == {"all", "balie", "telefoon"}
    assert by_channel["all"]["n"] == 41
    assert by_channel["telefoon"]["indicative"] is True
    assert by_channel["telefoon"]["sd"] is None
    assert by_channel["telefoon"]["share_insufficient"] == 1
    assert by_channel["telefoon"]["previous"] is None
    assert by_channel["balie"]["previous"]["n"] == 40


@pytest.mark.django_db
def test_another_organisations_figures_are_not_visible(figures):
    other = OrganisationFactory(name="Utrecht", slug="utrecht")
    other_api = ApiClient(ApiKey.objects.create_key(organisation=other)[1])
    answer = other_api.get(URL)
    assert answer.status_code == 200
    assert answer.json()["results"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=week", "period"),
        ("channel=fax", "channel"),
        ("from=2018-13", "from"),
        ("from=maart", "from"),
        ("to=2018-02-30", "to"),
        ("from=2018-05&to=2018-01", "to"),
        ("question=<script>", "question"),
    ],
)
@pytest.mark.django_db
def test_bad_parameters_get_a_clear_400(api, query, field):
    answer = api.get(f"{URL}?{query}")
    assert answer.status_code == 400
    assert field in answer.json()
    assert all(isinstance(message, str) and message for message in answer.json()[field])


@pytest.mark.django_db
def test_without_a_key_the_figures_are_refused(client):
    assert client.get(URL).status_code == 401


@pytest.mark.django_db
def test_the_endpoint_is_documented(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/rollups/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"period", "channel", "from", "to"}


@pytest.mark.django_db
def test_the_figures_of_an_extra_question(api, organisation):
    for friendliness in (3, 4, 5, 5):
        submit_response(
            organisation=organisation,
            channel=Channel.BALIE,
            score=8,
            source=Source.OPEN,
            contact_moment=datetime(2018, 6, 1, 12, tzinfo=AMSTERDAM),
            answers={"vriendelijkheid": friendliness},
        )
    rollup_incremental()
    body = api.get(f"{URL}?period=year&channel=balie&question=vriendelijkheid").json()
    [year] = body["results"]
    assert body["question"] == "vriendelijkheid"
    assert (year["n"], year["mean"], year["distribution"]) == (4, 4.25, {"3": 1, "4": 1, "5": 2})
    # "below 6" and "8 or more" belong to the 1-10 rapportcijfer: a 1-5 question has neither.
    assert (year["share_insufficient"], year["share_8_plus"]) == (None, None)


@pytest.mark.django_db
def test_the_rapportcijfer_keeps_its_shares(api, organisation):
    for score in (4, 8, 9, 10):
        submit_response(
            organisation=organisation,
            channel=Channel.BALIE,
            score=score,
            source=Source.OPEN,
            contact_moment=datetime(2018, 6, 1, 12, tzinfo=AMSTERDAM),
        )
    rollup_incremental()
    [year] = api.get(f"{URL}?period=year&channel=balie").json()["results"]
    assert (year["share_insufficient"], year["share_8_plus"]) == (0.25, 0.75)


@pytest.mark.django_db
def test_an_unknown_question_is_a_400(api, organisation):
    answer = api.get(f"{URL}?question=bestaat_niet")
    assert answer.status_code == 400
    assert "Onbekende vraag: bestaat_niet" in str(answer.json())
