"""``python manage.py seed_demo``: the demo municipalities, logins and responses (see surveys/demo/)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from surveys.demo import seed as demo


class Command(BaseCommand):
    help = (
        "Create the demo municipalities (Stichtse Vecht, Utrecht) with staff logins and synthetic "
        "responses for 2017-2018 that reproduce the published rapportcijfers. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Multiply the number of responses (e.g. 0.1 for a quick seed); the yearly means stay exact.",
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Run even though DEBUG is off. The demo logins have a published password: never on production.",
        )

    def handle(self, *args, scale: float, no_progress: bool, allow_without_debug: bool, **options):
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "seed_demo creates logins with a published password and only runs with DEBUG on "
                "(use --allow-without-debug for a throw-away database)."
            )
        if not 0 < scale <= 10:
            raise CommandError("--scale must be greater than 0 and at most 10.")
        result = demo.seed_demo(scale=scale, progress_bar=False if no_progress else None)
        self.report(result)

    def report(self, result: demo.SeedResult) -> None:
        write = self.stdout.write
        base = settings.KTO_BASE_URL
        write(
            self.style.SUCCESS(
                f"Demo data ready: {len(result.organisations)} municipalities, "
                f"{result.responses_total:,} responses ({result.responses_created:,} new)."
            )
        )
        write("")
        write(f"Staff logins for {base}/admin/  (DEMO ONLY - the password is public, never use it for real data)")
        for login in result.logins:
            write(f"  {login.username:<22} password: {demo.DEMO_PASSWORD:<16} {login.description}")
        write("")
        write("Try the residents' form (a fresh invitation on every run; each link works once):")
        for links in result.links:
            write(f"  {links.organisation.name}")
            write(f"    invitation form:      {links.form}")
            write(f"    one-click (score 8):  {links.one_click}")
            write(f"    open link (balie):    {links.open}")
