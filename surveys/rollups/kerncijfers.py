"""The municipality's own kerncijfers in a kerncijfer file (volumes.py reads and checks the file): a
row that names a kerncijfer (the column kerncijfer) gives its value for a year ("2018") or a month
("2018-03"), as that kerncijfer is kept. The kerncijfer itself is made in the admin first, so that a
misspelt name is refused instead of becoming a new figure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from surveys.common.time import parse_month
from surveys.organisations.models import Organisation

from .models import FigureKind, KeyFigure, KeyFigureValue, PeriodKind
from .tables import blank, cell


@dataclass(frozen=True)
class ValueRow:
    row: int
    figure: KeyFigure
    period_start: date
    value: Decimal


class Figures:
    """The organisations' kerncijfers by name (case ignored), read once per organisation."""

    def __init__(self) -> None:
        self._by_organisation: dict[int, dict[str, KeyFigure]] = {}

    def get(self, organisation: Organisation, name: str) -> KeyFigure | None:
        if organisation.pk not in self._by_organisation:
            self._by_organisation[organisation.pk] = {
                figure.name.lower(): figure for figure in KeyFigure.objects.filter(organisation=organisation)
            }
        return self._by_organisation[organisation.pk].get(name.strip().lower())


def parse_row(number, row, columns, organisation, figures: Figures, problems: list[str]) -> ValueRow | None:
    """A kerncijfer's value; what is wrong goes into ``problems``."""
    name = str(cell(row, columns["figure"]))
    figure = figures.get(organisation, name) if organisation is not None else None
    if figure is None:
        if organisation is not None:
            problems.append(
                _("onbekend kerncijfer “%(name)s” (maak het eerst aan onder Kerncijfers)") % {"name": name.strip()}
            )
        return None
    period = _period(cell(row, columns["month"]), figure, problems)
    value = _value(cell(row, columns["count"]), figure, problems)
    if problems or period is None or value is None:
        return None
    return ValueRow(number, figure, period, value)


def _period(value: object, figure: KeyFigure, problems: list[str]) -> date | None:
    per_year = figure.period == PeriodKind.YEAR
    if isinstance(value, datetime | date):
        start = date(value.year, 1 if per_year else value.month, 1)
    elif isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"\s*\d{4}\s*", value)):
        start = date(int(value), 1, 1) if per_year and 1900 <= int(value) <= 2999 else None
    else:
        start = None if blank(value) or per_year else parse_month(str(value))
    if start is None:
        example = _("jaar als 2018") if per_year else _("maand als 2018-03")
        problems.append(_("periode “%(value)s” is geen %(example)s") % {"value": value or "", "example": example})
    return start


def _value(value: object, figure: KeyFigure, problems: list[str]) -> Decimal | None:
    try:
        number = None if blank(value) or isinstance(value, bool) else Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        number = None
    percentage = figure.kind == FigureKind.PERCENTAGE
    if number is None or not number.is_finite() or number < 0 or (percentage and number > 100):
        expected = _("percentage van 0 tot en met 100") if percentage else _("getal van 0 of meer")
        problems.append(_("waarde “%(value)s” is geen %(expected)s") % {"value": value or "", "expected": expected})
        return None
    if not percentage and number != number.to_integral_value():
        problems.append(_("waarde “%(value)s” is geen geheel aantal") % {"value": value})
        return None
    return number.quantize(Decimal("0.01"))


def save(values: list[ValueRow], *, source: str) -> int:
    """Store checked values, replacing a kerncijfer's earlier value of the same period."""
    KeyFigureValue.objects.bulk_create(
        [
            KeyFigureValue(key_figure=v.figure, period_start=v.period_start, value=v.value, source=source)
            for v in values
        ],
        update_conflicts=True,
        unique_fields=["key_figure", "period_start"],
        update_fields=["value", "source"],
        batch_size=1000,
    )
    return len(values)
