"""Every way a follow-up item is opened, worked on and closed; the contact details' erasure."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from surveys.responses.masking import mask_personal_data
from surveys.responses.models import Response

from .models import FollowUp, FollowUpContact, FollowUpStatus


def needs_follow_up(response: Response, *, contact: str = "") -> bool:
    """A score below the organisation's threshold, with a comment or a way to reach the resident."""
    below = response.score < response.organisation.follow_up_below
    return below and bool(response.comment or contact)


def open_follow_up(response: Response, *, contact: str = "", now: datetime | None = None) -> FollowUp | None:
    """The item for a low score (once per response); None when it needs none."""
    if not needs_follow_up(response, contact=contact):
        return None
    now = now or timezone.now()
    item, created = FollowUp.objects.get_or_create(
        response=response,
        defaults={
            "organisation_id": response.organisation_id,
            "created_at": now,
            "due_at": now + timedelta(days=settings.KTO_FOLLOW_UP_DAYS),
        },
    )
    if contact and created:
        FollowUpContact.objects.create(
            follow_up=item, address=contact, erase_at=now + timedelta(days=settings.KTO_FOLLOW_UP_CONTACT_DAYS)
        )
    return item


@transaction.atomic
def update_follow_up(item: FollowUp, *, status: str, assigned_to, note: str) -> FollowUp:
    """A staff member's change: the note is masked as comments are; closing erases the contact."""
    item.status = status
    item.assigned_to = assigned_to
    item.note = mask_personal_data(note or "")
    item.closed_at = (item.closed_at or timezone.now()) if status == FollowUpStatus.DONE else None
    item.save()
    if status == FollowUpStatus.DONE:
        FollowUpContact.objects.filter(follow_up=item).delete()
    return item


def erase_expired_contacts(*, now: datetime | None = None) -> int:
    """Contact details past their date (daily, with retention); the number erased."""
    deleted, _ = FollowUpContact.objects.filter(erase_at__lte=now or timezone.now()).delete()
    return deleted


def queue_counts(organisation_id: int, *, now: datetime | None = None) -> dict[str, int]:
    open_items = FollowUp.objects.filter(organisation_id=organisation_id).exclude(status=FollowUpStatus.DONE)
    return {
        "open": open_items.count(),
        "overdue": open_items.filter(due_at__lt=now or timezone.now()).count(),
    }
