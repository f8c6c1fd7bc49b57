"""Every write in KTO goes through here: a reader finds each way a response, an invitation or
a survey version comes into being in this module."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .defaults import COMMENT_LABEL, EXTRA_QUESTIONS, INTRO, SCORE_LABEL
from .masking import mask_personal_data
from .models import (
    Answer,
    Channel,
    Contact,
    ContactOutcome,
    Invitation,
    InvitationStatus,
    Organisation,
    OrganisationChannel,
    Question,
    QuestionKind,
    Response,
    RollupDirtyMonth,
    Source,
    Survey,
    SurveyVersion,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class InvitationUnavailable(Exception):
    """The token is unknown or the invitation has expired (deliberately indistinguishable)."""


class AlreadyAnswered(Exception):
    """The invitation already has a complete response."""


def local_month(moment: datetime) -> date:
    """First day of the calendar month of ``moment`` in Europe/Amsterdam."""
    local = moment.astimezone(AMSTERDAM)
    return date(local.year, local.month, 1)


def new_token() -> str:
    """192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- organisations and surveys --------------------------------------------------------------


@transaction.atomic
def create_default_survey(*, organisation: Organisation, channel: str) -> SurveyVersion:
    """The out-of-the-box survey for a channel: rapportcijfer, two extra questions, a comment."""
    survey, _ = Survey.objects.get_or_create(organisation=organisation, channel=channel)
    existing = survey.current_version()
    if existing is not None:
        return existing
    score_nl, score_en = SCORE_LABEL[Channel(channel)]
    version = SurveyVersion.objects.create(
        survey=survey,
        number=1,
        intro_nl=INTRO[0],
        intro_en=INTRO[1],
        score_label_nl=score_nl,
        score_label_en=score_en,
        comment_label_nl=COMMENT_LABEL[0],
        comment_label_en=COMMENT_LABEL[1],
    )
    for order, (key, kind, (nl, en), choices) in enumerate(EXTRA_QUESTIONS):
        Question.objects.create(
            version=version, key=key, order=order, kind=kind, text_nl=nl, text_en=en, choices=choices
        )
    return version


@transaction.atomic
def create_organisation(*, name: str, slug: str, channels: list[str] | None = None, **fields) -> Organisation:
    """An organisation with its channels enabled and a default survey for each."""
    organisation = Organisation.objects.create(name=name, slug=slug, **fields)
    for channel in channels if channels is not None else Channel.values:
        OrganisationChannel.objects.create(organisation=organisation, channel=channel)
        create_default_survey(organisation=organisation, channel=channel)
    return organisation


def current_version(*, organisation: Organisation, channel: str) -> SurveyVersion:
    survey = Survey.objects.filter(organisation=organisation, channel=channel).first()
    version = survey.current_version() if survey else None
    return version or create_default_survey(organisation=organisation, channel=channel)


@transaction.atomic
def new_survey_version(*, version: SurveyVersion) -> SurveyVersion:
    """Copy ``version`` (with its questions) into the next version number, for editing."""
    latest = version.survey.versions.select_for_update().order_by("-number").first()
    questions = list(version.questions.all())
    copy = SurveyVersion.objects.get(pk=version.pk)
    copy.pk = None
    copy.number = latest.number + 1
    copy.created_at = timezone.now()
    copy.save()
    for question in questions:
        question.pk = None
        question.version = copy
        question.save()
    return copy


# --- invitations ----------------------------------------------------------------------------


@transaction.atomic
def create_invitation(
    *,
    organisation: Organisation,
    channel: str,
    contact_moment: datetime,
    language: str = "nl",
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """A new invitation and its plain token (returned once; only its hash is stored)."""
    now = now or timezone.now()
    token = new_token()
    invitation = Invitation.objects.create(
        organisation=organisation,
        channel=channel,
        contact_moment=contact_moment,
        token_hash=hash_token(token),
        language=language,
        created_at=now,
        expires_at=now + timedelta(days=organisation.invitation_valid_days),
    )
    return invitation, token


def invitation_for_token(token: str, *, now: datetime | None = None) -> Invitation:
    """The usable invitation behind ``token``; raises InvitationUnavailable for unknown and
    expired tokens alike."""
    if not token or len(token) > 64:
        raise InvitationUnavailable
    invitation = Invitation.objects.select_related("organisation").filter(token_hash=hash_token(token)).first()
    if invitation is None or invitation.is_expired(now):
        raise InvitationUnavailable
    return invitation


def mark_opened(*, invitation: Invitation) -> None:
    if invitation.opened_at is None:
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=timezone.now())
        Invitation.objects.filter(
            pk=invitation.pk, status__in=[InvitationStatus.CREATED, InvitationStatus.SENT]
        ).update(status=InvitationStatus.OPENED)


# --- responses ------------------------------------------------------------------------------


def mark_month_dirty(*, organisation_id: int, month: date) -> None:
    """Flag a month for the rollup pass; part of the caller's transaction."""
    RollupDirtyMonth.objects.bulk_create(
        [RollupDirtyMonth(organisation_id=organisation_id, month=month)],
        update_conflicts=True,
        unique_fields=["organisation", "month"],
        update_fields=["marked_at"],
    )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No worker, so no beat pass: roll the organisation up once this transaction commits.
        from .rollups import rollup_after_commit

        rollup_after_commit(organisation_id)


def _write_answers(response: Response, version: SurveyVersion, answers: Mapping[str, object]) -> None:
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
    Answer.objects.filter(response=response).delete()
    Answer.objects.bulk_create(rows)


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
        existing = Response.objects.filter(invitation=invitation).first()
        if existing is not None:
            if existing.is_complete:
                raise AlreadyAnswered
            return _update_response(existing, score=score, answers=answers or {}, comment=comment, complete=complete)
        organisation, channel = invitation.organisation, invitation.channel
        contact_moment = invitation.contact_moment
    version = survey_version or current_version(organisation=organisation, channel=channel)
    contact_moment = contact_moment or now
    try:
        with transaction.atomic():
            response = Response.objects.create(
                organisation=organisation,
                channel=channel,
                survey_version=version,
                invitation=invitation,
                contact_moment=contact_moment,
                contact_month=local_month(contact_moment),
                submitted_at=now,
                score=score,
                comment=mask_personal_data(comment or ""),
                language=language[:5],
                source=source,
                is_complete=complete,
            )
    except IntegrityError as exc:
        if invitation is not None and Response.objects.filter(invitation=invitation).exists():
            raise AlreadyAnswered from exc
        raise
    _write_answers(response, version, answers or {})
    if invitation is not None:
        Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.ANSWERED, answered_at=now)
    mark_month_dirty(organisation_id=organisation.pk, month=response.contact_month)
    return response


def _update_response(
    response: Response, *, score: int, answers: Mapping[str, object], comment: str, complete: bool
) -> Response:
    response.score = score
    response.comment = mask_personal_data(comment or "") or response.comment
    response.is_complete = complete
    response.submitted_at = timezone.now()
    response.save(update_fields=["score", "comment", "is_complete", "submitted_at"])
    if answers:
        _write_answers(response, response.survey_version, answers)
    mark_month_dirty(organisation_id=response.organisation_id, month=response.contact_month)
    return response


def record_one_click(*, invitation: Invitation, score: int, language: str = "nl") -> Response:
    """A score from a one-click link: stored at once, the rest of the form may follow."""
    return submit_response(
        organisation=invitation.organisation,
        channel=invitation.channel,
        score=score,
        source=Source.ONE_CLICK,
        language=language,
        invitation=invitation,
        complete=False,
    )


def valid_score(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10


__all__ = [
    "AMSTERDAM",
    "AlreadyAnswered",
    "ContactResult",
    "InvitationUnavailable",
    "create_default_survey",
    "create_invitation",
    "create_organisation",
    "current_version",
    "hash_token",
    "invitation_for_token",
    "local_month",
    "mark_month_dirty",
    "mark_opened",
    "new_survey_version",
    "record_one_click",
    "register_contact",
    "submit_response",
    "valid_score",
]


# --- contacts (registered by the municipality's systems through the API) -----------------------
# Owned by the invitation-rules work (issue 3): sampling, cooldown, opt-out and delivery are added there.


@dataclass(frozen=True)
class ContactResult:
    """What register_contact() decided. ``token`` is only set when an invitation was created
    by this call (it is never stored in plain form, so a repeated reference cannot return it)."""

    contact: Contact
    created: bool
    invited: bool
    reason: str  # a ContactOutcome value
    invitation: Invitation | None = None
    token: str | None = None


@transaction.atomic
def register_contact(
    *,
    organisation: Organisation,
    channel: str,
    contact_moment: datetime,
    reference: str = "",
    language: str = "nl",
    recipient: str = "",
    method: str = "",
) -> ContactResult:
    """Register one contact moment and decide whether to invite the resident.
    STUB: always invites when the channel is enabled; the full rules follow."""
    if reference:
        existing = Contact.objects.filter(organisation=organisation, reference=reference).first()
        if existing is not None:
            return ContactResult(
                contact=existing,
                created=False,
                invited=existing.outcome == ContactOutcome.INVITED,
                reason=existing.outcome,
                invitation=existing.invitation,
            )
    enabled = OrganisationChannel.objects.filter(organisation=organisation, channel=channel, enabled=True).exists()
    invitation, token = (None, None)
    outcome = ContactOutcome.CHANNEL_DISABLED
    if enabled:
        invitation, token = create_invitation(
            organisation=organisation, channel=channel, contact_moment=contact_moment, language=language
        )
        outcome = ContactOutcome.INVITED
    contact = Contact.objects.create(
        organisation=organisation,
        channel=channel,
        contact_moment=contact_moment,
        contact_month=local_month(contact_moment),
        reference=reference,
        language=language,
        outcome=outcome,
        invitation=invitation,
    )
    return ContactResult(
        contact=contact,
        created=True,
        invited=invitation is not None,
        reason=outcome,
        invitation=invitation,
        token=token,
    )
