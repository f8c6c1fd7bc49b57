"""Celery entry point of retention (beat, daily at night); it imports its service when it runs."""

from celery import shared_task


@shared_task(acks_late=True)
def apply_retention() -> int:
    """Erase and delete what is past every organisation's retention period; the rows it touched."""
    from surveys.followups.services import erase_expired_contacts

    from .services import apply_retention

    runs = apply_retention()
    return erase_expired_contacts() + sum(
        run.comments_erased
        + run.responses_deleted
        + run.contacts_deleted
        + run.invitations_deleted
        + run.cooldowns_deleted
        for run in runs
    )
