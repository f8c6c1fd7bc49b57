"""Kerncijfers imported from the organisation's own systems: a CSV or XLSX file (tables.py) with
the columns organisation (optional when the organisation is given), channel, month (YYYY-MM) and
count: the contact volumes per channel. A column kerncijfer adds the municipality's own figures
(kerncijfers.py): a row that names one gives its value for the month or year in month. A file is
checked completely before anything is written; a file with any wrong row is refused with every
wrong row listed, and nothing is imported."""

from __future__ import annotations

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

from . import changes, kerncijfers
from .models import ContactVolume, RollupChange
from .tables import RowError, VolumeImportError, blank, cell, find_columns, read_table

MAX_ROWS = 50_000
COLUMNS = {
    "organisation": ("organisation", "organisatie", "gemeente", "slug"),
    "figure": ("kerncijfer", "figure", "key figure"),
    "channel": ("channel", "kanaal"),
    "month": ("month", "maand", "periode", "period"),
    "count": ("count", "aantal", "contacten", "volume", "value", "waarde"),
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
    kerncijfers: int = 0  # values of the organisation's own kerncijfers, new or replaced

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.kerncijfers


def import_volumes(file: BinaryIO, *, filename: str, organisation: Organisation | None = None) -> ImportResult:
    """Read, check and store a kerncijfer file; raises VolumeImportError (nothing stored) when any
    row is wrong. With ``organisation`` every row is for that organisation."""
    volumes, values = parse_volumes(read_table(file, filename=filename), organisation=organisation)
    source = Path(filename).name[:200]
    with transaction.atomic():
        result = save_volumes(volumes, source=source) if volumes else ImportResult(0, 0, 0)
        return ImportResult(result.created, result.updated, result.months, kerncijfers.save(values, source=source))


def parse_volumes(
    table: list[tuple[int, list[object]]], *, organisation: Organisation | None = None
) -> tuple[list[VolumeRow], list[kerncijfers.ValueRow]]:
    """Check every row; raises VolumeImportError with all wrong rows."""
    table = [(number, row) for number, row in table if not all(blank(value) for value in row)]
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
        slugs = {str(cell(row, columns["organisation"])) for _, row in table[1:] if cell(row, columns["organisation"])}
        organisations = {o.slug: o for o in Organisation.objects.filter(slug__in=slugs)}
    figures = kerncijfers.Figures()
    rows: list[VolumeRow] = []
    values: list[kerncijfers.ValueRow] = []
    seen: dict[tuple, int] = {}
    for number, row in table[1:]:
        row_organisation, problems = _organisation(row, columns, organisation, organisations)
        if "figure" in columns and not blank(cell(row, columns["figure"])):
            parsed = kerncijfers.parse_row(number, row, columns, row_organisation, figures, problems)
            key = parsed and ("figure", parsed.figure.pk, parsed.period_start)
        else:
            parsed = _parse_row(number, row, columns, row_organisation, problems)
            key = parsed and (parsed.organisation.pk, parsed.channel, parsed.month)
        if problems:
            errors.append(RowError(number, "; ".join(problems)))
            continue
        if key in seen:
            same = (
                _("Hetzelfde kerncijfer en dezelfde periode staan ook in rij %(row)s.")
                if key[0] == "figure"
                else _("Dezelfde organisatie, kanaal en maand staan ook in rij %(row)s.")
            )
            errors.append(RowError(number, same % {"row": seen[key]}))
            continue
        seen[key] = number
        (values if isinstance(parsed, kerncijfers.ValueRow) else rows).append(parsed)
    if errors:
        raise VolumeImportError(errors)
    if not rows and not values:
        raise VolumeImportError([RowError(header_number, _("Het bestand bevat geen gegevens."))])
    return rows, values


def _columns(header: list[object], number: int, *, organisation_given: bool) -> tuple[dict[str, int], list[RowError]]:
    columns = find_columns(header, COLUMNS)
    # A file of only kerncijfers needs no channel column.
    required = ["month", "count"] + ([] if "figure" in columns else ["channel"])
    required += [] if organisation_given else ["organisation"]
    missing = [column for column in required if column not in columns]
    if not missing:
        return columns, []
    usual = ["channel", "month", "count"] if organisation_given else ["organisation", "channel", "month", "count"]
    expected = ", ".join(COLUMNS[column][0] for column in usual)
    message = _("Kolom ontbreekt: %(missing)s. De eerste rij moet de kolomnamen bevatten: %(expected)s.") % {
        "missing": ", ".join(COLUMNS[column][0] for column in missing),
        "expected": expected,
    }
    return columns, [RowError(number, message)]


def _organisation(row, columns, organisation, organisations) -> tuple[Organisation | None, list[str]]:
    """The row's organisation (the given one, or the one its column names) and what is wrong."""
    if "organisation" not in columns:
        return organisation, []
    slug = cell(row, columns["organisation"])
    if blank(slug):
        return organisation, [] if organisation is not None else [_("organisatie ontbreekt")]
    if organisation is not None and str(slug) != organisation.slug:
        return None, [_("organisatie “%(slug)s” is niet %(expected)s") % {"slug": slug, "expected": organisation.slug}]
    if organisation is not None:
        return organisation, []
    found = organisations.get(str(slug))
    return found, [] if found else [_("onbekende organisatie “%(slug)s”") % {"slug": slug}]


def _parse_row(number, row, columns, organisation, problems) -> VolumeRow | None:
    """A contact volume: channel, month and count; what is wrong goes into ``problems``."""
    channel = _channel(cell(row, columns["channel"])) if "channel" in columns else None
    if channel is None:
        problems.append(
            _("onbekend kanaal “%(value)s” (gebruik %(choices)s)")
            % {
                "value": cell(row, columns["channel"]) or "" if "channel" in columns else "",
                "choices": ", ".join(Channel.values),
            }
        )
    month = _month(cell(row, columns["month"]))
    if month is None:
        problems.append(_("maand “%(value)s” is geen maand als 2018-03") % {"value": cell(row, columns["month"]) or ""})
    count = _count(cell(row, columns["count"]))
    if count is None:
        problems.append(
            _("aantal “%(value)s” is geen geheel getal van 0 of meer") % {"value": cell(row, columns["count"]) or ""}
        )
    if problems or organisation is None:
        return None
    return VolumeRow(number, organisation, channel, month, count)


def _channel(value: object) -> str | None:
    if blank(value):
        return None
    name = str(value).strip().lower()
    if name in CHANNEL_NAMES:
        return CHANNEL_NAMES[name]
    labels = {str(label).lower(): value for value, label in Channel.choices}
    return labels.get(name)


def _month(value: object) -> date | None:
    if isinstance(value, datetime | date):  # a spreadsheet's date: a calendar day, not a moment
        return date(value.year, value.month, 1)
    return None if blank(value) else parse_month(str(value))


def _count(value: object) -> int | None:
    if isinstance(value, bool) or blank(value):
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
