"""Celery entry points: thin, idempotent, take primary keys, call services."""

# --- rollups -----------------------------------------------------------------------------------

from celery import shared_task  # noqa: E402

from . import rollups  # noqa: E402


@shared_task(acks_late=True)
def rollup_pass() -> int:
    """Beat (every two minutes): one rollup job per organisation with pending changes, so that
    more workers share the work. Returns the number of jobs sent."""
    organisation_ids = rollups.pending_organisation_ids()
    for organisation_id in organisation_ids:
        rollup_organisation.delay(organisation_id)
    return len(organisation_ids)


@shared_task(acks_late=True)
def rollup_organisation(organisation_id: int) -> int:
    """Take one organisation's pending changes into its months and years; safe to run twice."""
    return rollups.rollup_organisation(organisation_id).months


# --- invitations: delivery and expiry ----------------------------------------------------------

from . import services  # noqa: E402
from .delivery.gateways import TransientGatewayError  # noqa: E402


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(TransientGatewayError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
)
def send_invitation(self, delivery_id: int) -> str:
    """Send one delivery. The service claims the row first, so a retry or a duplicate task never
    sends twice; transient gateway errors retry with exponential backoff (1, 2, 4, 8, 16 min)."""
    return services.send_delivery(delivery_id, final_attempt=self.request.retries >= self.max_retries)


@shared_task(acks_late=True)
def expire_invitations() -> int:
    """Beat (every 15 minutes): expire unanswered invitations and erase leftover addresses."""
    return services.expire_invitations()
