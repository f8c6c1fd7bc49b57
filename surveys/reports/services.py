"""Sending the report e-mails, never twice.

1. **Claim**: one ``ReportDelivery`` row per subscription, recipient and period is inserted, with
   the report's figures, before anything is sent; the unique constraint decides, so a second beat,
   a second worker or a retried task claims nothing new.
2. **Take**: a conditional UPDATE moves the row from ``pending`` (or ``retry``) to ``sending``;
   only the worker whose UPDATE changed the row sends.
3. **Confirm**: ``sent``; an error (SMTP or otherwise) makes it ``retry`` with backoff and, after
   the last attempt, ``failed``.

A worker that dies between taking and confirming leaves ``sending``: after ``STALE_SENDING`` the
sweep marks it ``unknown`` (the mail may or may not have gone out) and it is sent again only when
someone asks in the admin. The sweep also re-queues what was claimed while the broker was away and
what waits for its next attempt."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from surveys.common.queue import enqueue
from surveys.organisations.models import Organisation

from .figures import lowest_comments, report_figures
from .mail import report_email
from .models import DeliveryState, ReportDelivery, ReportKind, ReportSubscription
from .schedule import due_reports
from .tasks import deliver_report, send_organisation_reports

logger = logging.getLogger(__name__)

BACKOFF = [timedelta(minutes=minutes) for minutes in (5, 15, 45, 120)]
MAX_ATTEMPTS = len(BACKOFF) + 1
STALE_SENDING = timedelta(minutes=5)  # far above the SMTP timeout: a live worker has finished by then
REQUEUE_PENDING_AFTER = timedelta(minutes=5)
LOST_WORKER = "The worker stopped while sending: the mail may or may not have gone out."


def subscriptions_for(organisation_id: int | None, kind: str):
    """The active subscriptions to ``kind`` (of one organisation, or of all)."""
    wanted = Q(monthly=True) if kind == ReportKind.MONTH else Q(yearly=True)
    subscriptions = ReportSubscription.objects.filter(wanted, active=True)
    return subscriptions.filter(organisation_id=organisation_id) if organisation_id else subscriptions


def plan(moment: datetime) -> list[tuple[int, str, date]]:
    """The beat's daily run at 07:00: one task per organisation and due report."""
    planned = []
    for kind, period in due_reports(moment):
        subscriptions = subscriptions_for(None, kind)
        for organisation_id in subscriptions.values_list("organisation_id", flat=True).distinct():
            planned.append((organisation_id, kind, period))
    for organisation_id, kind, period in planned:
        transaction.on_commit(partial(enqueue, send_organisation_reports, organisation_id, kind, period.isoformat()))
    return planned


def claim(organisation_id: int, kind: str, period: date, *, subscription_ids: list[int] | None = None) -> list[int]:
    """Claim the report of ``period`` for every active recipient of the organisation's
    subscriptions (or of the given ones) that has none yet; the claimed rows are sent once this
    transaction commits. Returns the new deliveries' ids."""
    organisation = Organisation.objects.get(pk=organisation_id)
    subscriptions = subscriptions_for(organisation_id, kind)
    if subscription_ids is not None:
        subscriptions = subscriptions.filter(pk__in=subscription_ids)
    claimed = []
    for subscription in subscriptions:
        recipients = list(subscription.recipients.filter(unsubscribed_at__isnull=True).values_list("email", flat=True))
        if not recipients:
            continue
        figures = report_figures(organisation, kind, period, subscription.channels, subscription.language)
        comments = lowest_comments(organisation, period, subscription.channels) if kind == ReportKind.MONTH else []
        for email in recipients:
            delivery, created = ReportDelivery.objects.get_or_create(
                subscription=subscription,
                email=email,
                kind=kind,
                period_start=period,
                defaults={
                    "organisation": organisation,
                    "language": subscription.language,
                    "figures": figures,
                    "comments": comments,
                },
            )
            if created:
                claimed.append(delivery.pk)
    transaction.on_commit(partial(_enqueue, claimed))
    return claimed


def _enqueue(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        enqueue(deliver_report, delivery_id)


def deliver(delivery_id: int, *, now: datetime | None = None) -> str:
    """Send one claimed delivery, if this worker is the one that takes it. Returns its state."""
    now = now or timezone.now()
    taken = ReportDelivery.objects.filter(
        Q(state=DeliveryState.PENDING) | Q(state=DeliveryState.RETRY, next_attempt_at__lte=now), pk=delivery_id
    ).update(state=DeliveryState.SENDING, sending_since=now, attempts=F("attempts") + 1)
    delivery = ReportDelivery.objects.select_related("organisation", "subscription").filter(pk=delivery_id).first()
    if delivery is None or not taken:
        return delivery.state if delivery else "missing"
    recipient = delivery.subscription.recipients.filter(email=delivery.email).first()
    if not delivery.subscription.active or recipient is None or recipient.unsubscribed_at:
        return _settle(delivery, DeliveryState.SKIPPED, last_error="")
    try:
        report_email(delivery, recipient).send()
    except Exception as error:  # an SMTP error, or a report that cannot be drawn: retried, then shown
        logger.warning("Report delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, error)
        if delivery.attempts >= MAX_ATTEMPTS:
            return _settle(delivery, DeliveryState.FAILED, last_error=f"{type(error).__name__}: {error}"[:2000])
        return _settle(
            delivery,
            DeliveryState.RETRY,
            last_error=f"{type(error).__name__}: {error}"[:2000],
            next_attempt_at=now + BACKOFF[delivery.attempts - 1],
        )
    logger.info("Report delivery %s sent (%s %s)", delivery.pk, delivery.kind, delivery.period_label)
    return _settle(delivery, DeliveryState.SENT, last_error="", sent_at=timezone.now(), sent_count=F("sent_count") + 1)


def _settle(delivery: ReportDelivery, state: str, **fields) -> str:
    # Only from "sending": a row the sweep meanwhile called unknown is settled too, since now it is known.
    ReportDelivery.objects.filter(pk=delivery.pk, state__in=[DeliveryState.SENDING, DeliveryState.UNKNOWN]).update(
        state=state, **fields
    )
    return state


def settle(*, now: datetime | None = None) -> dict[str, int]:
    """The beat's sweep (every few minutes): rows left ``sending`` by a worker that died become
    ``unknown``; rows claimed but never taken (the broker was away) and retries that are due are
    queued again (taking them is conditional, so a duplicate task sends nothing)."""
    now = now or timezone.now()
    stale = ReportDelivery.objects.filter(state=DeliveryState.SENDING, sending_since__lt=now - STALE_SENDING)
    unknown = stale.update(state=DeliveryState.UNKNOWN, last_error=LOST_WORKER)
    due = list(
        ReportDelivery.objects.filter(
            Q(state=DeliveryState.PENDING, claimed_at__lt=now - REQUEUE_PENDING_AFTER)
            | Q(state=DeliveryState.RETRY, next_attempt_at__lte=now)
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(partial(_enqueue, due))
    return {"unknown": unknown, "queued": len(due)}


def resend(delivery_ids: list[int], *, user) -> int:
    """Send again by hand (a failed, unknown, skipped or already sent report), with the figures
    it was first sent with. Returns how many were queued."""
    now = timezone.now()
    ids = list(
        ReportDelivery.objects.filter(pk__in=delivery_ids)
        .exclude(state__in=[DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.RETRY])
        .values_list("pk", flat=True)
    )
    ReportDelivery.objects.filter(pk__in=ids).update(
        state=DeliveryState.PENDING, attempts=0, next_attempt_at=None, claimed_at=now, resent_by=user
    )
    transaction.on_commit(partial(_enqueue, ids))
    return len(ids)
