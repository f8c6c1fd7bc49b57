"""Every way a response comes into being, changes or goes: the residents' forms, one-click links,
the API and a superuser's deletion all come through here, and each records what it changes in
the figures (surveys/rollups/changes.py) in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from surveys.common.time import month_of
from surveys.followups.services import open_follow_up
from surveys.invitations.models import Invitation, InvitationStatus
from surveys.invitations.services import InvitationUnavailable
from surveys.organisations.models import Organisation
from surveys.questionnaires.models import QuestionKind, SurveyVersion
from surveys.questionnaires.services import current_version
from surveys.rollups import changes
from surveys.rollups.models import SCORE_KEY

from .masking import mask_personal_data
from .models import Answer, Response, Source
from .selectors import response_to

logger = logging.getLogger(__name__)


class AlreadyAnswered(Exception):
    """The invitation already has a complete response."""


def _write_answers(
    response: Response, version: SurveyVersion, answers: Mapping[str, object], *, replace: bool = False
) -> dict[str, int]:
    """Store the answers (``replace``: instead of the earlier ones); returns the numeric answers
    by question key."""
    if replace:
        Answer.objects.filter(response=response).delete()
    if not any(value not in (None, "") for value in answers.values()):
        return {}
    questions = {q.key: q for q in version.questions.all()}
    rows = []
    for key, raw in answers.items():
        question = questions.get(key)
        if question is None or raw in (None, ""):
            continue
        if question.kind == QuestionKind.CHOICE:
            rows.append(Answer(response=response, question=question, choice=str(raw)))
        else:
            rows.append(Answer(response=response, question=question, value=int(raw)))
    Answer.objects.bulk_create(rows)
    return {row.question.key: row.value for row in rows if row.value is not None}


@transaction.atomic
def submit_response(
    *,
    organisation: Organisation,
    channel: str,
    score: int,
    source: str,
    answers: Mapping[str, object] | None = None,
    comment: str = "",
    language: str = "nl",
    contact: str = "",
    invitation: Invitation | None = None,
    contact_moment: datetime | None = None,
    survey_version: SurveyVersion | None = None,
    complete: bool = True,
) -> Response:
    """Store a resident's response. With an invitation the invitation row is locked, so of many
    concurrent submits exactly one stores a response; the others raise AlreadyAnswered.
    An invitation that so far only has a one-click score gets that response completed."""
    now = timezone.now()
    if invitation is not None:
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.is_expired(now):
            raise InvitationUnavailable
        existing = response_to(invitation)
        if existing is not None:
            if existing.is_complete:
                raise AlreadyAnswered
            return _update_response(
                existing, score=score, answers=answers or {}, comment=comment, complete=complete, contact=contact
            )
        organisation, channel = invitation.organisation, invitation.channel
        contact_moment = invitation.contact_moment
    version = survey_version or current_version(organisation=organisation, channel=channel)
    contact_moment = contact_moment or now
    try:
        # A savepoint only where a concurrent submit can collide (one response per invitation).
        with transaction.atomic() if invitation is not None else nullcontext():
            response = Response.objects.create(
                organisation=organisation,
                channel=channel,
                survey_version=version,
                invitation=invitation,
                contact_moment=contact_moment,
                contact_month=month_of(contact_moment),
                submitted_at=now,
                score=score,
                comment=mask_personal_data(comment or ""),
                language=language[:5],
                source=source,
                is_complete=complete,
            )
    except IntegrityError as exc:
        if invitation is not None and response_to(invitation) is not None:
            raise AlreadyAnswered from exc
        raise
    numeric = _write_answers(response, version, answers or {})
    if invitation is not None:
        Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.ANSWERED, answered_at=now)
    changes.record(changes.scored(changes.of_response(response, numeric)))
    open_follow_up(response, contact=contact)
    return response


def _update_response(
    response: Response, *, score: int, answers: Mapping[str, object], comment: str, complete: bool, contact: str = ""
) -> Response:
    before = changes.of_stored([response.pk])  # what it counted in so far leaves the figures
    response.score = score
    response.comment = mask_personal_data(comment or "") or response.comment
    response.is_complete = complete
    response.submitted_at = timezone.now()
    response.save(update_fields=["score", "comment", "is_complete", "submitted_at"])
    if answers:
        numeric = _write_answers(response, response.survey_version, answers, replace=True)
    else:
        numeric = {answer.question_key: answer.value for answer in before if answer.question_key != SCORE_KEY}
    changes.record(changes.scored(before, sign=-1) + changes.scored(changes.of_response(response, numeric)))
    open_follow_up(response, contact=contact)
    return response


@transaction.atomic
def delete_responses(response_ids: list[int]) -> None:
    """Delete responses (a superuser's correction, a link scanner's score) and take them out of
    the figures."""
    stored = changes.of_stored(response_ids)
    Response.objects.filter(pk__in=response_ids).delete()
    changes.record(changes.scored(stored, sign=-1))


@transaction.atomic
def record_one_click(*, invitation: Invitation, score: int, language: str = "nl") -> Response | None:
    """A score from a one-click link: stored at once, the rest of the form may follow.

    Mail link scanners (security filters) open every link of a message within seconds, which
    would store their last link's score. So a one-click with another score than the one stored
    by a one-click less than ``KTO_ONE_CLICK_SCANNER_SECONDS`` earlier marks a scanner: the
    stored score is taken out of the figures again, and until that many seconds have passed
    without one-clicks, a one-click stores nothing (the page shows the form with the score
    chosen; sending it stores the answer). Returns None when nothing was stored."""
    now = timezone.now()
    window = timedelta(seconds=settings.KTO_ONE_CLICK_SCANNER_SECONDS)
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.link_scanner_at is not None and now - locked.link_scanner_at < window:
        Invitation.objects.filter(pk=locked.pk).update(link_scanner_at=now)  # the burst goes on
        return None
    existing = response_to(locked)
    if (
        existing is not None
        and existing.source == Source.ONE_CLICK
        and not existing.is_complete
        and existing.score != score
        and now - existing.submitted_at < window
    ):
        delete_responses([existing.pk])
        Invitation.objects.filter(pk=locked.pk).update(
            link_scanner_at=now, status=InvitationStatus.OPENED, answered_at=None
        )
        logger.info("One-click links of invitation %s opened by a link scanner", locked.pk)
        return None
    return submit_response(
        organisation=locked.organisation,
        channel=locked.channel,
        score=score,
        source=Source.ONE_CLICK,
        language=language,
        invitation=locked,
        complete=False,
    )
