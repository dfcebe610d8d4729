"""A ticket's SLA clock as values: when each target becomes at risk and due, where it stands, and which
escalation levels it has reached. Pure: no Django, no database (the services read and write the rows).

The instants are computed once in working time (socdesk.routing.sla) whenever what they depend on
changes (start, targets, plan, pauses); between those moments a state only depends on the time now,
so the scan compares instants and never redoes calendar arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from socdesk.routing import sla

ON_TRACK, AT_RISK, BREACHED, MET, NONE = "on_track", "at_risk", "breached", "met", "none"
PAUSED, DONE = "paused", "done"
# The overall state of a clock is the worst state of its running targets.
_WORST = {ON_TRACK: 0, AT_RISK: 1, BREACHED: 2}


@dataclass(frozen=True)
class TargetTimes:
    """When one target becomes at risk and when it is due (both None without a target or while paused)."""

    at_risk_at: datetime | None
    due_at: datetime | None


def target_times(
    *,
    start: datetime,
    minutes: int | None,
    schedule: sla.Schedule,
    at_risk_share: float,
    pauses: Iterable[sla.Pause],
) -> TargetTimes:
    """The at-risk and due instants of a target of `minutes` working minutes started at `start`."""
    if not minutes:
        return TargetTimes(None, None)
    spans = list(pauses)
    return TargetTimes(
        at_risk_at=sla.due_at(start, minutes * at_risk_share, schedule, spans),
        due_at=sla.due_at(start, minutes, schedule, spans),
    )


def target_state(
    *, times: TargetTimes, met_at: datetime | None, now: datetime, paused: bool = False, state: str = ""
) -> str:
    """Where a target stands now: met (done in time), breached (done late or overdue), at risk, on track.

    While paused the times are unknown and the target keeps the `state` it had when the pause began.
    """
    if times.due_at is None and not paused:
        return NONE
    if met_at is not None:
        return MET if times.due_at is None or met_at <= times.due_at else BREACHED
    if paused:
        return state or ON_TRACK
    assert times.due_at is not None
    if now >= times.due_at:
        return BREACHED
    if times.at_risk_at is not None and now >= times.at_risk_at:
        return AT_RISK
    return ON_TRACK


def overall_state(targets: Sequence[tuple[str, bool]], *, paused: bool) -> str:
    """The clock's state from its targets' (state, running): paused, the worst running one, or done."""
    if paused:
        return PAUSED
    running = [state for state, is_running in targets if is_running and state in _WORST]
    if not running:
        return DONE
    return max(running, key=_WORST.__getitem__)


def next_check(times: Iterable[tuple[TargetTimes, str]], now: datetime) -> datetime | None:
    """The earliest instant after `now` at which a running target's state changes (None: never).

    `times`: each running target's instants with its state now.
    """
    upcoming: list[datetime] = []
    for target, state in times:
        if state == ON_TRACK and target.at_risk_at is not None:
            upcoming.append(target.at_risk_at)
        if state in (ON_TRACK, AT_RISK) and target.due_at is not None:
            upcoming.append(target.due_at)
    later = [moment for moment in upcoming if moment > now]
    return min(later) if later else None


@dataclass(frozen=True)
class LevelRule:
    """One escalation level of a plan as the arithmetic needs it."""

    level: int
    target: str  # "response" | "resolution"
    trigger: str  # "at_risk" | "breached"


def trigger_holds(trigger: str, state: str) -> bool:
    """An at-risk level holds when the target is at risk or breached; a breached one only when breached."""
    return state == BREACHED or (trigger == AT_RISK and state == AT_RISK)


def levels_due(rules: Sequence[LevelRule], target: str, done: int, state: str) -> list[LevelRule]:
    """The levels of `target` to escalate now, in order: after the highest one `done`, up to the first
    whose trigger does not hold (levels are climbed one by one, never skipped)."""
    due = []
    for rule in sorted(rules, key=lambda r: r.level):
        if rule.target != target or rule.level <= done:
            continue
        if not trigger_holds(rule.trigger, state):
            break
        due.append(rule)
    return due


def levels_kept(rules: Sequence[LevelRule], target: str, done: int, state: str) -> int:
    """After a recompute, the highest level done that still holds: a ticket moved back on track (lower
    severity, a slower plan) can escalate again when it slips, and one still breached is not told twice."""
    kept = 0
    for rule in sorted(rules, key=lambda r: r.level):
        if rule.target != target:
            continue
        if rule.level > done or not trigger_holds(rule.trigger, state):
            break
        kept = rule.level
    return kept
