"""Survey versions in the admin: frozen once they have responses, edits become a new version;
questions with clear messages for bad options."""

import pytest
from django.contrib.auth import get_user_model

from surveys.organisations.models import Channel
from surveys.questionnaires.forms import choice_errors
from surveys.questionnaires.models import Survey, SurveyVersion
from surveys.questionnaires.services import add_version
from surveys.responses.models import Answer
from tests.factories import ResponseFactory
from tests.staff import balie_version, change_url, logged_in, version_post_data

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_editing_a_version_without_responses_changes_it_in_place(client, org_a, beheerder_a):
    version = balie_version(org_a)
    data = version_post_data(version, score_label_nl="Hoe tevreden bent u over de balie?")
    page = logged_in(client, beheerder_a).post(change_url(version), data)
    assert page.status_code == 302, page.content.decode()
    version.refresh_from_db()
    assert version.score_label_nl == "Hoe tevreden bent u over de balie?"
    assert SurveyVersion.objects.filter(survey=version.survey).count() == 1


def test_editing_a_frozen_version_creates_a_new_version(client, org_a, beheerder_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a, answers={"vraag_beantwoord": 1})
    old_texts = (version.score_label_nl, list(version.questions.values_list("key", "text_nl")))
    data = version_post_data(version, score_label_nl="Hoe tevreden bent u over de balie?")
    data["questions-0-text_nl"] = "Heeft u gekregen waarvoor u kwam?"
    page = logged_in(client, beheerder_a).post(change_url(version), data, follow=True)
    text = page.content.decode()
    assert "Versie 1 heeft al reacties en is daarom niet gewijzigd" in text
    assert "opgeslagen als versie 2" in text

    version.refresh_from_db()
    assert (version.score_label_nl, list(version.questions.values_list("key", "text_nl"))) == old_texts
    current = version.survey.current_version()
    assert current.number == 2
    assert current.score_label_nl == "Hoe tevreden bent u over de balie?"
    assert list(current.questions.values_list("key", "text_nl")) == [
        ("vraag_beantwoord", "Heeft u gekregen waarvoor u kwam?"),
        ("vriendelijkheid", old_texts[1][1][1]),
    ]
    # The old answers still point at the questions they answered.
    assert Answer.objects.get().question.version == version

    form = client.get(f"/o/{org_a.slug}/balie/").content.decode()
    assert "Hoe tevreden bent u over de balie?" in form
    assert "Heeft u gekregen waarvoor u kwam?" in form


def test_save_and_continue_on_a_frozen_version_opens_the_new_version(client, org_a, beheerder_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    data = version_post_data(version, intro_nl="Nieuwe inleiding", _continue="1")
    page = logged_in(client, beheerder_a).post(change_url(version), data)
    assert page.status_code == 302
    assert page.url == change_url(version.survey.current_version())
    assert version.survey.current_version().number == 2


def test_deleting_and_adding_questions_on_a_frozen_version(client, org_a, beheerder_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    data = version_post_data(version)
    data["questions-1-DELETE"] = "on"
    data.update(
        {
            "questions-TOTAL_FORMS": "3",
            "questions-2-order": "5",
            "questions-2-key": "reden",
            "questions-2-kind": "choice",
            "questions-2-text_nl": "Waarvoor kwam u?",
            "questions-2-text_en": "What did you come for?",
            "questions-2-choices-0-value": "paspoort",
            "questions-2-choices-0-nl": "Paspoort",
            "questions-2-choices-0-en": "Passport",
            "questions-2-choices-1-value": "rijbewijs",
            "questions-2-choices-1-nl": "Rijbewijs",
            "questions-2-choices-1-en": "Driving licence",
            "questions-2-version": str(version.pk),
        }
    )
    page = logged_in(client, beheerder_a).post(change_url(version), data)
    assert page.status_code == 302, page.content.decode()
    assert sorted(version.questions.values_list("key", flat=True)) == ["vraag_beantwoord", "vriendelijkheid"]
    current = version.survey.current_version()
    assert sorted(current.questions.values_list("key", flat=True)) == ["reden", "vraag_beantwoord"]
    assert "Rijbewijs" in client.get(f"/o/{org_a.slug}/balie/").content.decode()


def test_saving_a_frozen_version_without_changes_creates_no_version(client, org_a, beheerder_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    page = logged_in(client, beheerder_a).post(change_url(version), version_post_data(version))
    assert page.status_code == 302
    assert SurveyVersion.objects.filter(survey=version.survey).count() == 1


def test_older_versions_are_read_only(client, org_a, beheerder_a):

    old = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    add_version(SurveyVersion(survey=old.survey, score_label_nl="Een nieuwe versie"))
    client = logged_in(client, beheerder_a)
    page = client.get(change_url(old))
    assert page.status_code == 200
    assert "Vervangen door een nieuwere versie" in page.content.decode()
    assert client.post(change_url(old), version_post_data(old, score_label_nl="Anders")).status_code == 403
    old.refresh_from_db()
    assert old.score_label_nl != "Anders"


def test_a_frozen_version_says_so_on_its_page(client, org_a, kcc_a):
    version = balie_version(org_a)
    ResponseFactory(organisation=org_a)
    text = logged_in(client, kcc_a).get(change_url(version)).content.decode()
    assert "Deze versie heeft al reacties" in text


def test_adding_a_version_gets_the_next_number_and_only_own_surveys(client, org_a, org_b, beheerder_a):
    survey = Survey.objects.get(organisation=org_a, channel=Channel.BALIE)
    client = logged_in(client, beheerder_a)
    form = client.get(f"/admin/surveys/surveyversion/add/?survey={survey.pk}").content.decode()
    assert "Stichtse Vecht · Balie" in form and "Utrecht" not in form

    blank = SurveyVersion(survey=survey, score_label_nl="Uw cijfer voor de balie?")
    data = version_post_data(blank, questions=[])
    data["survey"] = survey.pk
    assert client.post("/admin/surveys/surveyversion/add/", data).status_code == 302
    assert survey.current_version().number == 2
    assert survey.current_version().score_label_nl == "Uw cijfer voor de balie?"

    theirs = Survey.objects.get(organisation=org_b, channel=Channel.BALIE)
    data["survey"] = theirs.pk
    refused = client.post("/admin/surveys/surveyversion/add/", data)
    assert refused.status_code == 200
    assert "Selecteer een geldige keuze" in refused.content.decode()
    assert theirs.versions.count() == 1


def test_kcc_medewerker_cannot_edit_surveys(client, org_a, kcc_a):
    version = balie_version(org_a)
    client = logged_in(client, kcc_a)
    assert client.post(change_url(version), version_post_data(version, score_label_nl="Anders")).status_code == 403
    assert client.get("/admin/surveys/surveyversion/add/").status_code == 403


def post_question(client, version, **question):
    data = version_post_data(
        version,
        questions=[{"order": 9, "key": "reden", "kind": "choice", "text_nl": "Waarvoor kwam u?", **question}],
    )
    return client.post(change_url(version), data)


@pytest.mark.parametrize(
    ("kind", "choices", "message"),
    [
        ("choice", [], "Een keuzevraag heeft minstens twee opties nodig"),
        ("choice", [{"value": "a", "nl": "A"}], "Een keuzevraag heeft minstens twee opties nodig"),
        ("choice", [{"value": "a", "nl": "A"}, {"value": "a", "nl": "B"}], "komt vaker voor"),
        ("choice", [{"value": "a", "nl": "A"}, {"value": "b"}], "Optie 2 mist een Nederlandse tekst"),
        ("choice", [{"value": "a", "nl": "A"}, {"nl": "B"}], "Optie 2 mist een"),
        ("yesno", [{"value": "a", "nl": "A"}, {"value": "b", "nl": "B"}], "Alleen een keuzevraag heeft opties"),
    ],
)
def test_bad_question_options_get_a_clear_message(client, org_a, beheerder_a, kind, choices, message):
    version = balie_version(org_a)
    page = post_question(logged_in(client, beheerder_a), version, kind=kind, choices=choices)
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not version.questions.filter(key="reden").exists()


def test_a_valid_choice_question_is_saved(client, org_a, beheerder_a):
    version = balie_version(org_a)
    options = [{"value": "paspoort", "nl": "Paspoort", "en": "Passport"}, {"value": "anders", "nl": "Iets anders"}]
    page = post_question(logged_in(client, beheerder_a), version, choices=options)
    assert page.status_code == 302, page.content.decode()
    assert version.questions.get(key="reden").choices == [
        {"value": "paspoort", "nl": "Paspoort", "en": "Passport"},
        {"value": "anders", "nl": "Iets anders", "en": ""},
    ]


def test_a_choice_value_longer_than_the_answer_column_is_refused():
    errors = choice_errors([{"value": "x" * 51, "nl": "X"}, {"value": "y", "nl": "Y"}])
    assert errors == ['De "value" van optie 1 is langer dan 50 tekens.']
