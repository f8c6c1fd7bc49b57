from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.organisations.models import OrganisationChannel
from surveys.responses.models import Response, Source
from tests.factories import InvitationFactory, OrganisationFactory

URL = "/api/v1/responses/"


def body(**fields):
    moment = (timezone.now() - timedelta(minutes=5)).isoformat()
    return {"channel": "telefoon", "score": 8, "contact_moment": moment, **fields}


@pytest.mark.django_db
def test_an_ivr_score_is_stored_as_an_api_response(api, organisation):
    answer = api.post(URL, body(comment="Bel me op 06-12345678", language="en"))

    assert answer.status_code == 201
    stored = Response.objects.get()
    assert stored.organisation == organisation
    assert stored.score == 8
    assert stored.source == Source.API
    assert stored.language == "en"
    assert "12345678" not in stored.comment
    assert answer.json()["comment"] == stored.comment
    assert answer.json()["id"] == stored.pk


@pytest.mark.django_db
def test_answers_are_checked_against_the_channels_questions(api, organisation):
    version = organisation.surveys.get(channel="telefoon").current_version()
    question = version.questions.first()
    valid = {"choice": question.choices[0]["value"]} if question.choices else {}
    value = valid.get("choice", 1 if question.kind != "yesno" else True)

    ok = api.post(URL, body(answers={question.key: value}))
    assert ok.status_code == 201
    assert question.key in ok.json()["answers"]

    unknown = api.post(URL, body(answers={"favourite-colour": "blue"}))
    assert unknown.status_code == 400
    assert "Onbekende vraag" in unknown.json()["answers"][0]

    wrong_type = api.post(URL, body(answers={question.key: {"nested": True}}))
    assert wrong_type.status_code == 400
    assert wrong_type.json()["answers"]

    not_a_dict = api.post(URL, body(answers=[1, 2]))
    assert not_a_dict.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 11}, "score"),
        ({"score": "acht"}, "score"),
        ({"score": 10**30}, "score"),
        ({"score": 8.5}, "score"),
        ({"score": None}, "score"),
        ({"channel": "fax"}, "channel"),
        ({"contact_moment": None}, "contact_moment"),
        ({"comment": "x" * 2001}, "comment"),
        ({"language": "fr"}, "language"),
    ],
)
def test_bad_fields_get_400_on_that_field(api, fields, field):
    answer = api.post(URL, body(**fields))
    assert answer.status_code == 400
    assert answer.json()[field]
    assert Response.objects.count() == 0


@pytest.mark.django_db
def test_contact_moment_is_needed_without_a_token(api):
    data = body()
    del data["contact_moment"]
    answer = api.post(URL, data)
    assert answer.status_code == 400
    assert answer.json()["contact_moment"]


@pytest.mark.django_db
def test_a_channel_the_organisation_does_not_use_is_refused(api, organisation):
    OrganisationChannel.objects.filter(organisation=organisation, channel="telefoon").update(enabled=False)
    answer = api.post(URL, body())
    assert answer.status_code == 400
    assert "niet actief" in answer.json()["channel"][0]


@pytest.mark.django_db
def test_an_invitation_token_can_be_used_once(api, organisation):
    invitation = InvitationFactory(organisation=organisation, channel="telefoon")

    first = api.post(URL, body(invitation_token=invitation.token))
    assert first.status_code == 201
    invitation.refresh_from_db()
    assert invitation.status == "answered"

    again = api.post(URL, body(invitation_token=invitation.token))
    assert again.status_code == 409
    assert "al beantwoord" in again.json()["detail"]
    assert Response.objects.count() == 1


@pytest.mark.django_db
def test_unknown_expired_and_foreign_tokens_look_the_same(api, organisation):
    expired = InvitationFactory(organisation=organisation, channel="telefoon", expired=True)
    foreign = InvitationFactory(organisation=OrganisationFactory(), channel="telefoon")

    answers = [api.post(URL, body(invitation_token=token)) for token in ["made-up", expired.token, foreign.token]]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert len({str(a.json()) for a in answers}) == 1
    assert Response.objects.count() == 0


@pytest.mark.django_db
def test_a_token_for_another_channel_is_refused(api, organisation):
    invitation = InvitationFactory(organisation=organisation, channel="balie")
    answer = api.post(URL, body(invitation_token=invitation.token))
    assert answer.status_code == 400
    assert answer.json()["channel"]


@pytest.mark.django_db
def test_responses_need_a_key(organisation, client):
    assert client.post(URL, body(), content_type="application/json").status_code == 401
