"""Periods as people write them (pure)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socdesk.reports.figures import Period
from socdesk.reports.periods import PeriodError, last_complete, parse_period, period_label, picker_period


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-W47", date(2026, 11, 16), date(2026, 11, 22)),
        ("2026-w01", date(2025, 12, 29), date(2026, 1, 4)),
        (" 2026-11-02..2026-11-15 ", date(2026, 11, 2), date(2026, 11, 15)),
        ("2026-11-02..2026-11-02", date(2026, 11, 2), date(2026, 11, 2)),
    ],
)
def test_periods_read(text, start, end):
    assert parse_period(text) == Period(start, end)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("November", "is not a period: write YYYY-MM"),
        ("2026-13", "not a real month, week or day"),
        ("2026-W54", "not a real month, week or day"),
        ("2026-02-30..2026-03-01", "not a real month, week or day"),
        ("2026-11-15..2026-11-02", "ends (2026-11-02) before it starts (2026-11-15)"),
        ("2025-01-01..2026-11-02", "longer than 366 days"),
        ("", "is not a period"),
    ],
)
def test_bad_periods_say_what_to_write(text, says):
    with pytest.raises(PeriodError, match=__import__("re").escape(says)):
        parse_period(text)


def test_labels():
    assert period_label(parse_period("2026-11")) == "November 2026"
    assert period_label(parse_period("2026-W47")) == "Week 47 of 2026 (16 Nov to 22 Nov 2026)"
    assert period_label(parse_period("2026-11-02..2026-11-04")) == "02 Nov 2026 to 04 Nov 2026"


@pytest.mark.parametrize(
    ("frequency", "today", "start", "end"),
    [
        ("weekly", date(2026, 11, 30), date(2026, 11, 23), date(2026, 11, 29)),  # a Monday
        ("weekly", date(2026, 12, 6), date(2026, 11, 23), date(2026, 11, 29)),  # the Sunday after
        ("monthly", date(2026, 12, 1), date(2026, 11, 1), date(2026, 11, 30)),
        ("monthly", date(2027, 1, 31), date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_last_complete_period(frequency, today, start, end):
    assert last_complete(frequency, today) == Period(start, end)


TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("choice", "start", "end", "expected"),
    [
        (None, None, None, Period(date(2026, 11, 24), TODAY)),
        ("24h", None, None, Period(date(2026, 11, 29), TODAY)),  # the dashboard's: yesterday and today
        ("30d", None, None, Period(date(2026, 11, 1), TODAY)),
        (None, date(2026, 10, 1), date(2026, 10, 31), Period(date(2026, 10, 1), date(2026, 10, 31))),
        ("custom", date(2026, 10, 1), TODAY, Period(date(2026, 10, 1), TODAY)),
    ],
)
def test_picker_periods(choice, start, end, expected):
    assert picker_period(choice, start, end, today=TODAY) == expected


@pytest.mark.parametrize(
    ("choice", "start", "end", "says"),
    [
        ("90d", None, None, "Unknown period '90d'"),
        (None, date(2026, 10, 1), None, "needs both from and to"),
        ("custom", None, None, "needs both from and to"),
        ("7d", date(2026, 10, 1), date(2026, 10, 2), "not both"),
        (None, date(2026, 11, 1), date(2026, 12, 1), "ends in the future"),
        (None, date(2026, 10, 2), date(2026, 10, 1), "before it starts"),
    ],
)
def test_bad_picker_periods(choice, start, end, says):
    with pytest.raises(PeriodError, match=says):
        picker_period(choice, start, end, today=TODAY)


@pytest.mark.parametrize(
    ("start", "end", "first", "until"),
    [
        # Monday to Sunday: whole weeks only, no ragged end.
        (date(2026, 11, 2), date(2026, 11, 29), date(2026, 11, 2), date(2026, 11, 30)),
        (date(2026, 11, 23), date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 30)),
        # A Sunday before and a Monday after four whole weeks.
        (date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 2), date(2026, 11, 30)),
        # Ragged at the end only.
        (date(2026, 11, 2), date(2026, 11, 28), date(2026, 11, 2), date(2026, 11, 23)),
        # No whole week: every day is a ragged end.
        (date(2026, 11, 24), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 1)),
        (date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 1)),
        (date(2026, 11, 3), date(2026, 11, 15), date(2026, 11, 9), date(2026, 11, 16)),
    ],
)
def test_whole_weeks_of_a_period(start, end, first, until):
    assert Period(start, end).whole_weeks == (first, until)


@given(st.dates(date(2020, 1, 1), date(2030, 1, 1)), st.integers(0, 120))
def test_whole_weeks_and_ragged_ends_cover_each_day_once(start, length):
    period = Period(start, start + timedelta(days=length))
    first, until = period.whole_weeks
    assert (first.weekday() == 0 and until.weekday() == 0) or first == until == period.end + timedelta(days=1)
    in_weeks = [day for day in period.days if first <= day < until]
    ragged = [day for day in period.days if day < first or day >= until]
    assert len(in_weeks) % 7 == 0
    assert sorted(in_weeks + ragged) == period.days
    # Every whole week lies inside the period.
    assert not in_weeks or (period.start <= first and until - timedelta(days=1) <= period.end)
