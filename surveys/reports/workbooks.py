"""The dashboard's figures as an XLSX workbook: the scores per channel, the months of the trend,
the distribution and the kerncijfers, each on its own sheet, numbers as numbers (a spreadsheet
formats them in its own language)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font


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


def dashboard_workbook(figures, volumes, volume_years) -> bytes:
    """``figures`` as dashboard.selectors.dashboard() gives them; ``volumes``: its kerncijfers."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    month, year = figures.month, figures.year.year
    _sheet(
        workbook,
        _("Rapportcijfers"),
        [
            _("Kanaal"),
            _("Maand"),
            _("cijfer"),
            _("n"),
            _("een jaar eerder"),
            _("Jaar"),
            _("cijfer"),
            _("n"),
            _("een jaar eerder"),
            _("significant"),
            _("indicatief"),
            _("respons"),
        ],
        [
            [
                row.label,
                f"{month:%Y-%m}",
                _rounded(row.month.mean) if row.month else None,
                row.month.n if row.month else 0,
                _rounded(row.month.previous.mean) if row.month and row.month.previous else None,
                year,
                _rounded(row.year.mean) if row.year else None,
                row.year.n if row.year else 0,
                _rounded(row.year.previous.mean) if row.year and row.year.previous else None,
                bool(row.year and row.year.significant),
                bool(row.year and row.year.indicative),
                _rounded(row.year.response_rate, 4) if row.year else None,
            ]
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
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
