"""Celery entry points of the report e-mails: thin, taking primary keys and ISO dates; each imports
its service when it runs (the services start these tasks). Re-running any of them sends nothing
twice: the deliveries are claimed and taken in the database."""

from datetime import date

from celery import shared_task
from django.utils import timezone


@shared_task(acks_late=True)
def plan_reports() -> int:
    """Beat (daily at 07:00, Amsterdam): on the first working day of a month, one task per
    organisation for each report that is due."""
    from .services import plan

    return len(plan(timezone.now()))


@shared_task(acks_late=True)
def send_organisation_reports(organisation_id: int, kind: str, period: str) -> int:
    """Claim one organisation's reports of a period for all its recipients, then send them."""
    from .services import claim

    return len(claim(organisation_id, kind, date.fromisoformat(period)))


@shared_task(acks_late=True)
def deliver_report(delivery_id: int) -> str:
    from .services import deliver

    return deliver(delivery_id)


@shared_task(acks_late=True)
def settle_report_deliveries() -> dict:
    """Beat (every 5 minutes): deliveries a dead worker left behind become unknown; what was
    claimed while the broker was away, and retries that are due, are queued again."""
    from .services import settle

    return settle()
