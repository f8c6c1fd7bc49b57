"""Sending one delivery (called by the send_invitation task): claim it, send it, record the end.
At most once: of several workers running the same task exactly one claims the row, and a
delivery interrupted while sending is never sent again (a resident may get no message, but
never two). The address and the plain token are erased when the delivery ends."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from surveys.common.time import month_of
from surveys.rollups import changes
from surveys.rollups.models import RollupChange

from .addresses import address_hash
from .gateways import PermanentGatewayError, TransientGatewayError
from .messages import send_invitation_message
from .models import Delivery, Invitation, InvitationStatus
from .selectors import is_opted_out

# A delivery claimed this long ago and still "sending" was interrupted: sending is one call to
# the gateway (at most 5 s to connect and 15 s to read) or to the SMTP server (EMAIL_TIMEOUT), so
# a live worker has long finished. It is not sent again: a resident may get no message, never two.
DELIVERY_LEASE = timedelta(minutes=2)


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
    # A delivery whose fate is unknown counts as sent: it was handed to the gateway, which nearly
    # always means it went out (an invitation that did not arrive just stays unanswered).
    sent = status in (Delivery.Status.SENT, Delivery.Status.UNKNOWN)
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
            sent_at=now if sent else F("sent_at"),
        )
        if sent:  # the month's "invitations sent"
            invitation = delivery.invitation
            changes.record(
                [
                    RollupChange(
                        organisation_id=invitation.organisation_id,
                        channel=invitation.channel,
                        month=month_of(invitation.contact_moment),
                        invitations_sent=1,
                    )
                ]
            )


def mark_delivery_sent(delivery: Delivery, *, reference: str = "") -> None:
    _finish(delivery, status=Delivery.Status.SENT, invitation_status=InvitationStatus.SENT, reference=reference)


def mark_delivery_failed(delivery: Delivery, *, error: str) -> None:
    _finish(delivery, status=Delivery.Status.FAILED, invitation_status=InvitationStatus.FAILED, error=error)


def mark_delivery_unknown(delivery: Delivery) -> None:
    _finish(
        delivery,
        status=Delivery.Status.UNKNOWN,
        invitation_status=InvitationStatus.SENT,
        error="Interrupted while sending: the message may or may not have gone out; not sent again",
    )


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
            status=Delivery.Status.RETRY, claimed_at=None, queued_at=timezone.now(), error=str(exc)[:1000]
        )
        raise
    mark_delivery_sent(delivery, reference=reference)
    return "sent"
