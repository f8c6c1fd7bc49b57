"""The figures of a report, read from the rollups (and, for the monthly report, the month's
lowest-scored comments as they are stored, masked), as plain JSON: a delivery keeps them, so that a
report that went out can be shown again as it was, whatever comes in later."""

from __future__ import annotations

from datetime import date

from django.utils.translation import override

from surveys.common.time import add_months
from surveys.dashboard.selectors import kerncijfers
from surveys.followups.services import queue_counts
from surveys.organisations.models import Organisation
from surveys.responses.models import Response
from surveys.rollups.models import PeriodKind
from surveys.rollups.selectors import CHANNEL_ORDER, Figure, rollup_figures

from .models import ReportKind

TREND_MONTHS = 13
LOWEST_COMMENTS = 5
KERNCIJFER_YEARS = 4


def _short(figure: Figure | None) -> dict | None:
    if figure is None:
        return None
    return {"n": figure.n, "mean": figure.mean, "indicative": figure.indicative, "contacts": figure.contacts}


def _full(figure: Figure | None) -> dict | None:
    if figure is None:
        return None
    return {
        **_short(figure),
        "response_rate": figure.response_rate,
        "share_insufficient": figure.share_insufficient,
        "difference": figure.difference,
        "significant": figure.significant,
        "previous": _short(figure.previous),
    }


def _channels(wanted: list[str], present) -> list[str]:
    """Every channel with figures, "all" first; only the wanted ones (and no "all") when a
    subscription names some."""
    order = [c for c in CHANNEL_ORDER if c in present]
    return [c for c in order if c in wanted] if wanted else order


def report_figures(organisation: Organisation, kind: str, period: date, channels: list[str], language: str) -> dict:
    """Everything a report shows but its comments. Labels that the organisation names itself
    (its kerncijfers) are taken in ``language``; everything else stays a code until rendered."""
    last_month = period if kind == ReportKind.MONTH else date(period.year, 12, 1)
    first_month = add_months(last_month, 1 - TREND_MONTHS)
    monthly = rollup_figures(
        organisation=organisation, period=PeriodKind.MONTH, date_from=first_month, date_to=last_month
    )
    by_month = {(f.channel, f.period_start): f for f in monthly}
    months = [add_months(first_month, offset) for offset in range(TREND_MONTHS)]
    if kind == ReportKind.MONTH:
        current = {f.channel: f for f in monthly if f.period_start == period}
    else:
        current = {
            f.channel: f
            for f in rollup_figures(organisation=organisation, period=PeriodKind.YEAR, date_from=period, date_to=period)
        }
    chosen = _channels(channels, current)
    month_before = add_months(period, -1)
    figures = {
        "kind": kind,
        "period": period.isoformat(),
        "organisation": organisation.name,
        "rows": [
            {
                "channel": channel,
                "figure": _full(current[channel]),
                "month_before": _short(by_month.get((channel, month_before))) if kind == ReportKind.MONTH else None,
            }
            for channel in chosen
        ],
        "trend": {
            "months": [m.isoformat() for m in months],
            "series": [  # a list, not an object: jsonb does not keep the order of keys
                [channel, [by_month[(channel, m)].mean if (channel, m) in by_month else None for m in months]]
                for channel in chosen
                if any((channel, m) in by_month and by_month[(channel, m)].mean is not None for m in months)
            ],
        },
    }
    if kind == ReportKind.MONTH:
        figures["follow_ups"] = queue_counts(organisation.pk)
    else:
        years = list(range(period.year - KERNCIJFER_YEARS + 1, period.year + 1))
        with override(language):
            rows = kerncijfers(organisation, years)
        figures["kerncijfers"] = {
            "years": years,
            "rows": [
                {
                    "label": row.label,
                    "kind": row.kind,
                    "values": {str(y): v for y, v in row.values.items()},
                    "changes": {str(y): v for y, v in row.changes.items()},
                    "part_of_channel": row.part_of_channel,
                }
                for row in rows
            ],
        }
    return figures


def lowest_comments(organisation: Organisation, month: date, channels: list[str]) -> list[dict]:
    """The month's lowest-scored comments, as stored (masked before storage)."""
    responses = Response.objects.filter(organisation=organisation, contact_month=month).exclude(comment="")
    if channels:
        responses = responses.filter(channel__in=channels)
    return [
        {"score": score, "channel": channel, "comment": comment}
        for score, channel, comment in responses.order_by("score", "-submitted_at").values_list(
            "score", "channel", "comment"
        )[:LOWEST_COMMENTS]
    ]
