"""``python manage.py rollup``: the incremental rollup pass in this process (takes in the pending
changes); ``--full`` recounts everything (optionally for one organisation and from a month on)."""

from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from surveys import rollups
from surveys.models import Organisation


def month(value: str) -> date:
    try:
        parsed = datetime.strptime(value, "%Y-%m")  # noqa: DTZ007 - a calendar month
    except ValueError as exc:
        raise CommandError(f"--from expects a month as YYYY-MM, not {value!r}.") from exc
    return date(parsed.year, parsed.month, 1)


class Command(BaseCommand):
    help = "Take the pending changes into the rollups (default) or recount everything (--full)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Recount every month from the sources (also a repair).")
        parser.add_argument("--organisation", metavar="SLUG", help="Only this organisation.")
        parser.add_argument("--from", dest="since", metavar="YYYY-MM", help="With --full: only from this month on.")
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            metavar="N",
            help="Without --full: share the organisations out over N jobs working at the same time (PostgreSQL).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")

    def handle(
        self, *args, full: bool, organisation: str | None, since: str | None, jobs: int, no_progress: bool, **options
    ):
        organisation_ids = None
        if organisation:
            found = Organisation.objects.filter(slug=organisation).values_list("id", flat=True).first()
            if found is None:
                raise CommandError(f"Unknown organisation {organisation!r}.")
            organisation_ids = [found]
        if since and not full:
            raise CommandError("--from only goes with --full.")
        if jobs < 1:
            raise CommandError(f"--jobs expects 1 or more jobs, not {jobs}.")
        if jobs > 1 and full:
            raise CommandError("--jobs only goes with the incremental pass, not with --full.")
        disable = True if no_progress else None

        def progress(iterable):
            return tqdm(iterable, desc="Rollup", unit="org", disable=disable)

        if full:
            result = rollups.rollup_full(
                organisation_ids=organisation_ids, since=month(since) if since else None, progress=progress
            )
        else:
            result = rollups.rollup_incremental(organisation_ids=organisation_ids, jobs=jobs, progress=progress)
        message = (
            f"Rolled up {result.organisations} organisation(s), {result.months} month(s): "
            f"{result.score_rows} score row(s), {result.contact_rows} contact row(s)."
        )
        if result.skipped:
            message += (
                f" Skipped {len(result.skipped)} organisation(s) busy in another job or being written to"
                " (their changes wait)."
            )
        self.stdout.write(self.style.SUCCESS(message))
