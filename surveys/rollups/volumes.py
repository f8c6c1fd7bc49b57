"""Contact volumes (kerncijfers) imported from the organisation's own systems: a CSV or XLSX file
with the columns organisation (optional when the organisation is given), channel, month (YYYY-MM)
and count. A file is checked completely before anything is written; a file with any wrong row is
refused with every wrong row listed, and nothing is imported."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.common.time import parse_month
from surveys.organisations.models import Channel, Organisation

from . import changes
from .models import ContactVolume, RollupChange

MAX_ROWS = 50_000
COLUMNS = {
    "organisation": ("organisation", "organisatie", "gemeente", "slug"),
    "channel": ("channel", "kanaal"),
    "month": ("month", "maand", "periode"),
    "count": ("count", "aantal", "contacten", "volume"),
}
CHANNEL_NAMES = {
    **{value: value for value in Channel.values},
    "e-mail": Channel.EMAIL,
    "mail": Channel.EMAIL,
    "telefonie": Channel.TELEFOON,
    "phone": Channel.TELEFOON,
    "counter": Channel.BALIE,
    "sociale media": Channel.SOCIAL,
    "social media": Channel.SOCIAL,
    "website": Channel.WEBSITE,
}


@dataclass(frozen=True)
class RowError:
    row: int  # as numbered in a spreadsheet: the header is row 1
    message: str

    def __str__(self) -> str:
        return _("Rij %(row)s: %(message)s") % {"row": self.row, "message": self.message}


class VolumeImportError(Exception):
    """The file was refused; ``errors`` lists what is wrong, by row. Nothing was imported."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


@dataclass(frozen=True)
class VolumeRow:
    row: int
    organisation: Organisation
    channel: str
    month: date
    count: int


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    months: int

    @property
    def rows(self) -> int:
        return self.created + self.updated


def import_volumes(file: BinaryIO, *, filename: str, organisation: Organisation | None = None) -> ImportResult:
    """Read, check and store a volume file; raises VolumeImportError (nothing stored) when any
    row is wrong. With ``organisation`` every row is for that organisation."""
    rows = parse_volumes(read_table(file, filename=filename), organisation=organisation)
    return save_volumes(rows, source=Path(filename).name[:200])


def read_table(file: BinaryIO, *, filename: str) -> list[tuple[int, list[object]]]:
    """The rows of a CSV or XLSX file with their row numbers (1 = the header)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return _read_csv(file.read())
    if suffix == ".xlsx":
        return _read_xlsx(file)
    raise VolumeImportError([RowError(0, _("Kies een CSV- of XLSX-bestand (.csv of .xlsx)."))])


def _read_csv(data: bytes) -> list[tuple[int, list[object]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    first_line = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    return [(number, list(row)) for number, row in enumerate(reader, start=1)]


def _read_xlsx(file: BinaryIO) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise VolumeImportError([RowError(0, _("Dit is geen geldig Excel-bestand (.xlsx)."))]) from exc
    try:
        sheet = workbook.worksheets[0]
        return [(number, list(row)) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_volumes(
    table: list[tuple[int, list[object]]], *, organisation: Organisation | None = None
) -> list[VolumeRow]:
    """Check every row; raises VolumeImportError with all wrong rows."""
    table = [(number, row) for number, row in table if not all(_blank(value) for value in row)]
    if not table:
        raise VolumeImportError([RowError(1, _("Het bestand is leeg."))])
    header_number, header = table[0]
    columns, errors = _columns(header, header_number, organisation_given=organisation is not None)
    if errors:
        raise VolumeImportError(errors)
    if len(table) - 1 > MAX_ROWS:
        raise VolumeImportError([RowError(header_number, _("Te veel rijen: hoogstens %(max)s.") % {"max": MAX_ROWS})])
    organisations = {}
    if "organisation" in columns:
        slugs = {
            str(row[columns["organisation"]]).strip() for _, row in table[1:] if _cell(row, columns["organisation"])
        }
        organisations = {o.slug: o for o in Organisation.objects.filter(slug__in=slugs)}
    rows: list[VolumeRow] = []
    seen: dict[tuple[int, str, date], int] = {}
    for number, row in table[1:]:
        parsed = _parse_row(number, row, columns, organisation, organisations, errors)
        if parsed is None:
            continue
        key = (parsed.organisation.pk, parsed.channel, parsed.month)
        if key in seen:
            errors.append(
                RowError(
                    number, _("Dezelfde organisatie, kanaal en maand staan ook in rij %(row)s.") % {"row": seen[key]}
                )
            )
            continue
        seen[key] = number
        rows.append(parsed)
    if errors:
        raise VolumeImportError(errors)
    if not rows:
        raise VolumeImportError([RowError(header_number, _("Het bestand bevat geen gegevens."))])
    return rows


def _columns(header: list[object], number: int, *, organisation_given: bool) -> tuple[dict[str, int], list[RowError]]:
    names = [str(value).strip().lower() if value is not None else "" for value in header]
    columns = {}
    for column, aliases in COLUMNS.items():
        for index, name in enumerate(names):
            if name in aliases:
                columns[column] = index
                break
    required = ["channel", "month", "count"] + ([] if organisation_given else ["organisation"])
    missing = [column for column in required if column not in columns]
    if not missing:
        return columns, []
    expected = ", ".join(COLUMNS[column][0] for column in required)
    message = _("Kolom ontbreekt: %(missing)s. De eerste rij moet de kolomnamen bevatten: %(expected)s.") % {
        "missing": ", ".join(COLUMNS[column][0] for column in missing),
        "expected": expected,
    }
    return columns, [RowError(number, message)]


def _cell(row: list[object], index: int) -> object:
    value = row[index] if index < len(row) else None
    return value.strip() if isinstance(value, str) else value


def _parse_row(number, row, columns, organisation, organisations, errors) -> VolumeRow | None:
    problems = []
    row_organisation = organisation
    if "organisation" in columns:
        slug = _cell(row, columns["organisation"])
        if _blank(slug):
            if organisation is None:
                problems.append(_("organisatie ontbreekt"))
        elif organisation is not None and str(slug) != organisation.slug:
            problems.append(
                _("organisatie “%(slug)s” is niet %(expected)s") % {"slug": slug, "expected": organisation.slug}
            )
        elif organisation is None:
            row_organisation = organisations.get(str(slug))
            if row_organisation is None:
                problems.append(_("onbekende organisatie “%(slug)s”") % {"slug": slug})
    channel = _channel(_cell(row, columns["channel"]))
    if channel is None:
        problems.append(
            _("onbekend kanaal “%(value)s” (gebruik %(choices)s)")
            % {"value": _cell(row, columns["channel"]) or "", "choices": ", ".join(Channel.values)}
        )
    month = _month(_cell(row, columns["month"]))
    if month is None:
        problems.append(
            _("maand “%(value)s” is geen maand als 2018-03") % {"value": _cell(row, columns["month"]) or ""}
        )
    count = _count(_cell(row, columns["count"]))
    if count is None:
        problems.append(
            _("aantal “%(value)s” is geen geheel getal van 0 of meer") % {"value": _cell(row, columns["count"]) or ""}
        )
    if problems:
        errors.append(RowError(number, "; ".join(problems)))
        return None
    return VolumeRow(number, row_organisation, channel, month, count)


def _channel(value: object) -> str | None:
    if _blank(value):
        return None
    name = str(value).strip().lower()
    if name in CHANNEL_NAMES:
        return CHANNEL_NAMES[name]
    labels = {str(label).lower(): value for value, label in Channel.choices}
    return labels.get(name)


def _month(value: object) -> date | None:
    if isinstance(value, datetime | date):  # a spreadsheet's date: a calendar day, not a moment
        return date(value.year, value.month, 1)
    return None if _blank(value) else parse_month(str(value))


def _count(value: object) -> int | None:
    if isinstance(value, bool) or _blank(value):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        number = int(value)
    else:
        text = str(value).strip()
        if not text.isdigit():
            return None
        number = int(text)
    return number if 0 <= number <= 2_000_000_000 else None


def _lock(organisation_ids: list[int]) -> None:
    """One write of an organisation's volumes at a time: a difference is taken against the
    stored counts."""
    list(Organisation.objects.select_for_update().filter(pk__in=organisation_ids).order_by("pk").values("pk"))


def _imported(organisation_id: int, channel: str, month: date, count: int) -> RollupChange:
    return RollupChange(organisation_id=organisation_id, channel=channel, month=month, contacts_imported=count)


@transaction.atomic
def save_volumes(rows: list[VolumeRow], *, source: str = "") -> ImportResult:
    """Store checked rows (replacing earlier imports of the same organisation, channel and month)
    and record the difference for the rollups of their months; all or nothing."""
    now = timezone.now()
    organisation_ids = sorted({row.organisation.pk for row in rows})
    _lock(organisation_ids)
    existing = {
        (organisation_id, channel, month): count
        for organisation_id, channel, month, count in ContactVolume.objects.filter(
            organisation_id__in=organisation_ids
        ).values_list("organisation_id", "channel", "month", "count")
    }
    ContactVolume.objects.bulk_create(
        [
            ContactVolume(
                organisation=row.organisation,
                channel=row.channel,
                month=row.month,
                count=row.count,
                source=source,
                imported_at=now,
            )
            for row in rows
        ],
        update_conflicts=True,
        unique_fields=["organisation", "channel", "month"],
        update_fields=["count", "source", "imported_at"],
        batch_size=1000,
    )
    changes.record(
        _imported(
            row.organisation.pk,
            row.channel,
            row.month,
            row.count - existing.get((row.organisation.pk, row.channel, row.month), 0),
        )
        for row in rows
    )
    months = {(row.organisation.pk, row.month) for row in rows}
    updated = sum((row.organisation.pk, row.channel, row.month) in existing for row in rows)
    return ImportResult(created=len(rows) - updated, updated=updated, months=len(months))


@transaction.atomic
def save_volume(volume: ContactVolume) -> None:
    """Store one new or edited volume (the admin's form) and record what it changes."""
    _lock([volume.organisation_id])
    stored = ContactVolume.objects.filter(pk=volume.pk).values_list("organisation_id", "channel", "month", "count")
    taken_away = [_imported(*row[:3], -row[3]) for row in stored] if volume.pk else []
    volume.save()
    changes.record([*taken_away, _imported(volume.organisation_id, volume.channel, volume.month, volume.count)])


@transaction.atomic
def delete_volumes(volumes: QuerySet[ContactVolume]) -> None:
    """Delete volumes (the admin) and take them out of the figures."""
    _lock(sorted(set(volumes.values_list("organisation_id", flat=True))))
    stored = list(volumes.values_list("organisation_id", "channel", "month", "count"))
    volumes.delete()
    changes.record(_imported(*row[:3], -row[3]) for row in stored)


__all__ = [
    "ImportResult",
    "RowError",
    "VolumeImportError",
    "delete_volumes",
    "import_volumes",
    "parse_volumes",
    "save_volume",
    "save_volumes",
]
