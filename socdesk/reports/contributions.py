"""What one ticket's fact adds to each roll-up table, and the difference between two facts (pure).

The fold applies `delta(old, new)`; the rebuild sums `contributions(fact)` over every ticket. Both use
this one definition, so incremental and rebuilt roll-ups cannot disagree on what a ticket counts for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# Each roll-up table: (its key fields, its count fields), in the order rows are built below.
TABLES: dict[str, tuple[list[str], list[str]]] = {
    "count": (
        ["day", "department_id", "team_id", "severity", "origin", "resolution"],
        ["opened", "resolved", "response_met", "response_decided", "resolution_met", "resolution_decided"],
    ),
    "duration": (["day", "department_id", "team_id", "severity", "measure", "bucket"], ["count"]),
    "rule": (
        ["day", "department_id", "team_id", "origin", "rule", "resolution"],
        ["tickets", "alerts", "resolved", "handling_seconds"],
    ),
    "agent": (["day", "department_id", "team_id", "assignee_id", "bucket"], ["resolved"]),
    "observable": (["day", "department_id", "team_id", "observable_id"], ["tickets"]),
    "week_duration": (["week", "department_id", "team_id", "severity", "measure", "bucket"], ["count"]),
    "week_agent": (["week", "department_id", "team_id", "assignee_id", "bucket"], ["resolved"]),
}
# The weekly tables: each holds its daily table's rows with the day replaced by its week's Monday. A
# long period reads its whole weeks from them (a seventh of the rows, or fewer) and its ragged ends
# from the daily table; the periods' per-week figures need nothing finer.
WEEKLY: dict[str, str] = {"duration": "week_duration", "agent": "week_agent"}

Key = tuple
Counts = tuple[int, ...]
Rows = dict[str, dict[Key, Counts]]  # table -> key -> counts


@dataclass(frozen=True)
class Fact:
    """One ticket as the metrics count it (its current dimensions; days in the installation's zone)."""

    ticket_id: int
    department_id: int
    team_id: int  # 0: no team
    severity: str
    origin: str
    assignee_id: int  # 0: unassigned
    rule: str
    created_day: date
    acknowledged_day: date | None = None
    tta_bucket: int | None = None
    resolved_day: date | None = None
    ttr_bucket: int | None = None
    resolution: str = ""
    sla_response: str = ""  # met | breached | "" (undecided or no target)
    sla_resolution: str = ""
    alerts: int = 0
    handling_seconds: int = 0
    observable_ids: tuple[int, ...] = ()


def contributions(fact: Fact) -> Rows:
    """The rows this ticket adds to each table."""
    rows: Rows = defaultdict(dict)
    dept, team = fact.department_id, fact.team_id
    response = (int(fact.sla_response == "met"), int(fact.sla_response != ""))
    resolution = (int(fact.sla_resolution == "met"), int(fact.sla_resolution != ""))
    opened_key = (fact.created_day, dept, team, fact.severity, fact.origin, "")
    _add(rows["count"], opened_key, (1, 0, *response, *resolution))
    if fact.rule:
        _add(rows["rule"], (fact.created_day, dept, team, fact.origin, fact.rule, ""), (1, fact.alerts, 0, 0))
    for observable_id in fact.observable_ids:
        _add(rows["observable"], (fact.created_day, dept, team, observable_id), (1,))
    if fact.acknowledged_day is not None and fact.tta_bucket is not None:
        _add(
            rows["duration"], (fact.acknowledged_day, dept, team, fact.severity, "tta", fact.tta_bucket), (1,)
        )
    if fact.resolved_day is not None and fact.ttr_bucket is not None:
        day = fact.resolved_day
        _add(
            rows["count"], (day, dept, team, fact.severity, fact.origin, fact.resolution), (0, 1, 0, 0, 0, 0)
        )
        _add(rows["duration"], (day, dept, team, fact.severity, "ttr", fact.ttr_bucket), (1,))
        if fact.rule:
            key = (day, dept, team, fact.origin, fact.rule, fact.resolution)
            _add(rows["rule"], key, (0, 0, 1, fact.handling_seconds))
        if fact.assignee_id:
            _add(rows["agent"], (day, dept, team, fact.assignee_id, fact.ttr_bucket), (1,))
    for daily, weekly in WEEKLY.items():
        for key, counts in list(rows.get(daily, {}).items()):
            _add(rows[weekly], (week_of(key[0]), *key[1:]), counts)
    return rows


def week_of(day: date) -> date:
    """The Monday of the day's week (ISO weeks, as the dashboard's per-week figures)."""
    return day - timedelta(days=day.weekday())


def _add(table: dict[Key, Counts], key: Key, counts: Counts) -> None:
    have = table.get(key)
    table[key] = counts if have is None else tuple(a + b for a, b in zip(have, counts, strict=True))


def accumulate(total: Rows, rows: Rows, sign: int = 1) -> None:
    """Add `rows` (times `sign`) into `total`, in place."""
    for table, keyed in rows.items():
        target = total.setdefault(table, {})
        for key, counts in keyed.items():
            _add(target, key, tuple(sign * value for value in counts))


def delta(old: Fact | None, new: Fact | None) -> Rows:
    """What the roll-ups change by when a ticket's fact goes from `old` to `new` (None: no ticket);
    rows that cancel out are left out."""
    total: Rows = {}
    if old is not None:
        accumulate(total, contributions(old), -1)
    if new is not None:
        accumulate(total, contributions(new))
    return {
        table: {key: counts for key, counts in keyed.items() if any(counts)} for table, keyed in total.items()
    }


def summed(facts: Iterable[Fact]) -> Rows:
    """Every fact's contributions added up (the rebuild)."""
    total: Rows = {}
    for fact in facts:
        accumulate(total, contributions(fact))
    return total
