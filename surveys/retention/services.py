"""Erasing and deleting what is past its retention period.

Per organisation: comments submitted more than ``comment_retention_months`` ago are erased (the
response and its score stay); responses (with their answers), contacts and invitations (with
their deliveries) of the months more than ``response_retention_months`` back are deleted; an
address's last invitation date goes once its cooldown has passed. All in batches, each batch
its own short transaction, so residents' writes never wait long.

The figures stay as they are: a deletion records no change for the rollups, so the month and
year rows keep counting what was deleted. Before it deletes, the job moves the organisation's
``raw_data_kept_from`` to the first month it keeps; a recount never recounts an earlier month
(surveys/rollups/recount.py), whose rollups are from then on the record.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from surveys.common.time import AMSTERDAM, add_months, month_of
from surveys.invitations.models import Contact, Invitation, RecipientCooldown
from surveys.organisations.models import Organisation
from surveys.reports.models import ReportDelivery
from surveys.responses.models import Response

from .models import RetentionRun

logger = logging.getLogger(__name__)


def cutoffs(organisation: Organisation, now: datetime) -> tuple[datetime, date]:
    """Comments submitted before the first moment are erased; raw data of the months before the
    second (a month's first day) is deleted."""
    local = now.astimezone(AMSTERDAM)
    month = add_months(month_of(local), -organisation.comment_retention_months)
    day = min(local.day, _days_in(month))
    comments_before = local.replace(year=month.year, month=month.month, day=day)
    return comments_before, add_months(month_of(local), -organisation.response_retention_months)


def local_date(moment: datetime) -> date:
    return moment.astimezone(AMSTERDAM).date()


def _days_in(month: date) -> int:
    return (add_months(month, 1) - month).days


def apply_retention(*, now: datetime | None = None) -> list[RetentionRun]:
    """The daily job: every organisation's retention, one after the other."""
    now = now or timezone.now()
    return [apply_organisation_retention(organisation, now=now) for organisation in Organisation.objects.order_by("id")]


def apply_organisation_retention(organisation: Organisation, *, now: datetime | None = None) -> RetentionRun:
    now = now or timezone.now()
    comments_before, raw_data_before = cutoffs(organisation, now)
    Organisation.objects.filter(pk=organisation.pk).filter(
        Q(raw_data_kept_from__isnull=True) | Q(raw_data_kept_from__lt=raw_data_before)
    ).update(raw_data_kept_from=raw_data_before)
    responses = Response.objects.filter(organisation=organisation)
    run = RetentionRun(
        organisation=organisation,
        ran_at=now,
        comments_before=comments_before,
        raw_data_before=raw_data_before,
        responses_deleted=_deleted(responses.filter(contact_month__lt=raw_data_before)),
        contacts_deleted=_deleted(Contact.objects.filter(organisation=organisation, contact_month__lt=raw_data_before)),
        invitations_deleted=_deleted(
            Invitation.objects.filter(
                organisation=organisation,
                contact_moment__lt=datetime.combine(raw_data_before, datetime.min.time(), tzinfo=AMSTERDAM),
                response__isnull=True,
            )
        ),
        # An address's last invitation date (as its keyed hash) serves only its cooldown.
        cooldowns_deleted=_deleted(
            RecipientCooldown.objects.filter(
                organisation=organisation,
                last_invited_on__lt=local_date(now) - timedelta(days=organisation.invitation_cooldown_days),
            )
        ),
        # Of the responses that stay (keyword arguments are evaluated in order).
        comments_erased=_in_batches(
            responses.filter(submitted_at__lt=comments_before).exclude(comment=""),
            lambda batch: batch.update(comment=""),
        ),
    )
    run.save()
    reports = _report_copies(organisation, comments_before, raw_data_before)
    logger.info(
        "Retention of %s: %d comments erased (submitted before %s); %d responses, %d contacts and %d "
        "invitations deleted (months before %s); %d cooldowns deleted; %d sent reports' comments erased, "
        "%d sent reports deleted",
        organisation.slug,
        run.comments_erased,
        comments_before.date(),
        run.responses_deleted,
        run.contacts_deleted,
        run.invitations_deleted,
        raw_data_before,
        run.cooldowns_deleted,
        *reports,
    )
    return run


def _report_copies(organisation: Organisation, comments_before: datetime, raw_data_before: date) -> tuple[int, int]:
    """A sent monthly report keeps the month's lowest-scored comments: they go no later than the
    comments themselves (the report of a month loses them once the month's first comments may
    have gone); a sent report of the months whose raw data is deleted goes with it."""
    deliveries = ReportDelivery.objects.filter(organisation=organisation)
    erased = deliveries.filter(period_start__lte=month_of(comments_before)).exclude(comments=[]).update(comments=[])
    deleted, _by_model = deliveries.filter(period_start__lt=raw_data_before).delete()
    return erased, deleted


def _in_batches(queryset: models.QuerySet, action) -> int:
    """``action`` on the rows of ``queryset``, at most KTO_RETENTION_BATCH at a time, each batch in
    its own transaction; the number of rows it reports in total."""
    total = 0
    while ids := list(queryset.order_by("pk").values_list("pk", flat=True)[: settings.KTO_RETENTION_BATCH]):
        with transaction.atomic():
            total += action(queryset.model.objects.filter(pk__in=ids))
    return total


def _deleted(queryset: models.QuerySet) -> int:
    """Delete the rows in batches (their cascades with them); the number of ``queryset``'s rows."""
    return _in_batches(queryset, lambda batch: batch.delete()[1].get(queryset.model._meta.label, 0))
