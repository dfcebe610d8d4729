"""What the SOC dashboard, the scheduled report and `/api/v1/metrics/...` show: the figures as plain values.

Pure: no database. `reports.selectors` fills these from the roll-ups; the dashboard page, the report and the
API only render them, so the three always agree.

Definitions (docs/reports.md says the same to users):

- Days are calendar days in the installation's time zone (`SOCDESK_TIME_ZONE`); a period is a range of
  whole days, `start` to `end` inclusive.
- *Opened* counts a ticket on the day it was created; *resolved* on the day of its `resolved_at`.
- Dimensions (department, team, severity, origin, assignee) are the ticket's current ones.
- *Origin* is the security tool for an alert ticket (`elastic`, `wazuh`...: its first alert's adapter) and
  the channel for the others (`web`, `email`, `api`, `phone`, `other`).
- *Time to acknowledge* (TTA) is `acknowledged_at - created_at`, counted on the day of acknowledgement;
  *time to resolve* (TTR) is `resolved_at - created_at`, counted on the day of resolution.
- Median and p90 come from a histogram of durations in logarithmic buckets (`bucket_of`), so a quantile
  is exact to within one bucket: its upper bound is at most `BUCKET_RATIO` times its lower bound.
- SLA compliance: of the tickets opened in the period whose response (resolution) target is decided,
  the share met; undecided targets (on track, at risk) and tickets without a target are not counted.
- A ticket's *rule* is its first alert's rule name (empty for tickets not raised by an alert).
- *Handling time* is `resolved_at - acknowledged_at` (0 when never acknowledged), summed.
- A playbook task's *time* is `done_at - created_at` (a playbook's tasks are created when it is applied),
  counted on the day it was done; a skipped task counts on the day of its last change (the skip). Its
  median and p90 are exact (nearest rank), not bucketed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

# Buckets: 0 holds durations under one second; bucket b >= 1 holds [RATIO**(b-1), RATIO**b) seconds.
BUCKET_RATIO = 1.1
MAX_BUCKET = 200  # 1.1**200 s is about 6,000 years: nothing real lands past it


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a duration (negative durations, clock skew, count as 0)."""
    if seconds < 1:
        return 0
    return min(MAX_BUCKET, math.floor(math.log(seconds) / math.log(BUCKET_RATIO)) + 1)


def bucket_upper(bucket: int) -> float:
    """The upper bound of a bucket in seconds (what a quantile falling in it is reported as)."""
    return 1.0 if bucket == 0 else BUCKET_RATIO**bucket


def quantile(histogram: dict[int, int], q: float) -> float | None:
    """The q-quantile (0 < q <= 1) of a bucket histogram as the upper bound of its bucket; None if empty."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket_upper(bucket)
    return bucket_upper(max(histogram))


@dataclass(frozen=True)
class Period:
    """Whole days `start`..`end` inclusive, in the installation's time zone."""

    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def whole_weeks(self) -> tuple[date, date]:
        """The Mondays `first`..`until` (until excluded) of the weeks lying wholly inside the period;
        the days before `first` and from `until` on are its ragged ends. Without a whole week both are
        the day after the period (so every day is a ragged end)."""
        first = self.start + timedelta(days=-self.start.weekday() % 7)
        after = self.end + timedelta(days=1)
        until = after - timedelta(days=after.weekday())
        if first >= until:
            return after, after
        return first, until


@dataclass(frozen=True)
class Scope:
    """Whose tickets: the departments the viewer may see, narrowed by the picker (None: all of those)."""

    department_ids: frozenset[int]
    team_id: int | None = None


@dataclass(frozen=True)
class Durations:
    """Median and p90 in seconds (None when nothing was counted) and how many were counted."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class NowFigures:
    """The live state: read from the open tickets and the ingest queue at the time of asking."""

    open_by_severity_status: dict[tuple[str, str], int]  # (severity, status) -> open tickets
    unassigned: int
    sla_at_risk: int
    sla_breached: int
    oldest_open: dict[str, float]  # severity -> age in seconds of its oldest open ticket
    open_per_agent: dict[int, int]  # agent id -> open tickets assigned
    ingest_backlog: int  # deliveries waiting
    ingest_oldest_seconds: float  # 0 when none waits
    alerts_last_hour: int  # alerts processed in the last 60 minutes (the rate shown is this / 3600)


@dataclass(frozen=True)
class RuleRow:
    """One line of the noisiest-rules table."""

    rule: str
    origin: str
    alerts: int
    tickets: int
    resolved: int
    false_positives: int
    handling_seconds: float
    verdicts: dict[str, int] = field(default_factory=dict)  # resolution -> resolved tickets

    @property
    def false_positive_rate(self) -> float | None:
        return self.false_positives / self.resolved if self.resolved else None


@dataclass(frozen=True)
class AgentRow:
    """One agent's workload over the period (open now comes from NowFigures.open_per_agent)."""

    agent_id: int
    name: str
    resolved: int
    time_to_resolve: Durations


@dataclass(frozen=True)
class ObservableRow:
    """An observable and the number of tickets opened in the period that carry it."""

    observable_id: int
    type: str
    value: str
    tickets: int


@dataclass(frozen=True)
class PlaybookTaskRow:
    """One task of one playbook over the period: done and skipped counts, and the median and p90 of the
    done ones' time from the playbook's application to done (exact, in seconds; None when none was done)."""

    playbook_id: int
    playbook: str
    position: int  # the task's place in the playbook's current version (1 = first)
    title: str
    done: int
    skipped: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class PeriodFigures:
    """Everything the dashboard shows for a period and scope."""

    period: Period
    scope: Scope
    # per day: (day, origin, severity) -> count
    opened: dict[tuple[date, str, str], int]
    resolved: dict[tuple[date, str, str], int]
    # MTTA / MTTR by one dimension at a time; keys are the dimension's value
    tta_by_severity: dict[str, Durations]
    ttr_by_severity: dict[str, Durations]
    tta_by_department: dict[int, Durations]
    ttr_by_department: dict[int, Durations]
    tta_by_team: dict[int | None, Durations]
    ttr_by_team: dict[int | None, Durations]
    tta_by_week: dict[date, Durations]  # week starts Monday
    ttr_by_week: dict[date, Durations]
    # SLA: severity -> (met, decided) for the response and the resolution targets
    sla_response: dict[str, tuple[int, int]]
    sla_resolution: dict[str, tuple[int, int]]
    # verdicts: (origin, resolution) -> resolved tickets
    verdicts_by_origin: dict[tuple[str, str], int]
    rules: list[RuleRow]  # noisiest first (most alerts)
    observables: list[ObservableRow]  # most tickets first, at most 20
    agents: list[AgentRow]  # most resolved first
    names: dict[str, dict[int, str]] = field(default_factory=dict)  # "department"/"team" -> id -> name
    # per playbook (by name) and task (in the playbook's order); read off the tasks, not the roll-ups
    playbooks: list[PlaybookTaskRow] = field(default_factory=list)
