"""The survey editor: a choice question's options are rows of text fields (not JSON), and a version
can be previewed in Dutch and English as residents will see it."""

import pytest
from django.conf import settings

from tests.questionnaires.test_admin import post_question
from tests.staff import balie_version, change_url, logged_in

pytestmark = pytest.mark.django_db

OPTIONS = [
    {"value": "paspoort", "nl": "Paspoort", "en": "Passport"},
    {"value": "rijbewijs", "nl": "Rijbewijs", "en": "Driving licence"},
]


def test_options_are_edited_as_text_fields(client, org_a, beheerder_a):
    version = balie_version(org_a)
    client = logged_in(client, beheerder_a)
    assert post_question(client, version, choices=OPTIONS).status_code == 302
    page = client.get(change_url(version.survey.current_version())).content.decode()
    index = [q.key for q in version.survey.current_version().questions.all()].index("reden")
    assert f'name="questions-{index}-choices-1-nl" value="Rijbewijs"' in page
    assert f'name="questions-{index}-choices-0-en" value="Passport"' in page
    assert 'aria-label="Optie 2: Nederlands"' in page
    assert '[{"value"' not in page  # no JSON to type


def test_a_wrong_option_keeps_what_was_typed(client, org_a, beheerder_a):
    version = balie_version(org_a)
    duplicate = [{"value": "a", "nl": "Eerste"}, {"value": "a", "nl": "Tweede"}]
    page = post_question(logged_in(client, beheerder_a), version, choices=duplicate).content.decode()
    assert "komt vaker voor" in page
    assert 'value="Eerste"' in page and 'value="Tweede"' in page


@pytest.mark.parametrize(("query", "expected"), [("", "Hoe tevreden bent u?"), ("?language=en", "How satisfied")])
def test_a_version_is_previewed_in_dutch_and_english(client, org_a, kcc_a, query, expected):
    version = balie_version(org_a)
    page = logged_in(client, kcc_a).get(f"/admin/surveys/surveyversion/{version.pk}/voorbeeld/{query}")
    assert page.status_code == 200
    text = page.content.decode()
    assert expected in text
    assert "disabled" in text and ("Voorbeeld" in text or "Preview" in text)
    question = version.questions.first()
    assert (question.text_en if query else question.text_nl) in text
    assert settings.LANGUAGE_COOKIE_NAME not in page.cookies  # the staff member's admin stays in its language


def test_the_preview_is_only_of_the_own_organisation(client, org_b, kcc_a):
    version = balie_version(org_b)
    assert logged_in(client, kcc_a).get(f"/admin/surveys/surveyversion/{version.pk}/voorbeeld/").status_code == 404


def test_the_version_page_links_its_preview(client, org_a, beheerder_a):
    version = balie_version(org_a)
    page = logged_in(client, beheerder_a).get(change_url(version)).content.decode()
    assert f"/admin/surveys/surveyversion/{version.pk}/voorbeeld/?language=en" in page
