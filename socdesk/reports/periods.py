"""The periods a report covers, as people write them: a month, an ISO week or a range of days.

Pure: no database, no clock (callers pass today's date).

- `2026-11`: the month of November 2026.
- `2026-W47`: ISO week 47 of 2026, Monday to Sunday.
- `2026-11-02..2026-11-15`: those days, both included.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from socdesk.reports.figures import Period
from socdesk.reports.picker import CUSTOM, DEFAULT_PERIOD, PERIODS

# A report of more than this many days is a mistake (a year typed for a month), not a report.
MAX_DAYS = 366

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
WEEK = re.compile(r"^(\d{4})-[Ww](\d{2})$")
RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")

HELP = "write YYYY-MM (a month), YYYY-Www (an ISO week, e.g. 2026-W47) or YYYY-MM-DD..YYYY-MM-DD (days)"


class PeriodError(ValueError):
    """A period that cannot be read; the message says what to write instead."""


def month_period(year: int, month: int) -> Period:
    """The whole calendar month."""
    start = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(start, following - timedelta(days=1))


def week_period(year: int, week: int) -> Period:
    """ISO week `week` of `year`, Monday to Sunday."""
    start = date.fromisocalendar(year, week, 1)
    return Period(start, start + timedelta(days=6))


def parse_period(text: str) -> Period:
    """The period `text` names; PeriodError with a sentence saying why not."""
    value = text.strip()
    try:
        if found := MONTH.match(value):
            return month_period(int(found[1]), int(found[2]))
        if found := WEEK.match(value):
            return week_period(int(found[1]), int(found[2]))
        if found := RANGE.match(value):
            return days_period(date.fromisoformat(found[1]), date.fromisoformat(found[2]))
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"{value!r} is not a real month, week or day ({exc}); {HELP}.") from None
    raise PeriodError(f"{value!r} is not a period: {HELP}.")


def days_period(start: date, end: date) -> Period:
    """`start`..`end` inclusive, checked: in order and at most MAX_DAYS long."""
    if end < start:
        raise PeriodError(f"The period ends ({end}) before it starts ({start}); give the earlier day first.")
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError(f"The period {start}..{end} is longer than {MAX_DAYS} days; ask for less.")
    return Period(start, end)


def period_label(period: Period) -> str:
    """How a report names its period: "November 2026", "Week 47 of 2026", or the two days."""
    start, end = period.start, period.end
    if start.day == 1 and end == month_period(start.year, start.month).end:
        return start.strftime("%B %Y")
    iso = start.isocalendar()
    if iso.weekday == 1 and end == start + timedelta(days=6):
        return f"Week {iso.week} of {iso.year} ({start:%d %b} to {end:%d %b %Y})"
    return f"{start:%d %b %Y} to {end:%d %b %Y}"


def last_complete(frequency: str, today: date) -> Period:
    """The last whole week (Monday to Sunday) or month before `today`: what a schedule sends."""
    if frequency == "weekly":
        this_monday = today - timedelta(days=today.weekday())
        return Period(this_monday - timedelta(days=7), this_monday - timedelta(days=1))
    if frequency == "monthly":
        last_day = today.replace(day=1) - timedelta(days=1)
        return month_period(last_day.year, last_day.month)
    raise PeriodError(f"Unknown frequency {frequency!r}: weekly or monthly.")


def picker_period(choice: str | None, start: date | None, end: date | None, *, today: date) -> Period:
    """The period the dashboard's picker names (`reports.picker`: 24h, 7d, 30d or custom with `from` and
    `to`), for the API, which refuses what the page would replace by its default."""
    if choice == CUSTOM or start is not None or end is not None:
        if choice not in (None, CUSTOM):
            raise PeriodError(f"Give period={choice} or from and to, not both.")
        if start is None or end is None:
            raise PeriodError("A custom period needs both from and to (days such as 2026-11-02).")
        if end > today:
            raise PeriodError(
                f"The period ends in the future ({end}); the last day with figures is today ({today})."
            )
        return days_period(start, end)
    days = PERIODS.get(choice or DEFAULT_PERIOD)
    if days is None:
        raise PeriodError(f"Unknown period {choice!r}: use {', '.join((*PERIODS, CUSTOM))}.")
    return Period(today - timedelta(days=days[1] - 1), today)
