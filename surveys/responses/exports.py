"""Exports of the responses list as CSV or XLSX: streamed row by row from a server-side cursor, so
that a million responses take no more memory than a thousand; every cell that a spreadsheet would
run as a formula is defused; every export is logged (ExportLog and the log)."""

from __future__ import annotations

import csv
import logging
import tempfile
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from .models import ExportLog, Response

logger = logging.getLogger(__name__)

CHUNK = 2000
FIELDS = [
    ("submitted_at", _("ingevuld")),
    ("contact_month", _("maand van contact")),
    ("channel", _("kanaal")),
    ("score", _("rapportcijfer")),
    ("comment", _("toelichting")),
    ("source", _("bron")),
    ("language", _("taal")),
    ("survey_version__number", _("versie")),
    ("is_complete", _("volledig")),
]
# What a spreadsheet takes for the start of a formula (OWASP's CSV injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defused(value: object) -> object:
    """A text cell that starts like a formula gets a leading apostrophe: shown, never run."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _rows(queryset: QuerySet[Response]) -> Iterator[tuple]:
    for row in queryset.order_by("-submitted_at", "-pk").values_list(*[f for f, _label in FIELDS]).iterator(CHUNK):
        submitted_at, month, *rest = row
        yield (timezone.localtime(submitted_at).strftime("%Y-%m-%d %H:%M"), month.strftime("%Y-%m"), *rest)


def start(request, file_format: str, organisation_id: int | None) -> ExportLog:
    log = ExportLog.objects.create(
        organisation_id=organisation_id,
        user=request.user,
        username=request.user.get_username(),
        file_format=file_format,
        filters=request.GET.urlencode(),
    )
    logger.info("Export %s of responses by %s started (filter: %s)", file_format, log.username, log.filters or "-")
    return log


def _finish(log: ExportLog, rows: int) -> None:
    ExportLog.objects.filter(pk=log.pk).update(rows=rows)
    logger.info("Export %s of responses by %s: %d rows", log.file_format, log.username, rows)


class _Line:
    """A file-like object for csv.writer that hands back the line it was given."""

    def write(self, value: str) -> str:
        return value


def csv_lines(queryset: QuerySet[Response], log: ExportLog) -> Iterator[str]:
    """The CSV file line by line (UTF-8 with a BOM and semicolons, as Dutch Excel expects)."""
    writer = csv.writer(_Line(), delimiter=";")
    yield "\ufeff" + writer.writerow([str(label) for _field, label in FIELDS])
    count = 0
    for count, row in enumerate(_rows(queryset), start=1):  # noqa: B007 - the count is the last row's
        yield writer.writerow([defused(value) for value in row])
    _finish(log, count)


def xlsx_file(queryset: QuerySet[Response], log: ExportLog):
    """The XLSX file, written row by row (openpyxl's write-only mode) to a temporary file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Reacties"))
    sheet.append([str(label) for _field, label in FIELDS])
    count = 0
    for count, row in enumerate(_rows(queryset), start=1):  # noqa: B007
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text: "=HYPERLINK(...)" is not run
            cells.append(cell)
        sheet.append(cells)
    output = tempfile.TemporaryFile()
    workbook.save(output)
    output.seek(0)
    _finish(log, count)
    return output
