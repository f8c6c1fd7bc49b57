"""KTO's calendar is Europe/Amsterdam's: a contact counts in the month, and so in the year, that
it happened in there."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def month_of(value: date | datetime) -> date:
    """The first day of the calendar month of ``value``; a moment in its month in Amsterdam."""
    if isinstance(value, datetime):
        value = value.astimezone(AMSTERDAM)
    return date(value.year, value.month, 1)


def parse_month(text: str) -> date | None:
    """ "2018-03" (or "2018-03-15", "2018/03") as its month's first day; None when it is not one."""
    for pattern in ("%Y-%m", "%Y-%m-%d", "%Y/%m"):
        try:
            parsed = datetime.strptime(text.strip(), pattern)  # noqa: DTZ007 - a calendar month, no time zone
        except ValueError:
            continue
        if 1900 <= parsed.year <= 2999:
            return date(parsed.year, parsed.month, 1)
    return None


def add_months(month: date, months: int) -> date:
    """The first day of the month ``months`` after (or, negative, before) ``month``'s."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
