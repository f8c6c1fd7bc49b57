"""What the dashboard shows, read from the rollups only (never from the responses): per channel
and for all channels, the chosen month and year, each next to the same period a year earlier; the
24 months up to the chosen month; the year's score distribution; the contact volumes per year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Max, Min
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from surveys.common.time import add_months
from surveys.organisations.models import Channel, Organisation
from surveys.rollups.models import ALL_CHANNELS, ContactRollup, FigureKind, KeyFigure, PeriodKind, ScoreRollup
from surveys.rollups.selectors import CHANNEL_ORDER, Figure, rollup_figures

TREND_MONTHS = 24


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    month: Figure | None
    year: Figure | None

    @property
    def label(self) -> str:
        return channel_label(self.channel)


@dataclass(frozen=True)
class Dashboard:
    organisation: Organisation
    year: date
    month: date
    years: list[int]
    rows: list[ChannelFigures]  # "all" first, then the channels in their order
    trend: dict[str, list[tuple[date, float | None]]]  # label -> 24 monthly means
    trend_months: list[date]
    distribution: dict[int, int] = field(default_factory=dict)


def channel_label(channel: str) -> str:
    return _("Alle kanalen") if channel == ALL_CHANNELS else str(Channel(channel).label)


def years_with_figures(organisation: Organisation) -> list[int]:
    span = ScoreRollup.objects.filter(organisation=organisation, period=PeriodKind.YEAR).aggregate(
        first=Min("period_start"), last=Max("period_start")
    )
    if span["first"] is None:
        return []
    return list(range(span["first"].year, span["last"].year + 1))


def latest_month(organisation: Organisation, year: int) -> date:
    """The last month of ``year`` with any figure (December when there is none)."""
    last = ScoreRollup.objects.filter(
        organisation=organisation,
        period=PeriodKind.MONTH,
        period_start__gte=date(year, 1, 1),
        period_start__lt=date(year + 1, 1, 1),
    ).aggregate(last=Max("period_start"))["last"]
    last_contacts = ContactRollup.objects.filter(
        organisation=organisation,
        period=PeriodKind.MONTH,
        period_start__gte=date(year, 1, 1),
        period_start__lt=date(year + 1, 1, 1),
    ).aggregate(last=Max("period_start"))["last"]
    candidates = [value for value in (last, last_contacts) if value]
    return max(candidates) if candidates else date(year, 12, 1)


def dashboard(organisation: Organisation, *, year: int | None = None, month: int | None = None) -> Dashboard:
    years = years_with_figures(organisation)
    year = year or (years[-1] if years else date.today().year)
    chosen_month = date(year, month, 1) if month else latest_month(organisation, year)
    by_year = {
        f.channel: f
        for f in rollup_figures(
            organisation=organisation, period=PeriodKind.YEAR, date_from=date(year, 1, 1), date_to=date(year, 1, 1)
        )
    }
    by_month = {
        f.channel: f
        for f in rollup_figures(
            organisation=organisation, period=PeriodKind.MONTH, date_from=chosen_month, date_to=chosen_month
        )
    }
    channels = [channel for channel in CHANNEL_ORDER if channel in by_year or channel in by_month]
    rows = [ChannelFigures(channel, by_month.get(channel), by_year.get(channel)) for channel in channels]
    first = add_months(chosen_month, 1 - TREND_MONTHS)
    months = [add_months(first, offset) for offset in range(TREND_MONTHS)]
    monthly = rollup_figures(organisation=organisation, period=PeriodKind.MONTH, date_from=first, date_to=chosen_month)
    means = {(f.channel, f.period_start): f.mean for f in monthly}
    trend = {
        channel_label(channel): [(m, means.get((channel, m))) for m in months]
        for channel in channels
        if any(means.get((channel, m)) is not None for m in months)
    }
    year_all = by_year.get(ALL_CHANNELS)
    return Dashboard(
        organisation=organisation,
        year=date(year, 1, 1),
        month=chosen_month,
        years=years,
        rows=rows,
        trend=trend,
        trend_months=months,
        distribution=year_all.distribution if year_all else {},
    )


@dataclass(frozen=True)
class KerncijferRow:
    label: str
    kind: str  # FigureKind: a count or a percentage
    values: dict[int, float]  # year -> value
    changes: dict[int, float | None]  # year -> change against the year before (a share; counts only)
    part_of_channel: bool = False  # a kerncijfer of a channel, under its volume ("waarvan ...")


def kerncijfers(organisation: Organisation, years: list[int]) -> list[KerncijferRow]:
    """The Utrecht Monitor's table: per channel its contact volume per year (imported volumes where
    the municipality has them, otherwise the contacts registered through the API), each followed by
    the organisation's own kerncijfers of that channel; then those of no channel. A kerncijfer per
    month counts in its year as the sum (a count) or the mean (a percentage) of its months."""
    rows = ContactRollup.objects.filter(
        organisation=organisation,
        period=PeriodKind.YEAR,
        period_start__in=[date(year, 1, 1) for year in years],
    ).exclude(channel=ALL_CHANNELS)
    volumes: dict[str, dict[int, float]] = {}
    for row in rows:
        if contacts := row.contacts_imported or row.contacts_registered:
            volumes.setdefault(row.channel, {})[row.period_start.year] = contacts
    own: dict[str, list[KerncijferRow]] = {}
    for figure in KeyFigure.objects.filter(organisation=organisation).prefetch_related("values"):
        values: dict[int, list[float]] = {}
        for value in figure.values.all():
            if value.period_start.year in years:
                values.setdefault(value.period_start.year, []).append(float(value.value))
        per_year = {
            year: sum(found) if figure.kind == FigureKind.COUNT else sum(found) / len(found)
            for year, found in values.items()
        }
        label = figure.name_en if get_language() == "en" and figure.name_en else figure.name
        own.setdefault(figure.channel, []).append(_row(label, figure.kind, per_year, years, bool(figure.channel)))
    result = []
    for channel in [c for c in CHANNEL_ORDER if c in volumes or c in own]:
        if channel in volumes:
            result.append(_row(channel_label(channel), FigureKind.COUNT, volumes[channel], years))
        result += own.get(channel, [])
    return result + own.get("", [])


def _row(label, kind, per_year, years, part_of_channel=False) -> KerncijferRow:
    changes = {
        year: (per_year[year] - per_year[year - 1]) / per_year[year - 1]
        if kind == FigureKind.COUNT and year in per_year and per_year.get(year - 1)
        else None
        for year in years
    }
    return KerncijferRow(label, kind, per_year, changes, part_of_channel)
