"""Every write in KTO goes through here: a reader finds each way a response, an invitation or
a survey version comes into being in this module."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext

from . import rollups
from .bulk import insert_rows
from .defaults import COMMENT_LABEL, EXTRA_QUESTIONS, INTRO, SCORE_LABEL
from .delivery.addresses import InvalidRecipient, address_hash, normalise_recipient
from .delivery.gateways import PermanentGatewayError, TransientGatewayError
from .delivery.messages import send_invitation_message
from .masking import mask_personal_data
from .models import (
    Answer,
    Channel,
    Contact,
    ContactOutcome,
    Delivery,
    DeliveryMethod,
    Invitation,
    InvitationStatus,
    OptOut,
    Organisation,
    OrganisationChannel,
    Question,
    QuestionKind,
    RecipientCooldown,
    Response,
    RollupChange,
    Source,
    Survey,
    SurveyVersion,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

logger = logging.getLogger(__name__)


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
    # The caller delivers the link: the invitation counts as sent in its month's rollups.
    rollups.record_changes(
        [
            RollupChange(
                organisation=organisation, channel=channel, month=local_month(contact_moment), invitations_sent=1
            )
        ]
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
    rollups.record_response_changes([response])
    return response


def _update_response(
    response: Response, *, score: int, answers: Mapping[str, object], comment: str, complete: bool
) -> Response:
    rollups.record_response_changes([response], sign=-1)  # its old answers leave the figures
    response.score = score
    response.comment = mask_personal_data(comment or "") or response.comment
    response.is_complete = complete
    response.submitted_at = timezone.now()
    response.save(update_fields=["score", "comment", "is_complete", "submitted_at"])
    if answers:
        _write_answers(response, response.survey_version, answers)
    rollups.record_response_changes([response])
    return response


@transaction.atomic
def delete_responses(response_ids: list[int]) -> None:
    """Delete responses (a superuser's correction) and take them out of the figures."""
    responses = Response.objects.filter(pk__in=response_ids)
    rollups.record_response_changes(responses.only("pk", "organisation_id"), sign=-1)
    responses.delete()


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
    existing = Response.objects.filter(invitation=locked).first()
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


def valid_score(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10


__all__ = [
    "delete_responses",
    "AMSTERDAM",
    "AlreadyAnswered",
    "ContactInput",
    "ContactResult",
    "InvalidRecipient",
    "InvitationUnavailable",
    "address_hash",
    "create_default_survey",
    "create_invitation",
    "create_organisation",
    "current_version",
    "expire_invitations",
    "hash_token",
    "invitation_for_token",
    "local_month",
    "mark_opened",
    "new_survey_version",
    "normalise_recipient",
    "opt_out",
    "record_one_click",
    "register_contact",
    "register_contacts",
    "send_delivery",
    "submit_response",
    "valid_score",
]


# --- contacts (registered by the municipality's systems through the API) -----------------------
# The invitation rules, in the order they are applied: channel disabled -> opted out -> cooldown
# -> sampled out -> invited. Addresses are only ever compared as keyed hashes (delivery.addresses).

# A delivery claimed this long ago and still "sending" was interrupted (longer than the task's
# hard time limit). It is not sent again: a resident may get no message, but never two.
DELIVERY_LEASE = timedelta(minutes=20)
NO_DELIVERY = ("", "none")


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
    delivery: Delivery | None = None


@dataclass(frozen=True)
class ContactInput:
    """One contact moment for register_contacts(); the same fields as register_contact()."""

    channel: str
    contact_moment: datetime
    reference: str = ""
    language: str = "nl"
    recipient: str = ""
    method: str = ""


@dataclass
class _Item:
    index: int
    data: ContactInput
    method: str
    address: str
    hashed: str
    outcome: str = ""
    duplicate_of: int | None = None  # an earlier item of the same batch with the same reference


def in_sample(sample_one_in: int) -> bool:
    """True for 1 in ``sample_one_in`` calls, from the operating system's randomness."""
    return sample_one_in <= 1 or secrets.randbelow(sample_one_in) == 0


def _local_date(moment: datetime) -> date:
    return moment.astimezone(AMSTERDAM).date()


def _cooldown_cutoff(organisation: Organisation, now: datetime) -> date:
    """Invited on or before this day: the cooldown is over."""
    return _local_date(now) - timedelta(days=organisation.invitation_cooldown_days)


def _claim_cooldowns(organisation: Organisation, hashes: list[str], now: datetime) -> set[str]:
    """Start the cooldown of each address, unless another registration did so first; returns the
    hashes claimed. One statement, so two simultaneous contacts of one person cannot both be
    invited; sorted, so that concurrent batches lock rows in the same order."""
    if not hashes:
        return set()
    table = RecipientCooldown._meta.db_table
    hashes = sorted(hashes)
    today = _local_date(now)
    rows = ", ".join(["(%s, %s, %s)"] * len(hashes))
    params: list[object] = []
    for hashed in hashes:
        params += [organisation.pk, hashed, today]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (organisation_id, address_hash, last_invited_on) VALUES {rows}
            ON CONFLICT (organisation_id, address_hash) DO UPDATE SET last_invited_on = EXCLUDED.last_invited_on
            WHERE {table}.last_invited_on <= %s
            RETURNING address_hash
            """,  # noqa: S608 - the table name is ours, every value is a parameter
            [*params, _cooldown_cutoff(organisation, now)],
        )
        return {row[0] for row in cursor.fetchall()}


def _prepare(index: int, data: ContactInput | Mapping) -> _Item:
    if not isinstance(data, ContactInput):
        data = ContactInput(**data)
    method = "" if data.method in NO_DELIVERY else data.method
    recipient = (data.recipient or "").strip()
    try:
        if method and method not in DeliveryMethod.values:
            raise InvalidRecipient(gettext("Onbekende verzendmethode."))
        if method and not recipient:
            raise InvalidRecipient(gettext("Geef een ontvanger op bij een verzendmethode."))
        address = normalise_recipient(recipient, method) if recipient else ""
    except InvalidRecipient as exc:
        exc.index = index
        raise
    hashed = address_hash(address) if address else ""
    return _Item(index=index, data=data, method=method, address=address, hashed=hashed)


def _existing_result(contact: Contact) -> ContactResult:
    return ContactResult(
        contact=contact,
        created=False,
        invited=contact.outcome == ContactOutcome.INVITED,
        reason=contact.outcome,
        invitation=contact.invitation,
    )


def _enqueue_deliveries(delivery_ids: list[int]) -> None:
    from .tasks import send_invitation  # the tasks module imports this one

    for delivery_id in delivery_ids:
        send_invitation.delay(delivery_id)


def register_contact(
    *,
    organisation: Organisation,
    channel: str,
    contact_moment: datetime,
    reference: str = "",
    language: str = "nl",
    recipient: str = "",
    method: str = "",
    now: datetime | None = None,
) -> ContactResult:
    """Register one contact moment and decide whether to invite the resident.

    With a recipient the address is normalised and hashed for the opt-out and cooldown checks;
    with a delivery method (email, sms, whatsapp) as well, the invitation is sent by a Celery task
    after the transaction commits. Without a method ("" or "none") the caller delivers the link.
    A known ``reference`` returns the first registration's result and creates nothing.
    Raises InvalidRecipient for an unusable address or a method without a recipient."""
    contact = ContactInput(
        channel=channel,
        contact_moment=contact_moment,
        reference=reference,
        language=language,
        recipient=recipient,
        method=method,
    )
    return register_contacts(organisation=organisation, contacts=[contact], now=now)[0]


def register_contacts(
    *,
    organisation: Organisation,
    contacts: Sequence[ContactInput | Mapping],
    now: datetime | None = None,
) -> list[ContactResult]:
    """register_contact() for many contacts in one transaction and a fixed number of queries;
    the results are in the order of ``contacts``, and equal to registering them one by one (a
    reference or an address that occurs twice is treated as if the first one came first).
    Raises InvalidRecipient (with ``index``) before anything is stored."""
    items = [_prepare(index, data) for index, data in enumerate(contacts)]
    if not items:
        return []
    now = now or timezone.now()
    attempts = 3
    for attempt in range(attempts):
        try:
            # A savepoint: when a reference is registered concurrently, this attempt's rows
            # disappear and the next attempt finds the other registration's contact.
            with transaction.atomic():
                return _register_batch(organisation, items, now)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _decide(organisation: Organisation, items: list[_Item], now: datetime) -> None:
    """Apply the rules in their order to every item that is to be registered."""
    sampling = dict(
        OrganisationChannel.objects.filter(
            organisation=organisation, channel__in={i.data.channel for i in items}, enabled=True
        ).values_list("channel", "sample_one_in")
    )
    hashes = {i.hashed for i in items if i.hashed}
    opted_out = set(
        OptOut.objects.filter(organisation=organisation, address_hash__in=hashes).values_list("address_hash", flat=True)
    )
    cooling = set(
        RecipientCooldown.objects.filter(
            organisation=organisation, address_hash__in=hashes, last_invited_on__gt=_cooldown_cutoff(organisation, now)
        ).values_list("address_hash", flat=True)
    )
    for item in items:
        if item.data.channel not in sampling:
            item.outcome = ContactOutcome.CHANNEL_DISABLED
        elif item.hashed in opted_out:
            item.outcome = ContactOutcome.OPTED_OUT
        elif item.hashed in cooling:
            item.outcome = ContactOutcome.COOLDOWN
        elif not in_sample(sampling[item.data.channel]):
            item.outcome = ContactOutcome.SAMPLED_OUT
        else:
            item.outcome = ContactOutcome.INVITED
            if item.hashed:
                cooling.add(item.hashed)  # a second contact of this person in the same batch
    invited = [i for i in items if i.outcome == ContactOutcome.INVITED and i.hashed]
    claimed = _claim_cooldowns(organisation, [i.hashed for i in invited], now)
    for item in invited:
        if item.hashed not in claimed:  # a simultaneous registration invited this person first
            item.outcome = ContactOutcome.COOLDOWN


def _register_batch(organisation: Organisation, items: list[_Item], now: datetime) -> list[ContactResult]:
    references = {i.data.reference for i in items if i.data.reference}
    existing = {
        contact.reference: contact
        for contact in Contact.objects.select_related("invitation").filter(
            organisation=organisation, reference__in=references
        )
    }
    first_with_reference: dict[str, int] = {}
    new: list[_Item] = []
    for item in items:
        reference = item.data.reference
        if reference in existing:
            continue
        if reference and reference in first_with_reference:
            item.duplicate_of = first_with_reference[reference]
            continue
        if reference:
            first_with_reference[reference] = item.index
        new.append(item)
    _decide(organisation, new, now)

    valid_until = now + timedelta(days=organisation.invitation_valid_days)
    tokens: dict[int, str] = {}
    invitations: dict[int, Invitation] = {}
    for item in new:
        if item.outcome == ContactOutcome.INVITED:
            tokens[item.index] = new_token()
            invitations[item.index] = Invitation(
                organisation=organisation,
                channel=item.data.channel,
                contact_moment=item.data.contact_moment,
                token_hash=hash_token(tokens[item.index]),
                language=item.data.language,
                created_at=now,
                expires_at=valid_until,
            )
    insert_rows(list(invitations.values()))  # bulk_create() with less Python per row (surveys/bulk.py)
    deliveries = {
        item.index: Delivery(
            invitation=invitations[item.index],
            method=item.method,
            recipient=item.address,
            token=tokens[item.index],
        )
        for item in new
        if item.index in invitations and item.method
    }
    Delivery.objects.bulk_create(deliveries.values())
    contacts = {
        item.index: Contact(
            organisation=organisation,
            channel=item.data.channel,
            contact_moment=item.data.contact_moment,
            contact_month=local_month(item.data.contact_moment),
            reference=item.data.reference,
            language=item.data.language,
            outcome=item.outcome,
            invitation=invitations.get(item.index),
            created_at=now,
        )
        for item in new
    }
    insert_rows(list(contacts.values()))
    _record_contact_changes(organisation, contacts, delivered=set(deliveries))
    if deliveries:
        transaction.on_commit(partial(_enqueue_deliveries, [d.pk for d in deliveries.values()]))

    results: dict[int, ContactResult] = {}
    for item in items:
        if item.data.reference in existing:
            results[item.index] = _existing_result(existing[item.data.reference])
        elif item.duplicate_of is not None:
            results[item.index] = _existing_result(contacts[item.duplicate_of])
        else:
            results[item.index] = ContactResult(
                contact=contacts[item.index],
                created=True,
                invited=item.outcome == ContactOutcome.INVITED,
                reason=item.outcome,
                invitation=invitations.get(item.index),
                token=tokens.get(item.index),
                delivery=deliveries.get(item.index),
            )
    return [results[item.index] for item in items]


def _record_contact_changes(organisation: Organisation, contacts: dict[int, Contact], *, delivered: set[int]) -> None:
    """The contacts count in the rollups of their months, and so do invitations without a
    delivery (the caller delivers them: they count as sent when they are made); invitations
    that KTO delivers (``delivered``: their indexes) count once they are sent."""
    registered: Counter[tuple[str, date]] = Counter()
    sent: Counter[tuple[str, date]] = Counter()
    for index, contact in contacts.items():
        registered[contact.channel, contact.contact_month] += 1
        if contact.invitation is not None and index not in delivered:
            sent[contact.channel, contact.contact_month] += 1
    rollups.record_changes(
        [
            RollupChange(
                organisation=organisation,
                channel=channel,
                month=month,
                contacts_registered=registered[channel, month],
                invitations_sent=sent[channel, month],
            )
            for channel, month in sorted(registered)
        ]
    )


def opt_out(*, organisation_id: int, address_hash: str) -> None:
    """Never invite this address (hash) again on behalf of the organisation. Idempotent."""
    OptOut.objects.bulk_create(
        [OptOut(organisation_id=organisation_id, address_hash=address_hash)], ignore_conflicts=True
    )


def is_opted_out(*, organisation_id: int, address_hash: str) -> bool:
    return OptOut.objects.filter(organisation_id=organisation_id, address_hash=address_hash).exists()


# --- delivery (called by the Celery tasks) ----------------------------------------------------


def claim_delivery(delivery_id: int) -> Delivery | None:
    """Take a pending (or to-be-retried) delivery for sending, in one UPDATE: of several workers
    running the same task, exactly one gets the row; the others get None and send nothing."""
    claimed = Delivery.objects.filter(
        pk=delivery_id, status__in=[Delivery.Status.PENDING, Delivery.Status.RETRY]
    ).update(status=Delivery.Status.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    if not claimed:
        return None
    return Delivery.objects.select_related("invitation__organisation").get(pk=delivery_id)


def _finish(delivery: Delivery, *, status: str, invitation_status: str, error: str = "", reference: str = "") -> None:
    """Record the end of a delivery and erase the address and the plain token."""
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status,
            sent_at=now if status == Delivery.Status.SENT else None,
            recipient="",
            token="",
            provider_reference=reference[:100],
            error=error[:1000],
        )
        # The resident may already have used the link (the API hands it to the caller too):
        # only a fresh invitation changes status.
        Invitation.objects.filter(pk=delivery.invitation_id).update(
            status=Case(When(status=InvitationStatus.CREATED, then=Value(invitation_status)), default=F("status")),
            sent_at=now if status == Delivery.Status.SENT else F("sent_at"),
        )
        if status == Delivery.Status.SENT:  # the month's "invitations sent" in the rollups
            invitation = delivery.invitation
            rollups.record_changes(
                [
                    RollupChange(
                        organisation_id=invitation.organisation_id,
                        channel=invitation.channel,
                        month=local_month(invitation.contact_moment),
                        invitations_sent=1,
                    )
                ]
            )


def mark_delivery_sent(delivery: Delivery, *, reference: str = "") -> None:
    _finish(delivery, status=Delivery.Status.SENT, invitation_status=InvitationStatus.SENT, reference=reference)


def mark_delivery_failed(delivery: Delivery, *, error: str) -> None:
    _finish(delivery, status=Delivery.Status.FAILED, invitation_status=InvitationStatus.FAILED, error=error)


def send_delivery(delivery_id: int, *, final_attempt: bool = True) -> str:
    """Claim, send, record: returns "sent", "failed" or "skipped" (claimed elsewhere or done).
    A transient failure releases the claim and re-raises, so that the task retries; on the
    final attempt it is recorded as failed. Either way the address is erased at the end."""
    delivery = claim_delivery(delivery_id)
    if delivery is None:
        return "skipped"
    invitation = delivery.invitation
    if invitation.is_expired() or invitation.status in (InvitationStatus.ANSWERED, InvitationStatus.EXPIRED):
        mark_delivery_failed(delivery, error="Invitation expired or answered before it could be sent")
        return "failed"
    if is_opted_out(organisation_id=invitation.organisation_id, address_hash=address_hash(delivery.recipient)):
        mark_delivery_failed(delivery, error="Recipient unsubscribed before the message was sent")
        return "failed"
    try:
        reference = send_invitation_message(
            invitation, method=delivery.method, recipient=delivery.recipient, token=delivery.token
        )
    except PermanentGatewayError as exc:
        mark_delivery_failed(delivery, error=str(exc))
        return "failed"
    except TransientGatewayError as exc:
        if final_attempt:
            mark_delivery_failed(delivery, error=f"Gave up after {delivery.attempts} attempts: {exc}")
            return "failed"
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.RETRY, claimed_at=None, error=str(exc)[:1000]
        )
        raise
    mark_delivery_sent(delivery, reference=reference)
    return "sent"


@transaction.atomic
def expire_invitations(*, now: datetime | None = None) -> int:
    """Expired, unanswered invitations get status expired; deliveries of expired invitations lose
    any address and token they still hold; interrupted deliveries (see DELIVERY_LEASE) are closed.
    Returns the number of invitations that expired."""
    now = now or timezone.now()
    expired = Invitation.objects.filter(
        expires_at__lte=now, status__in=[InvitationStatus.CREATED, InvitationStatus.SENT, InvitationStatus.OPENED]
    ).update(status=InvitationStatus.EXPIRED)
    Delivery.objects.filter(
        invitation__expires_at__lte=now, status__in=[Delivery.Status.PENDING, Delivery.Status.RETRY]
    ).update(status=Delivery.Status.FAILED, error="Invitation expired before it could be sent")
    Delivery.objects.filter(invitation__expires_at__lte=now).exclude(recipient="", token="").update(
        recipient="", token=""
    )
    for delivery in Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=now - DELIVERY_LEASE):
        mark_delivery_failed(delivery, error="Interrupted while sending; not sent again to avoid a double message")
    return expired
