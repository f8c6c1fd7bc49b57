"""Contacts registered by the municipality's systems (through the API), and whether to invite.

The invitation rules, in the order they are applied: channel disabled -> opted out -> cooldown
-> sampled out -> invited. Addresses are only ever compared as keyed hashes (addresses.py). An
invitation with a recipient and a method is sent by a Celery task once the registration
commits; without a method the caller delivers the link."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from surveys.common.bulk import insert_rows
from surveys.common.queue import enqueue
from surveys.common.time import AMSTERDAM, month_of
from surveys.common.tokens import hash_token, new_token
from surveys.organisations.models import Organisation, OrganisationChannel
from surveys.rollups import changes
from surveys.rollups.models import RollupChange

from .addresses import InvalidRecipient, address_hash, normalise_recipient
from .models import Contact, ContactOutcome, Delivery, DeliveryMethod, Invitation, OptOut, RecipientCooldown
from .tasks import send_invitation

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


def registered(contact: Contact) -> ContactResult:
    """The result of a contact registered before (its invitation without links)."""
    return ContactResult(
        contact=contact,
        created=False,
        invited=contact.outcome == ContactOutcome.INVITED and contact.invitation is not None,
        reason=contact.outcome,
        invitation=contact.invitation,
    )


def _enqueue_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        enqueue(send_invitation, delivery_id)


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
            contact_month=month_of(item.data.contact_moment),
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
            results[item.index] = registered(existing[item.data.reference])
        elif item.duplicate_of is not None:
            results[item.index] = registered(contacts[item.duplicate_of])
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
    changes.record(
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
