"""Periods as people write them (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from socdesk.reports.figures import Period
from socdesk.reports.periods import PeriodError, last_complete, parse_period, period_label


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
