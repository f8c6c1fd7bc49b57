"""Reads of survey versions: which is in use, and which are frozen by their responses."""

from __future__ import annotations

from django.db.models import Exists, Max, OuterRef, QuerySet, Subquery

from surveys.responses.models import Response

from .models import Question, SurveyVersion
from .open_links import kept


def with_version_state(queryset: QuerySet[SurveyVersion]) -> QuerySet[SurveyVersion]:
    """Versions annotated with ``has_responses`` and their survey's ``current_number``."""
    latest = SurveyVersion.objects.filter(survey=OuterRef("survey")).order_by("-number").values("number")[:1]
    return queryset.annotate(
        has_responses=Exists(Response.objects.filter(survey_version=OuterRef("pk"))),
        current_number=Subquery(latest),
    )


def is_frozen(version: SurveyVersion) -> bool:
    annotated = getattr(version, "has_responses", None)
    return annotated if annotated is not None else version.is_frozen


def is_current(version: SurveyVersion) -> bool:
    current = getattr(version, "current_number", None)
    if current is None:
        current = version.survey.versions.aggregate(n=Max("number"))["n"]
    return version.number == current


def open_link_version(slug: str, channel: str) -> SurveyVersion | None:
    """The version residents answer on an organisation's open link of a channel it measures, with
    its survey, organisation and questions, kept in the worker until they change (open_links);
    None without one."""
    return kept(f"version:{slug}:{channel}", lambda: _open_link_version(slug, channel))


def _open_link_version(slug: str, channel: str) -> SurveyVersion | None:
    return (
        SurveyVersion.objects.select_related("survey__organisation")
        .prefetch_related("questions")
        .filter(survey__organisation__slug=slug, survey__channel=channel)
        .filter(survey__organisation__channels__channel=channel, survey__organisation__channels__enabled=True)
        .order_by("-number")
        .first()
    )


def question_kinds(organisation_id: int, key: str) -> set[str]:
    """The kinds (QuestionKind) the extra question ``key`` has had in the organisation's survey
    versions; empty when it has no such question."""
    return set(
        Question.objects.filter(version__survey__organisation_id=organisation_id, key=key)
        .values_list("kind", flat=True)
        .distinct()
    )
