"""Writes of invitations: creating one, a resident opening it, opting out, expiry."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from surveys.common.queue import enqueue
from surveys.common.time import month_of
from surveys.common.tokens import hash_token, new_token
from surveys.organisations.models import Organisation
from surveys.rollups import changes
from surveys.rollups.models import RollupChange

from .delivery import DELIVERY_LEASE, mark_delivery_unknown
from .models import Delivery, Invitation, InvitationStatus, OptOut
from .tasks import send_invitation

logger = logging.getLogger(__name__)


class InvitationUnavailable(Exception):
    """The token is unknown or the invitation has expired (deliberately indistinguishable)."""


@transaction.atomic
def create_invitation(
    *,
    organisation: Organisation,
    channel: str,
    contact_moment: datetime,
    language: str = "nl",
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """A new invitation and its plain token (returned once; only its hash is stored). The caller
    delivers the link, so the invitation counts as sent in its month's figures."""
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
    changes.record(
        [RollupChange(organisation=organisation, channel=channel, month=month_of(contact_moment), invitations_sent=1)]
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


def opt_out(*, organisation_id: int, address_hash: str) -> None:
    """Never invite this address (hash) again on behalf of the organisation. Idempotent."""
    OptOut.objects.bulk_create(
        [OptOut(organisation_id=organisation_id, address_hash=address_hash)], ignore_conflicts=True
    )


@transaction.atomic
def expire_invitations(*, now: datetime | None = None) -> int:
    """Expired, unanswered invitations get status expired; deliveries of expired invitations lose
    any address and token they still hold.
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
    return expired


# A pending delivery's task reaches a worker within seconds; one still pending after this was not
# queued (the broker was down) or was lost with the broker. A retry waits at most an hour (the
# task's backoff), so one waiting longer than this lost its queued retry.
REQUEUE_PENDING_AFTER = timedelta(minutes=2)
REQUEUE_RETRY_AFTER = timedelta(minutes=70)
REQUEUE_BATCH = 5000


def requeue_deliveries(*, now: datetime | None = None) -> int:
    """Beat (every minute): deliveries a dead worker left "sending" become "unknown" (see
    DELIVERY_LEASE; never sent again); those whose task never reached a worker are queued again.
    Sending claims the row first, so a task queued twice still sends once. Returns how many were
    queued."""
    now = now or timezone.now()
    for delivery in Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=now - DELIVERY_LEASE):
        mark_delivery_unknown(delivery)
    waiting = Delivery.objects.filter(
        Q(status=Delivery.Status.PENDING, queued_at__lt=now - REQUEUE_PENDING_AFTER)
        | Q(status=Delivery.Status.RETRY, queued_at__lt=now - REQUEUE_RETRY_AFTER),
        invitation__expires_at__gt=now,
    )
    due = list(waiting.order_by("queued_at").values_list("pk", flat=True)[:REQUEUE_BATCH])
    Delivery.objects.filter(pk__in=due).update(queued_at=now)  # the next sweep waits its turn again
    queued = sum(enqueue(send_invitation, pk) for pk in due)
    if due:
        logger.info("Re-queued %d of %d deliveries whose task never reached a worker", queued, len(due))
    return queued
