"""Reads of survey versions: which is in use, and which are frozen by their responses."""

from __future__ import annotations

from django.db.models import Exists, Max, OuterRef, QuerySet, Subquery

from surveys.responses.models import Response

from .models import SurveyVersion


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
