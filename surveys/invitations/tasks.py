"""Celery entry points of the invitations: thin, idempotent, taking primary keys; each imports
its service when it runs (the services start these tasks)."""

from celery import shared_task

from .gateways import TransientGatewayError


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
    from .delivery import send_delivery

    return send_delivery(delivery_id, final_attempt=self.request.retries >= self.max_retries)


@shared_task(acks_late=True)
def expire_invitations() -> int:
    """Beat (every 15 minutes): expire unanswered invitations and erase leftover addresses."""
    from .services import expire_invitations

    return expire_invitations()


@shared_task(acks_late=True)
def requeue_deliveries() -> int:
    """Beat (every minute): queue again the deliveries whose task never reached a worker."""
    from .services import requeue_deliveries

    return requeue_deliveries()
