"""``python manage.py send_reports --period 2018 [--organisation SLUG] [--dry-run]``: send a
period's report to every subscribed recipient who has not had it (see surveys/reports/)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from surveys.organisations.models import Organisation
from surveys.reports import services
from surveys.reports.models import ReportDelivery
from surveys.reports.schedule import parse_period


class Command(BaseCommand):
    help = (
        "Send the yearly (--period 2018) or monthly (--period 2018-11) report to every subscribed "
        "recipient who has not had it yet. A report already sent is never sent again from here: "
        "re-send it from the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="A year (2018) or a month (2018-11).")
        parser.add_argument("--organisation", metavar="SLUG", help="Only this organisation.")
        parser.add_argument("--dry-run", action="store_true", help="Show who would receive it; send nothing.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")

    def handle(self, *args, period: str, organisation: str | None, dry_run: bool, no_progress: bool, **options):
        parsed = parse_period(period)
        if parsed is None:
            raise CommandError(f"--period must be a year (2018) or a month (2018-11), not {period!r}.")
        kind, start = parsed
        organisations = Organisation.objects.order_by("name")
        if organisation:
            organisations = organisations.filter(slug=organisation)
            if not organisations.exists():
                raise CommandError(f"There is no organisation with the slug {organisation!r}.")
        claimed = waiting = 0
        bar = tqdm(list(organisations), desc="Organisations", unit="org", disable=True if no_progress else None)
        for current in bar:
            bar.set_postfix_str(current.slug)
            if dry_run:
                waiting += self.show_recipients(current, kind, start)
                continue
            with transaction.atomic():
                claimed += len(services.claim(current.pk, kind, start))
        if dry_run:
            self.stdout.write(f"Dry run: {waiting} report(s) would be sent; nothing was sent.")
        else:
            self.stdout.write(f"{claimed} report(s) claimed and sent (or queued for the worker).")

    def show_recipients(self, organisation: Organisation, kind: str, start) -> int:
        count = 0
        for subscription in services.subscriptions_for(organisation.pk, kind):
            had = set(
                ReportDelivery.objects.filter(subscription=subscription, kind=kind, period_start=start).values_list(
                    "email", flat=True
                )
            )
            for recipient in subscription.recipients.filter(unsubscribed_at__isnull=True):
                state = "already sent" if recipient.email in had else "would be sent"
                self.stdout.write(f"{organisation.slug}: {subscription.name} → {recipient.email} ({state})")
                count += recipient.email not in had
        return count
