"""SLA arithmetic in working time: hand-computed tables (time zones, DST, holidays, weekends, pauses)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socdesk.routing.sla import (
    Schedule,
    ScheduleError,
    SlaState,
    due_at,
    sla_state,
    working_minutes_between,
    working_time_between,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = Schedule.weekly(
    "Europe/Paris",
    {day: ["09:00-12:00", "13:00-17:00"] for day in WEEKDAYS},
    holidays=[date(2026, 12, 25), date(2027, 1, 1)],
)
# Sundays only, whole day (to see DST days' real length), plus a night shift on Saturdays.
PARIS_SUNDAYS = Schedule.weekly("Europe/Paris", {"sun": ["00:00-24:00"]})
PARIS_NIGHT = Schedule.weekly("Europe/Paris", {"sun": ["01:00-04:00"]})
NY_SUNDAYS = Schedule.weekly("America/New_York", {"sun": ["00:00-24:00"]})
NY_GAP = Schedule.weekly("America/New_York", {"sun": ["02:00-03:00", "05:00-06:00"]})
NY_REPEAT = Schedule.weekly("America/New_York", {"sun": ["01:00-02:00"]})


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


DUE_TABLE = [
    # (why, schedule, start, minutes, expected due)
    ("inside working hours", OFFICE, paris(2026, 3, 2, 10, 0), 60, utc(2026, 3, 2, 10, 0)),
    ("across the lunch break", OFFICE, paris(2026, 3, 2, 11, 30), 60, utc(2026, 3, 2, 12, 30)),
    ("start before the day begins", OFFICE, paris(2026, 3, 2, 7, 0), 30, utc(2026, 3, 2, 8, 30)),
    ("start during lunch", OFFICE, paris(2026, 3, 2, 12, 20), 15, utc(2026, 3, 2, 12, 15)),
    ("start on Friday evening", OFFICE, paris(2026, 3, 6, 18, 0), 120, utc(2026, 3, 9, 10, 0)),
    ("across a weekend", OFFICE, paris(2026, 3, 6, 16, 0), 120, utc(2026, 3, 9, 9, 0)),
    ("ends exactly at closing", OFFICE, paris(2026, 3, 2, 16, 0), 60, utc(2026, 3, 2, 16, 0)),
    ("a whole working week", OFFICE, paris(2026, 3, 2, 9, 0), 5 * 7 * 60, utc(2026, 3, 6, 16, 0)),
    # Paris springs forward on Sunday 2026-03-29: Friday is UTC+1, Monday UTC+2.
    ("weekend with spring-forward", OFFICE, paris(2026, 3, 27, 16, 0), 120, utc(2026, 3, 30, 8, 0)),
    # Paris falls back on Sunday 2026-10-25: Friday is UTC+2, Monday UTC+1.
    ("weekend with fall-back", OFFICE, paris(2026, 10, 23, 16, 0), 120, utc(2026, 10, 26, 9, 0)),
    ("spring-forward day is 23 h", PARIS_SUNDAYS, paris(2026, 3, 29, 0, 0), 23 * 60, utc(2026, 3, 29, 22, 0)),
    ("fall-back day is 25 h", PARIS_SUNDAYS, paris(2026, 10, 25, 0, 0), 25 * 60, utc(2026, 10, 25, 23, 0)),
    ("01:00-04:00 over the gap is 2 h", PARIS_NIGHT, paris(2026, 3, 29, 0, 0), 120, utc(2026, 3, 29, 2, 0)),
    (
        "01:00-04:00 over the repeat is 4 h",
        PARIS_NIGHT,
        utc(2026, 10, 24, 22, 0),
        240,
        utc(2026, 10, 25, 3, 0),
    ),
    # New York springs forward on 2026-03-08 and falls back on 2026-11-01.
    ("NY spring-forward day is 23 h", NY_SUNDAYS, utc(2026, 3, 8, 5, 0), 23 * 60, utc(2026, 3, 9, 4, 0)),
    ("NY fall-back day is 25 h", NY_SUNDAYS, utc(2026, 11, 1, 4, 0), 25 * 60, utc(2026, 11, 2, 5, 0)),
    # 02:00-03:00 does not exist on 2026-03-08: no working time, so the 05:00 (EDT) interval is used.
    ("an interval inside the gap is empty", NY_GAP, utc(2026, 3, 8, 0, 0), 30, utc(2026, 3, 8, 9, 30)),
    # 01:00-02:00 on 2026-11-01 runs from 01:00 EDT (05:00 UTC) to 02:00 EST (07:00 UTC).
    ("an interval over the repeat is 2 h", NY_REPEAT, utc(2026, 11, 1, 0, 0), 90, utc(2026, 11, 1, 6, 30)),
    ("Christmas is a holiday", OFFICE, paris(2026, 12, 24, 16, 0), 120, utc(2026, 12, 28, 9, 0)),
    ("across the year end", OFFICE, paris(2026, 12, 31, 16, 30), 60, utc(2027, 1, 4, 8, 30)),
    (
        "24/7 counts real time",
        Schedule.twenty_four_seven(),
        utc(2026, 3, 28, 23, 0),
        1440,
        utc(2026, 3, 29, 23, 0),
    ),
    ("zero minutes is the start", OFFICE, paris(2026, 3, 7, 12, 0), 0, utc(2026, 3, 7, 11, 0)),
    ("seconds are kept", OFFICE, utc(2026, 3, 2, 9, 0, 30), 1, utc(2026, 3, 2, 9, 1, 30)),
]


@pytest.mark.parametrize(
    ("why", "schedule", "start", "minutes", "expected"), DUE_TABLE, ids=[r[0] for r in DUE_TABLE]
)
def test_due_at(why, schedule, start, minutes, expected):
    due = due_at(start, minutes, schedule)
    assert due == expected
    assert due.tzinfo is UTC
    if minutes:
        assert working_time_between(start, due, schedule) == timedelta(minutes=minutes)


BETWEEN_TABLE = [
    ("one working morning", OFFICE, paris(2026, 3, 2, 8, 0), paris(2026, 3, 2, 12, 30), 180),
    ("Friday afternoon to Monday morning", OFFICE, paris(2026, 3, 6, 16, 0), paris(2026, 3, 9, 10, 0), 120),
    ("a whole weekend", OFFICE, paris(2026, 3, 7, 0, 0), paris(2026, 3, 9, 0, 0), 0),
    ("the holiday counts nothing", OFFICE, paris(2026, 12, 25, 0, 0), paris(2026, 12, 26, 0, 0), 0),
    ("a week over the year end", OFFICE, paris(2026, 12, 28, 0, 0), paris(2027, 1, 4, 0, 0), 4 * 7 * 60),
    ("reversed is zero", OFFICE, paris(2026, 3, 3, 0, 0), paris(2026, 3, 2, 0, 0), 0),
    ("spring-forward Sunday", PARIS_SUNDAYS, paris(2026, 3, 29, 0, 0), paris(2026, 3, 30, 0, 0), 1380),
    ("fall-back Sunday", PARIS_SUNDAYS, paris(2026, 10, 25, 0, 0), paris(2026, 10, 26, 0, 0), 1500),
    ("NY gap interval", NY_GAP, utc(2026, 3, 8, 0, 0), utc(2026, 3, 9, 0, 0), 60),
]


@pytest.mark.parametrize(
    ("why", "schedule", "a", "b", "expected"), BETWEEN_TABLE, ids=[r[0] for r in BETWEEN_TABLE]
)
def test_working_minutes_between(why, schedule, a, b, expected):
    assert working_minutes_between(a, b, schedule) == expected


def test_pauses_are_taken_out_of_working_time():
    start = paris(2026, 3, 2, 10, 0)
    on_hold = [(paris(2026, 3, 2, 10, 30), paris(2026, 3, 2, 11, 30))]
    # 10:00-10:30, 11:30-12:00, 13:00-14:00.
    assert due_at(start, 120, OFFICE, on_hold) == paris(2026, 3, 2, 14, 0)
    assert working_minutes_between(start, paris(2026, 3, 2, 14, 0), OFFICE, on_hold) == 120
    # Overlapping and out-of-order pauses merge; a pause over the weekend changes nothing.
    messy = [
        (paris(2026, 3, 2, 11, 0), paris(2026, 3, 2, 11, 30)),
        (paris(2026, 3, 2, 10, 30), paris(2026, 3, 2, 11, 15)),
        (paris(2026, 3, 7, 0, 0), paris(2026, 3, 8, 0, 0)),
        (paris(2026, 3, 3, 0, 0), paris(2026, 3, 2, 0, 0)),  # reversed: ignored
    ]
    assert due_at(start, 120, OFFICE, messy) == paris(2026, 3, 2, 14, 0)
    # 24/7 with a pause: real time minus the pause.
    always = Schedule.twenty_four_seven()
    assert due_at(utc(2026, 1, 1), 60, always, [(utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 2, 0))]) == utc(
        2026, 1, 1, 2, 30
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (paris(2026, 3, 2, 10, 30), SlaState.ON_TRACK),
        (paris(2026, 3, 2, 10, 44), SlaState.ON_TRACK),
        (paris(2026, 3, 2, 10, 45), SlaState.AT_RISK),
        (paris(2026, 3, 2, 11, 0), SlaState.BREACHED),
        (paris(2026, 3, 2, 9, 0), SlaState.ON_TRACK),  # before the start
    ],
)
def test_sla_state(now, expected):
    state = sla_state(
        start=paris(2026, 3, 2, 10, 0), target_minutes=60, now=now, schedule=OFFICE, at_risk_share=0.75
    )
    assert state is expected


def test_sla_state_on_hold_and_outside_hours_stays_on_track():
    start = paris(2026, 3, 6, 16, 50)
    # 10 minutes used on Friday; the weekend adds nothing.
    assert (
        sla_state(
            start=start, target_minutes=60, now=paris(2026, 3, 8, 23, 0), schedule=OFFICE, at_risk_share=0.5
        )
        is SlaState.ON_TRACK
    )
    pauses = [(paris(2026, 3, 9, 9, 0), paris(2026, 3, 9, 11, 0))]
    assert (
        sla_state(
            start=start,
            target_minutes=60,
            now=paris(2026, 3, 9, 11, 0),
            schedule=OFFICE,
            at_risk_share=0.5,
            pauses=pauses,
        )
        is SlaState.ON_TRACK
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Schedule.weekly("Mars/Olympus", {"mon": ["09:00-17:00"]}),
            "Unknown time zone 'Mars/Olympus'",
        ),
        (
            lambda: Schedule.weekly("UTC", {"mon": ["17:00-09:00"]}),
            "mon interval 17:00-09:00 must start before",
        ),
        (lambda: Schedule.weekly("UTC", {"tue": ["09:00-12:00", "11:00-13:00"]}), "tue intervals overlap"),
        (lambda: Schedule.weekly("UTC", {"mon": ["9-17"]}), "'9' is not a time of day"),
        (lambda: Schedule.weekly("UTC", {"mon": ["09:00"]}), "needs a start and an end"),
        (lambda: Schedule.weekly("UTC", {"mon": ["09:00-24:30"]}), "'24:30' is not a time of day"),
        (lambda: Schedule.weekly("UTC", {"funday": ["09:00-17:00"]}), "Unknown weekday 'funday'"),
        (lambda: Schedule.weekly("UTC", {}), "at least one working interval"),
    ],
)
def test_invalid_schedules_are_refused(build, message):
    with pytest.raises(ScheduleError) as caught:
        build()
    assert message in str(caught.value)


def test_naive_times_and_bad_states_are_refused():
    with pytest.raises(ScheduleError, match="The start must be time-zone aware"):
        due_at(datetime(2026, 3, 2, 10, 0), 60, OFFICE)
    with pytest.raises(ScheduleError, match="at-risk share"):
        sla_state(
            start=utc(2026, 1, 1), target_minutes=60, now=utc(2026, 1, 2), schedule=OFFICE, at_risk_share=0
        )
    with pytest.raises(ScheduleError, match="at least one minute"):
        sla_state(
            start=utc(2026, 1, 1), target_minutes=0, now=utc(2026, 1, 2), schedule=OFFICE, at_risk_share=0.5
        )


# ---- properties ------------------------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"]


@st.composite
def schedules(draw):
    if draw(st.integers(0, 5)) == 0:
        return Schedule.twenty_four_seven()
    week = []
    for _ in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 1440), max_size=4)))
        pairs = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
        week.append(tuple(pairs))
    # A week of a few working minutes is a valid schedule, but 6,000 minutes of it lie beyond the 20 years
    # due_at searches (ScheduleError, tested on its own): give such a week a working Monday.
    if sum(end - begin for day in week for begin, end in day) < 120:
        week[0] = ((540, 1020),)
    holidays = draw(st.frozensets(st.dates(date(2025, 12, 1), date(2027, 2, 1)), max_size=20))
    return Schedule(time_zone=draw(st.sampled_from(ZONES)), week=tuple(week), holidays=holidays)


instants = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC))
pause_lists = st.lists(st.tuples(instants, instants), max_size=3)


@settings(max_examples=150, deadline=None)
@given(schedule=schedules(), start=instants, minutes=st.integers(0, 6000), pauses=pause_lists)
def test_due_at_then_working_time_between_round_trips(schedule, start, minutes, pauses):
    due = due_at(start, minutes, schedule, pauses)
    assert due >= start
    assert working_time_between(start, due, schedule, pauses) == timedelta(minutes=minutes)


@settings(max_examples=150, deadline=None)
@given(
    schedule=schedules(),
    a=instants,
    b=instants,
    m1=st.integers(0, 4000),
    m2=st.integers(0, 4000),
    pauses=pause_lists,
)
def test_monotonic(schedule, a, b, m1, m2, pauses):
    a, b = min(a, b), max(a, b)
    m1, m2 = min(m1, m2), max(m1, m2)
    assert due_at(a, m1, schedule, pauses) <= due_at(b, m1, schedule, pauses)
    assert due_at(a, m1, schedule, pauses) <= due_at(a, m2, schedule, pauses)
    assert working_time_between(a, b, schedule, pauses) <= b - a
    assert working_time_between(a, b, schedule, pauses) + working_time_between(
        b, b + timedelta(days=3), schedule, pauses
    ) == working_time_between(a, b + timedelta(days=3), schedule, pauses)


STATE_ORDER = [SlaState.ON_TRACK, SlaState.AT_RISK, SlaState.BREACHED]


@settings(max_examples=100, deadline=None)
@given(
    schedule=schedules(),
    start=instants,
    a=instants,
    b=instants,
    target=st.integers(1, 3000),
    share=st.floats(0.01, 1.0),
)
def test_sla_state_never_goes_back_as_time_passes(schedule, start, a, b, target, share):
    a, b = min(a, b), max(a, b)
    first = sla_state(start=start, target_minutes=target, now=a, schedule=schedule, at_risk_share=share)
    later = sla_state(start=start, target_minutes=target, now=b, schedule=schedule, at_risk_share=share)
    assert STATE_ORDER.index(first) <= STATE_ORDER.index(later)
    due = due_at(start, target, schedule)
    at_due = sla_state(start=start, target_minutes=target, now=due, schedule=schedule, at_risk_share=share)
    assert at_due is SlaState.BREACHED
