"""SLA arithmetic in working time: due times, working time elapsed, on track / at risk / breached.

Pure: no Django, no database. A `Schedule` is either 24/7 or working hours per weekday (several intervals a
day allowed) in a time zone, minus holidays. Working hours are wall-clock times in the schedule's zone, and
the clock counts the real time that passes inside them: an 08:00-18:00 day is 10 hours, and a 00:00-24:00
day is 23 hours on the spring-forward day and 25 on the fall-back day. A wall-clock time that does not
exist (inside the spring-forward gap) is read with the offset before the change, and one that happens twice
(fall-back) as its first occurrence, so intervals never run backwards. Pauses (the ticket `on_hold`) are
real-time intervals taken out of working time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead a due time is looked for: a schedule with one working hour a week still finds any target
# a plan may set well within this, and a loop over days can never run for ever.
SEARCH_DAYS = 366 * 20
FAR_FUTURE = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)

Interval = tuple[int, int]  # minutes after local midnight: start, end (end may be 1440, i.e. 24:00)
Pause = tuple[datetime, datetime]


class ScheduleError(ValueError):
    """A schedule that cannot be used, or a time it cannot work with; the message says which."""


class SlaState(StrEnum):
    """Where a ticket stands against one of its SLA targets."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"


def parse_clock(text: str) -> int:
    """`HH:MM` (or `24:00`) as minutes after midnight."""
    hours, sep, minutes = text.strip().partition(":")
    if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
        value = int(hours) * 60 + int(minutes)
        if int(minutes) < 60 and 0 <= value <= MINUTES_PER_DAY:
            return value
    raise ScheduleError(f"{text!r} is not a time of day; write it HH:MM, e.g. 08:30 (24:00 ends the day).")


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Schedule:
    """When the SLA clock runs: always (24/7), or weekly working intervals in a time zone minus holidays."""

    time_zone: str = "UTC"
    # Seven tuples, Monday first, of sorted non-overlapping (start, end) minute intervals.
    week: tuple[tuple[Interval, ...], ...] = ((),) * 7
    holidays: frozenset[date] = field(default_factory=frozenset)
    always: bool = False

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"Unknown time zone {self.time_zone!r}; write e.g. Europe/Paris.") from None
        if self.always:
            return
        if len(self.week) != 7:
            raise ScheduleError("A weekly schedule needs working hours for each of the 7 weekdays (or none).")
        for day, intervals in zip(WEEKDAY_NAMES, self.week, strict=True):
            previous_end = -1
            for start, end in intervals:
                if not 0 <= start < end <= MINUTES_PER_DAY:
                    raise ScheduleError(
                        f"The {day} interval {format_clock(start)}-{format_clock(end)} must start before "
                        "it ends, within the day."
                    )
                if start < previous_end:
                    raise ScheduleError(
                        f"The {day} intervals overlap or are out of order at {format_clock(start)}; "
                        "list them in order without overlaps."
                    )
                previous_end = end
        if not any(self.week):
            raise ScheduleError("A schedule needs at least one working interval in the week (or 24/7).")

    @classmethod
    def twenty_four_seven(cls) -> Schedule:
        return cls(always=True)

    @classmethod
    def weekly(
        cls,
        time_zone: str,
        hours: Mapping[str, Sequence[str]],
        holidays: Iterable[date] = (),
    ) -> Schedule:
        """From `{"mon": ["08:00-12:00", "13:00-17:00"], ...}`; weekdays left out have no working time."""
        unknown = set(hours) - set(WEEKDAY_NAMES)
        if unknown:
            raise ScheduleError(
                f"Unknown weekday {sorted(unknown)[0]!r}; use {', '.join(WEEKDAY_NAMES)}.",
            )
        week = []
        for day in WEEKDAY_NAMES:
            intervals = []
            for text in hours.get(day, ()):
                start, sep, end = text.partition("-")
                if not sep:
                    raise ScheduleError(
                        f"The {day} interval {text!r} needs a start and an end, e.g. 08:00-17:00."
                    )
                intervals.append((parse_clock(start), parse_clock(end)))
            week.append(tuple(sorted(intervals)))
        return cls(time_zone=time_zone, week=tuple(week), holidays=frozenset(holidays))


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ScheduleError(f"{name} must be time-zone aware (SLA times are computed on real instants).")
    return moment.astimezone(UTC)


def _local_instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Wall-clock `minutes` after midnight of `day` in `zone`, as a UTC instant."""
    if minutes == MINUTES_PER_DAY:
        day, minutes = day + timedelta(days=1), 0
    local = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=zone)
    return local.astimezone(UTC)


def _schedule_intervals(schedule: Schedule, since: datetime) -> Iterator[Pause]:
    """Working intervals as UTC instants, in order, clipped to start no earlier than `since`."""
    if schedule.always:
        yield since, FAR_FUTURE
        return
    zone = ZoneInfo(schedule.time_zone)
    # A day's intervals can end after the next local midnight has begun in UTC terms, so start a day early.
    day = since.astimezone(zone).date() - timedelta(days=1)
    for _ in range(SEARCH_DAYS):
        if day not in schedule.holidays:
            for start_minutes, end_minutes in schedule.week[day.weekday()]:
                start = _local_instant(day, start_minutes, zone)
                end = _local_instant(day, end_minutes, zone)
                if end > since and end > start:
                    yield max(start, since), end
        if day >= date.max - timedelta(days=2):
            return
        day += timedelta(days=1)


def _normalise_pauses(pauses: Iterable[Pause]) -> list[Pause]:
    """Sorted, merged, UTC pause intervals; empty or reversed ones dropped."""
    spans = sorted(
        (_aware(start, "A pause's start"), _aware(end, "A pause's end"))
        for start, end in pauses
        if _aware(end, "A pause's end") > _aware(start, "A pause's start")
    )
    merged: list[Pause] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _working_intervals(schedule: Schedule, since: datetime, pauses: Iterable[Pause]) -> Iterator[Pause]:
    """Working intervals from `since` on, with the pauses taken out."""
    spans = _normalise_pauses(pauses)
    index = 0
    for start, end in _schedule_intervals(schedule, since):
        while index < len(spans) and spans[index][1] <= start:
            index += 1
        cursor = start
        probe = index
        while probe < len(spans) and spans[probe][0] < end:
            pause_start, pause_end = spans[probe]
            if pause_start > cursor:
                yield cursor, pause_start
            cursor = max(cursor, pause_end)
            probe += 1
        if cursor < end:
            yield cursor, end


def due_at(start: datetime, minutes: float, schedule: Schedule, pauses: Iterable[Pause] = ()) -> datetime:
    """The instant at which `minutes` of working time (pauses excluded) have passed since `start`."""
    start = _aware(start, "The start")
    remaining = timedelta(minutes=minutes)
    if remaining <= timedelta(0):
        return start
    for begin, end in _working_intervals(schedule, start, pauses):
        length = end - begin
        if length >= remaining:
            return begin + remaining
        remaining -= length
    raise ScheduleError(
        f"The schedule has no room for {minutes} working minutes within {SEARCH_DAYS // 366} years."
    )


def working_time_between(
    start: datetime, end: datetime, schedule: Schedule, pauses: Iterable[Pause] = ()
) -> timedelta:
    """Working time (pauses excluded) from `start` to `end`; zero when `end` is not after `start`."""
    start, end = _aware(start, "The start"), _aware(end, "The end")
    total = timedelta(0)
    if end <= start:
        return total
    for begin, finish in _working_intervals(schedule, start, pauses):
        if begin >= end:
            break
        total += min(finish, end) - begin
    return total


def working_minutes_between(
    start: datetime, end: datetime, schedule: Schedule, pauses: Iterable[Pause] = ()
) -> float:
    """`working_time_between` in minutes."""
    return working_time_between(start, end, schedule, pauses) / timedelta(minutes=1)


def sla_state(
    *,
    start: datetime,
    target_minutes: float,
    now: datetime,
    schedule: Schedule,
    at_risk_share: float,
    pauses: Iterable[Pause] = (),
) -> SlaState:
    """On track, at risk (at least `at_risk_share` of the target used) or breached (all of it used)."""
    if not 0 < at_risk_share <= 1:
        raise ScheduleError("The at-risk share must be more than 0 and at most 1 (e.g. 0.75 for 75 %).")
    if target_minutes <= 0:
        raise ScheduleError("An SLA target must be at least one minute.")
    used = working_time_between(start, now, schedule, pauses)
    target = timedelta(minutes=target_minutes)
    if used >= target:
        return SlaState.BREACHED
    if used >= target * at_risk_share:
        return SlaState.AT_RISK
    return SlaState.ON_TRACK
