"""Staff of two organisations for the admin's tests (a pytest plugin: see tests/conftest.py)."""

import pytest
from django.contrib.auth import get_user_model

from surveys.organisations.models import Channel, Role, StaffMembership
from surveys.questionnaires.models import Survey, SurveyVersion
from tests.factories import OrganisationFactory

User = get_user_model()


@pytest.fixture
def org_a(db):
    return OrganisationFactory(name="Stichtse Vecht", slug="stichtse-vecht", channels=[Channel.BALIE, Channel.EMAIL])


@pytest.fixture
def org_b(db):
    return OrganisationFactory(name="Utrecht", slug="utrecht", channels=[Channel.BALIE, Channel.EMAIL])


def staff_user(username, organisation=None, role=Role.KCC):
    user = User.objects.create_user(username=username, password="x", is_staff=True)
    if organisation is not None:
        StaffMembership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def kcc_a(org_a):
    return staff_user("kcc-a", org_a, Role.KCC)


@pytest.fixture
def beheerder_a(org_a):
    return staff_user("beheerder-a", org_a, Role.BEHEERDER)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(username="root", password="x")


def logged_in(client, user):
    client.force_login(user)
    return client


def change_url(obj) -> str:
    return f"/admin/surveys/{obj._meta.model_name}/{obj.pk}/change/"


def balie_version(organisation) -> SurveyVersion:
    return Survey.objects.get(organisation=organisation, channel=Channel.BALIE).current_version()


def version_post_data(version: SurveyVersion, **changes) -> dict:
    """The change form of ``version`` as a browser would post it, with ``changes`` applied
    (``questions`` replaces the list of question dicts)."""
    texts = ("intro_nl", "intro_en", "score_label_nl", "score_label_en", "comment_label_nl", "comment_label_en")
    data = {field: getattr(version, field) for field in texts}
    questions = changes.pop("questions", None)
    if questions is None:
        questions = [
            {
                "id": q.pk,
                "order": q.order,
                "key": q.key,
                "kind": q.kind,
                "text_nl": q.text_nl,
                "text_en": q.text_en,
                "required": q.required,
                "choices": q.choices,
            }
            for q in version.questions.all()
        ]
    data.update(changes)
    initial = sum(1 for q in questions if q.get("id"))
    data.update(
        {
            "questions-TOTAL_FORMS": str(len(questions)),
            "questions-INITIAL_FORMS": str(initial),
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "1000",
        }
    )
    for i, question in enumerate(questions):
        prefix = f"questions-{i}-"
        for key, value in question.items():
            if key == "required":
                if value:
                    data[prefix + key] = "on"
            elif key == "choices":  # the options' rows of text fields (questionnaires/forms.py)
                for row, option in enumerate(value or []):
                    for part in ("value", "nl", "en"):
                        data[f"{prefix}choices-{row}-{part}"] = option.get(part, "")
            elif key == "DELETE":
                if value:
                    data[prefix + key] = "on"
            else:
                data[prefix + key] = "" if value is None else str(value)
        data[prefix + "version"] = str(version.pk) if version.pk else ""
    return data
