"""The dashboard's figures as an XLSX workbook: the scores per channel, the months of the trend,
the distribution and the kerncijfers, each on its own sheet, numbers as numbers (a spreadsheet
formats them in its own language)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from surveys.dashboard.selectors import channel_label


def _sheet(workbook: Workbook, title: str, header: list[str], rows: list[list]) -> None:
    sheet = workbook.create_sheet(title[:31])
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "B2"
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = max(12, *(len(str(c.value or "")) + 2 for c in column))


def _rounded(value: float | None, decimals: int = 2) -> float | None:
    return None if value is None else round(value, decimals)


def _saved(workbook: Workbook) -> bytes:
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def report_workbook(figures: dict) -> bytes:
    """A report's stored figures (reports.figures): per channel, the months of the trend, the
    kerncijfers of the yearly report."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    period = figures["period"][:4] if figures["kind"] == "year" else figures["period"][:7]
    rows = []
    for row in figures["rows"]:
        figure = row["figure"] or {}
        previous = figure.get("previous") or {}
        rows.append(
            [
                channel_label(row["channel"]),
                period,
                _rounded(figure.get("mean")),
                figure.get("n", 0),
                _rounded(previous.get("mean")),
                _rounded(figure.get("difference")),
                bool(figure.get("significant")),
                bool(figure.get("indicative")),
                _rounded(figure.get("response_rate"), 4),
                figure.get("contacts") or None,
                previous.get("contacts") or None,
            ]
        )
    _sheet(
        workbook,
        _("Rapportcijfers"),
        [
            _("Kanaal"),
            _("Periode"),
            _("cijfer"),
            _("n"),
            _("een jaar eerder"),
            _("verschil"),
            _("significant"),
            _("indicatief"),
            _("respons"),
            _("contacten"),
            _("contacten een jaar eerder"),
        ],
        rows,
    )
    series = figures["trend"]["series"]
    _sheet(
        workbook,
        _("Verloop per maand"),
        [_("Maand"), *[channel_label(channel) for channel, _values in series]],
        [
            [month[:7], *[_rounded(values[index]) for _channel, values in series]]
            for index, month in enumerate(figures["trend"]["months"])
        ],
    )
    if table := figures.get("kerncijfers"):
        _sheet(
            workbook,
            _("Kerncijfers"),
            [_("Kerncijfer"), *[str(year) for year in table["years"]]],
            [[row["label"], *[row["values"].get(str(year)) for year in table["years"]]] for row in table["rows"]],
        )
    return _saved(workbook)


def _period_header() -> list[str]:
    return [_("cijfer"), _("n"), _("een jaar eerder"), _("significant"), _("indicatief"), _("respons")]


def _period_cells(figure) -> list:
    """One period's figure as the columns of _period_header()."""
    if figure is None:
        return [None, 0, None, False, False, None]
    previous = _rounded(figure.previous.mean) if figure.previous else None
    return [
        _rounded(figure.mean),
        figure.n,
        previous,
        bool(figure.significant),
        bool(figure.indicative),
        _rounded(figure.response_rate, 4),
    ]


def dashboard_workbook(figures, volumes, volume_years) -> bytes:
    """``figures`` as dashboard.selectors.dashboard() gives them; ``volumes``: its kerncijfers."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    month, year = figures.month, figures.year.year
    _sheet(
        workbook,
        _("Rapportcijfers"),
        [_("Kanaal"), _("Maand"), *_period_header(), _("Jaar"), *_period_header()],
        [
            [row.label, f"{month:%Y-%m}", *_period_cells(row.month), year, *_period_cells(row.year)]
            for row in figures.rows
        ],
    )
    labels = list(figures.trend)
    _sheet(
        workbook,
        _("Verloop per maand"),
        [_("Maand"), *labels],
        [
            [f"{m:%Y-%m}", *[_rounded(dict(figures.trend[label]).get(m)) for label in labels]]
            for m in figures.trend_months
        ],
    )
    _sheet(
        workbook,
        _("Verdeling %(year)s") % {"year": year},
        [_("Rapportcijfer"), _("Reacties")],
        [[score, figures.distribution.get(score, 0)] for score in range(1, 11)],
    )
    _sheet(
        workbook,
        _("Kerncijfers"),
        [_("Kerncijfer"), *[str(y) for y in volume_years]],
        [[row.label, *[row.values.get(y) for y in volume_years]] for row in volumes],
    )
    return _saved(workbook)
