"""When a report is due: the monthly report on the first working day of the month at 07:00 in
Amsterdam, about the month before; the yearly report on the first working day of January, about
the year before. Working days are Monday to Friday without the Dutch public holidays (the
``holidays`` package)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache

import holidays

from surveys.common.time import AMSTERDAM, add_months

from .models import ReportKind

SEND_AT = time(7, 0)


@cache
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("NL", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def first_working_day(year: int, month: int) -> date:
    day = date(year, month, 1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def due_reports(moment: datetime) -> list[tuple[str, date]]:
    """The reports due at ``moment`` (an aware datetime): ``(kind, period_start)`` pairs, on the
    first working day of a month from 07:00 in Amsterdam until the day ends; none otherwise."""
    local = moment.astimezone(AMSTERDAM)
    today = local.date()
    if today != first_working_day(today.year, today.month) or local.time() < SEND_AT:
        return []
    due = [(ReportKind.MONTH.value, add_months(date(today.year, today.month, 1), -1))]
    if today.month == 1:
        due.append((ReportKind.YEAR.value, date(today.year - 1, 1, 1)))
    return due


def parse_period(text: str) -> tuple[str, date] | None:
    """ "2018" is the yearly report of 2018, "2018-11" the monthly report of November 2018."""
    text = text.strip()
    if len(text) == 4 and text.isdigit() and 1900 <= int(text) <= 2999:
        return ReportKind.YEAR.value, date(int(text), 1, 1)
    try:
        parsed = datetime.strptime(text, "%Y-%m")  # noqa: DTZ007 - a calendar month
    except ValueError:
        return None
    return (ReportKind.MONTH.value, date(parsed.year, parsed.month, 1)) if parsed.year >= 1900 else None
