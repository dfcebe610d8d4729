"""The pure clock arithmetic (socdesk.routing.clocks): states, next checks, escalation levels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socdesk.routing import sla
from socdesk.routing.clocks import (
    LevelRule,
    TargetTimes,
    levels_due,
    levels_kept,
    next_check,
    overall_state,
    target_state,
    target_times,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
TIMES = TargetTimes(at_risk_at=T0 + timedelta(minutes=45), due_at=T0 + timedelta(minutes=60))


@pytest.mark.parametrize(
    ("minutes_after", "met_after", "paused", "kept", "expected"),
    [
        (10, None, False, "", "on_track"),
        (45, None, False, "", "at_risk"),
        (59, None, False, "", "at_risk"),
        (60, None, False, "", "breached"),
        (90, 30, False, "", "met"),
        (90, 60, False, "", "met"),  # met exactly at the due time is in time
        (90, 61, False, "", "breached"),  # met late stays breached
        (90, None, True, "at_risk", "at_risk"),  # paused: keeps the state it had
        (90, None, True, "", "on_track"),
    ],
)
def test_target_state(minutes_after, met_after, paused, kept, expected):
    met = T0 + timedelta(minutes=met_after) if met_after is not None else None
    now = T0 + timedelta(minutes=minutes_after)
    assert target_state(times=TIMES, met_at=met, now=now, paused=paused, state=kept) == expected


def test_no_target_is_none():
    assert target_state(times=TargetTimes(None, None), met_at=None, now=T0) == "none"


@pytest.mark.parametrize(
    ("targets", "paused", "expected"),
    [
        ([("on_track", True), ("at_risk", True)], False, "at_risk"),
        ([("breached", False), ("on_track", True)], False, "on_track"),  # a met-late target no longer runs
        ([("met", False), ("met", False)], False, "done"),
        ([("breached", True)], True, "paused"),
        ([("none", False), ("none", False)], False, "done"),
    ],
)
def test_overall_state(targets, paused, expected):
    assert overall_state(targets, paused=paused) == expected


@pytest.mark.parametrize(
    ("state", "minutes_now", "expected_minutes"),
    [("on_track", 10, 45), ("at_risk", 50, 60), ("breached", 70, None)],
)
def test_next_check_is_the_next_instant_the_state_changes(state, minutes_now, expected_minutes):
    now = T0 + timedelta(minutes=minutes_now)
    expected = T0 + timedelta(minutes=expected_minutes) if expected_minutes is not None else None
    assert next_check([(TIMES, state)], now) == expected


RULES = (
    LevelRule(level=1, target="response", trigger="at_risk"),
    LevelRule(level=2, target="response", trigger="breached"),
    LevelRule(level=3, target="resolution", trigger="breached"),
    LevelRule(level=4, target="response", trigger="at_risk"),  # after a breached one: needs it first
)


@pytest.mark.parametrize(
    ("target", "done", "state", "expected"),
    [
        ("response", 0, "on_track", []),
        ("response", 0, "at_risk", [1]),  # level 2 does not hold, so level 4 is not reached either
        ("response", 0, "breached", [1, 2, 4]),
        ("response", 1, "breached", [2, 4]),
        ("response", 4, "breached", []),
        ("resolution", 0, "at_risk", []),
        ("resolution", 0, "breached", [3]),
    ],
)
def test_levels_are_climbed_in_order_without_skipping(target, done, state, expected):
    assert [rule.level for rule in levels_due(RULES, target, done, state)] == expected


@pytest.mark.parametrize(
    ("done", "state", "expected"),
    [(4, "breached", 4), (4, "at_risk", 1), (2, "on_track", 0), (1, "at_risk", 1)],
)
def test_levels_kept_after_a_recompute_are_those_still_holding(done, state, expected):
    assert levels_kept(RULES, "response", done, state) == expected


def test_target_times_in_working_hours_and_with_a_pause():
    office = sla.Schedule.weekly(
        "Europe/Paris", {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    )
    start = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # Friday 16:00 in Paris: one working hour left
    times = target_times(start=start, minutes=120, schedule=office, at_risk_share=0.5, pauses=())
    assert times.at_risk_at == datetime(2026, 3, 6, 16, 0, tzinfo=UTC)  # Friday 17:00 Paris
    assert times.due_at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday 10:00 Paris
    pause = (datetime(2026, 3, 6, 15, 30, tzinfo=UTC), datetime(2026, 3, 9, 8, 30, tzinfo=UTC))
    paused = target_times(start=start, minutes=120, schedule=office, at_risk_share=0.5, pauses=[pause])
    # 30 working minutes before the pause, the other 90 from Monday 09:30 Paris (08:30 UTC) on.
    assert paused.due_at == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    assert target_times(
        start=start, minutes=None, schedule=office, at_risk_share=0.5, pauses=()
    ) == TargetTimes(None, None)
