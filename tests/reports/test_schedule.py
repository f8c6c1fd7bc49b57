"""When reports are due, with a travelling clock: the first working day of the month at 07:00 in
Amsterdam (Dutch public holidays skipped), over month ends, year ends and both DST changes; and
the beat's schedule itself, which fires at 07:00 local time in summer and in winter."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings

from kto.celery import app
from surveys.common.time import AMSTERDAM
from surveys.reports.schedule import due_reports, first_working_day, is_working_day, parse_period


def local(*args) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2019, 1, date(2019, 1, 2)),  # 1 January is Nieuwjaarsdag
        (2018, 4, date(2018, 4, 3)),  # 1 April Easter Sunday, 2 April Easter Monday
        (2018, 12, date(2018, 12, 3)),  # a Saturday: the Monday after
        (2018, 11, date(2018, 11, 1)),  # a Thursday
        (2023, 1, date(2023, 1, 2)),  # a Sunday that is also Nieuwjaarsdag
        (2019, 6, date(2019, 6, 3)),  # a Saturday
        (2020, 6, date(2020, 6, 2)),  # 1 June 2020 is Pinkstermaandag
        (2022, 1, date(2022, 1, 3)),  # Saturday 1 January
    ],
)
def test_first_working_day_skips_weekends_and_dutch_holidays(year, month, expected):
    assert first_working_day(year, month) == expected


def test_koningsdag_and_christmas_are_no_working_days():
    assert not is_working_day(date(2018, 4, 27))
    assert not is_working_day(date(2018, 12, 25))
    assert not is_working_day(date(2018, 12, 26))
    assert is_working_day(date(2018, 12, 27))


def moments_of(start: datetime, end: datetime, step=timedelta(minutes=30)):
    moment = start
    while moment < end:
        yield moment
        moment += step


def test_over_a_year_end_the_yearly_and_monthly_reports_are_due_on_2_january_from_7():
    seen = {}
    for moment in moments_of(local(2018, 12, 28), local(2019, 1, 5)):
        for report in due_reports(moment):
            seen.setdefault(report, moment)
    assert seen == {
        ("month", date(2018, 12, 1)): local(2019, 1, 2, 7),
        ("year", date(2018, 1, 1)): local(2019, 1, 2, 7),
    }


def test_every_month_of_2018_has_one_due_day_at_its_first_working_day():
    first_due = {}
    for moment in moments_of(local(2018, 1, 1), local(2019, 1, 1), timedelta(hours=1)):
        for kind, period in due_reports(moment):
            first_due.setdefault((kind, period), moment)
    assert len(first_due) == 13  # twelve monthly reports (Dec 2017 to Nov 2018) and the yearly 2017
    assert first_due[("month", date(2018, 3, 1))] == local(2018, 4, 3, 7)  # after Easter Monday
    assert first_due[("month", date(2018, 9, 1))] == local(2018, 10, 1, 7)
    for (_kind, _period), moment in first_due.items():
        assert (moment.hour, moment.minute) == (7, 0)


def test_not_due_before_seven_or_on_other_days():
    assert due_reports(local(2018, 11, 1, 6, 59)) == []
    assert due_reports(local(2018, 11, 1, 7, 0)) == [("month", date(2018, 10, 1))]
    assert due_reports(local(2018, 11, 2, 7, 0)) == []
    assert due_reports(local(2018, 12, 1, 7, 0)) == []  # a Saturday


def test_due_at_seven_in_amsterdam_in_summer_and_winter_time():
    # 3 April 2018 (summer time, UTC+2) and 1 November 2018 (winter time, UTC+1)
    assert due_reports(datetime(2018, 4, 3, 4, 59, tzinfo=UTC)) == []
    assert due_reports(datetime(2018, 4, 3, 5, 0, tzinfo=UTC)) == [("month", date(2018, 3, 1))]
    assert due_reports(datetime(2018, 11, 1, 5, 59, tzinfo=UTC)) == []
    assert due_reports(datetime(2018, 11, 1, 6, 0, tzinfo=UTC)) == [("month", date(2018, 10, 1))]


@pytest.mark.parametrize(
    ("last_run", "not_yet", "due"),
    [
        # the day after the change to summer time (25 March 2018): 07:00 CEST is 05:00 UTC
        (
            datetime(2018, 3, 25, 5, 0, tzinfo=UTC),
            datetime(2018, 3, 26, 4, 59, tzinfo=UTC),
            datetime(2018, 3, 26, 5, 0, 30, tzinfo=UTC),
        ),
        # the day after the change to winter time (28 October 2018): 07:00 CET is 06:00 UTC
        (
            datetime(2018, 10, 28, 6, 0, tzinfo=UTC),
            datetime(2018, 10, 29, 5, 59, tzinfo=UTC),
            datetime(2018, 10, 29, 6, 0, 30, tzinfo=UTC),
        ),
        # the change days themselves
        (
            datetime(2018, 3, 24, 6, 0, tzinfo=UTC),
            datetime(2018, 3, 25, 4, 59, tzinfo=UTC),
            datetime(2018, 3, 25, 5, 0, 30, tzinfo=UTC),
        ),
        (
            datetime(2018, 10, 27, 5, 0, tzinfo=UTC),
            datetime(2018, 10, 28, 5, 59, tzinfo=UTC),
            datetime(2018, 10, 28, 6, 0, 30, tzinfo=UTC),
        ),
    ],
)
def test_the_beat_entry_fires_at_seven_local_time_across_dst(last_run, not_yet, due):
    entry = settings.CELERY_BEAT_SCHEDULE["plan-reports"]
    schedule = crontab(**{"hour": 7, "minute": 0}, app=app)
    assert entry["schedule"] == schedule
    with time_machine.travel(not_yet, tick=False):
        assert schedule.is_due(last_run).is_due is False
    with time_machine.travel(due, tick=False):
        assert schedule.is_due(last_run).is_due is True


def test_periods_typed_by_hand():
    assert parse_period("2018") == ("year", date(2018, 1, 1))
    assert parse_period(" 2018-11 ") == ("month", date(2018, 11, 1))
    for wrong in ("18", "2018-13", "november", "", "2018-1-1"):
        assert parse_period(wrong) is None, wrong
