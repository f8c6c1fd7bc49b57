"""Writes of surveys and their versions. A version that has responses is frozen: edits to it are
stored as the next version (a copy with the edits applied), so that earlier answers keep the
meaning of the questions they answered. Version numbers are given here and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max
from django.forms.models import model_to_dict

from surveys.organisations.models import Channel, Organisation

from .defaults import COMMENT_LABEL, EXTRA_QUESTIONS, INTRO, SCORE_LABEL
from .models import Question, Survey, SurveyVersion

# The texts of a version that an edit can change.
TEXTS = [
    "intro_nl",
    "intro_en",
    "score_label_nl",
    "score_label_en",
    "comment_label_nl",
    "comment_label_en",
]


@transaction.atomic
def create_default_survey(*, organisation: Organisation, channel: str) -> SurveyVersion:
    """The out-of-the-box survey for a channel: rapportcijfer, two extra questions, a comment."""
    survey, _ = Survey.objects.get_or_create(organisation=organisation, channel=channel)
    existing = survey.current_version()
    if existing is not None:
        return existing
    score_nl, score_en = SCORE_LABEL[Channel(channel)]
    version = add_version(
        SurveyVersion(
            survey=survey,
            intro_nl=INTRO[0],
            intro_en=INTRO[1],
            score_label_nl=score_nl,
            score_label_en=score_en,
            comment_label_nl=COMMENT_LABEL[0],
            comment_label_en=COMMENT_LABEL[1],
        )
    )
    Question.objects.bulk_create(
        Question(version=version, key=key, order=order, kind=kind, text_nl=nl, text_en=en, choices=choices)
        for order, (key, kind, (nl, en), choices) in enumerate(EXTRA_QUESTIONS)
    )
    return version


def current_version(*, organisation: Organisation, channel: str) -> SurveyVersion:
    """The version residents answer now (the default survey when the channel has none yet)."""
    version = (
        SurveyVersion.objects.filter(survey__organisation=organisation, survey__channel=channel)
        .order_by("-number")
        .first()
    )
    return version or create_default_survey(organisation=organisation, channel=channel)


@transaction.atomic
def add_version(version: SurveyVersion, questions: Sequence[Question] = ()) -> SurveyVersion:
    """Store a new version of its survey under the next number, with its questions."""
    # The survey's row lock: two new versions cannot get the same number.
    survey = Survey.objects.select_for_update().get(pk=version.survey_id)
    version.number = (survey.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version.save()
    for question in questions:
        question.version = version
        question.save()
    return version


@transaction.atomic
def save_version(
    version: SurveyVersion, *, questions: Sequence[Question] = (), deleted: Sequence[Question] = ()
) -> SurveyVersion:
    """Store edits of a stored version: its texts as set on ``version``, its new and changed
    ``questions`` and the questions to delete. A frozen version stays as it is and the edits
    become the next version, which is returned; saved without edits, nothing is written."""
    stored = SurveyVersion.objects.select_for_update().get(pk=version.pk)
    if not stored.is_frozen:
        version.save()
        for question in questions:
            question.version = version
            question.save()
        for question in deleted:
            question.delete()
        return version
    if not questions and not deleted and model_to_dict(version, TEXTS) == model_to_dict(stored, TEXTS):
        return stored
    edited = {question.pk: question for question in questions if question.pk is not None}
    gone = {question.pk for question in deleted}
    kept = [edited.get(question.pk, question) for question in stored.questions.all() if question.pk not in gone]
    for question in kept:
        question.pk = None  # a copy in the new version; the frozen one keeps its own
    fork = SurveyVersion(survey_id=stored.survey_id, **model_to_dict(version, TEXTS))
    return add_version(fork, [*kept, *(question for question in questions if question.pk is None)])
