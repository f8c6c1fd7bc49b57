"""``python manage.py import_volumes FILE [--organisation SLUG]``: contact volumes from CSV or XLSX."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from surveys.organisations.models import Organisation
from surveys.rollups.volumes import VolumeImportError, import_volumes


class Command(BaseCommand):
    help = (
        "Import monthly contact volumes (kerncijfers) per channel from a CSV or XLSX file with the columns "
        "organisation, channel, month (YYYY-MM) and count; a column kerncijfer adds values of the organisation's "
        "own kerncijfers (month: YYYY or YYYY-MM). A file with any wrong row is refused as a whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv or .xlsx file; the first row holds the column names.")
        parser.add_argument(
            "--organisation",
            metavar="SLUG",
            help="Import every row for this organisation (the organisation column may then be left out).",
        )

    def handle(self, *args, file: str, organisation: str | None, **options):
        target = None
        if organisation:
            target = Organisation.objects.filter(slug=organisation).first()
            if target is None:
                raise CommandError(f"Unknown organisation {organisation!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            with path.open("rb") as handle:
                result = import_volumes(handle, filename=path.name, organisation=target)
        except VolumeImportError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"{path.name} was not imported: {len(exc.errors)} wrong row(s), nothing changed."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.created + result.updated} volume(s) from {path.name}: {result.created} new, "
                f"{result.updated} replaced, and {result.kerncijfers} kerncijfer value(s); the figures of "
                f"{result.months} month(s) follow with the next rollup pass."
            )
        )
