"""``python manage.py rollup``: the incremental rollup pass in this process (takes in the pending
changes); ``--full`` recounts everything (optionally for one organisation and from a year on)."""

from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from surveys.common.time import parse_month
from surveys.organisations.models import Organisation
from surveys.rollups.incremental import RollupResult, pending_organisation_ids, rollup_incremental
from surveys.rollups.recount import rollup_full


class Command(BaseCommand):
    help = "Take the pending changes into the rollups (default) or recount everything (--full)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Recount every month from the sources (also a repair).")
        parser.add_argument("--organisation", metavar="SLUG", help="Only this organisation.")
        parser.add_argument(
            "--from", dest="since", metavar="YYYY-MM", help="With --full: only from this month's year on."
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            metavar="N",
            help="Without --full: share the organisations out over N connections working at the same time.",
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
        month = parse_month(since) if since else None
        if since and month is None:
            raise CommandError(f"--from expects a month as YYYY-MM, not {since!r}.")
        if jobs < 1:
            raise CommandError(f"--jobs expects 1 or more jobs, not {jobs}.")
        if jobs > 1 and full:
            raise CommandError("--jobs only goes with the incremental pass, not with --full.")

        def progress(iterable):
            return tqdm(iterable, desc="Rollup", unit="step", disable=True if no_progress else None)

        if full:
            result = rollup_full(organisation_ids=organisation_ids, since=month, progress=progress)
        elif jobs > 1:
            result = self.in_jobs(jobs, organisation_ids)
        else:
            result = rollup_incremental(organisation_ids=organisation_ids)
        message = (
            f"Rolled up {result.organisations} organisation(s): "
            f"{result.score_rows} score row(s), {result.contact_rows} contact row(s) written."
        )
        if result.skipped:
            message += f" Skipped {len(result.skipped)} organisation(s) busy in another job (their changes wait)."
        self.stdout.write(self.style.SUCCESS(message))

    @staticmethod
    def in_jobs(jobs: int, organisation_ids: list[int] | None) -> RollupResult:
        """The pass with the organisations shared out over ``jobs`` threads, each on a connection
        of its own (as more Celery workers would share them)."""
        ids = pending_organisation_ids()
        if organisation_ids is not None:
            ids = sorted(set(ids) & set(organisation_ids))

        def share(part: list[int]) -> RollupResult:
            try:
                return rollup_incremental(organisation_ids=part)
            finally:
                connection.close()

        result = RollupResult()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for part in pool.map(share, [ids[i::jobs] for i in range(jobs)]):
                result += part
        return result
