"""Reads of invitations, deliveries and opt-outs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from surveys.organisations.models import Organisation

from .models import Contact, Delivery, Invitation, InvitationStatus, OptOut

_OPEN = (InvitationStatus.CREATED, InvitationStatus.SENT, InvitationStatus.OPENED, InvitationStatus.FAILED)


def is_opted_out(*, organisation_id: int, address_hash: str) -> bool:
    return OptOut.objects.filter(organisation_id=organisation_id, address_hash=address_hash).exists()


def invitation_status(invitation: Invitation, now: datetime | None = None) -> str:
    """The status as a resident would find it: an unanswered invitation past its expiry is
    expired, also before the periodic expiry task has said so."""
    if invitation.status in _OPEN and invitation.is_expired(now):
        return InvitationStatus.EXPIRED
    return invitation.status


def deliveries_of(invitation_ids: Iterable[int]) -> dict[int, Delivery]:
    """The deliveries of these invitations by invitation id (one query; none for no ids)."""
    ids = list(invitation_ids)
    if not ids:
        return {}
    deliveries = Delivery.objects.filter(invitation_id__in=ids).only("invitation_id", "method", "status")
    return {delivery.invitation_id: delivery for delivery in deliveries}


def contact_of(organisation: Organisation, pk: int) -> Contact | None:
    """One of the organisation's contacts, with its invitation; None for another's."""
    return Contact.objects.filter(organisation=organisation, pk=pk).select_related("invitation").first()
