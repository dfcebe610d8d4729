"""The SOC dashboard's figures as JSON: `/metrics/now` (the live state) and `/metrics/period` (a period).

The same picker as the dashboard (department, team, period 24h/7d/30d or from/to) and the same figures
(`reports.selectors`), scoped like the tickets: an agent's departments, a key's department (or all for a
key tied to none); another department or team is a 404, as a ticket of another department is.
Not to be confused with `/metrics`, the Prometheus exposition for the platform team (docs/metrics.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from socdesk.accounts.models import Agent, Department, Team
from socdesk.api.v1.schemas import DbId, ErrorOut, QueryParams
from socdesk.api.v1.security import Caller, requires
from socdesk.core.errors import ServiceError
from socdesk.reports.figures import Durations, Scope
from socdesk.reports.periods import PeriodError, picker_period
from socdesk.reports.scopes import key_sees_all_ingest, scope_for_key
from socdesk.reports.selectors import now_figures, period_figures, scope_for_agent
from socdesk.reports.visibility import sees_all_ingest

router = Router(tags=["metrics"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


# --- input ------------------------------------------------------------------------------------------


class ScopeParams(QueryParams):
    """Whose figures: the caller's departments, narrowed to one department or team."""

    department: DbId | None = Field(None, description="A department id (default: every one the caller sees).")
    team: DbId | None = Field(None, description="A team id (its department must be one the caller sees).")


class PeriodParams(ScopeParams):
    """Whose figures, and over which whole days (in the installation's time zone)."""

    period: Literal["24h", "7d", "30d", "custom"] | None = Field(
        None,
        description="As the dashboard's picker: 24h is yesterday and today, 7d (the default) and 30d the "
        "last 7 or 30 calendar days, today included; custom (or just from and to) the days from..to.",
    )
    from_: date | None = Field(None, alias="from", description="First day (inclusive), with `to`.")
    to: date | None = Field(
        None, description="Last day (inclusive), with `from`; today at the latest, at most 366 days."
    )


# --- output -----------------------------------------------------------------------------------------


class ScopeOut(Schema):
    department_ids: list[int] = Field(description="The departments counted.")
    team_id: int | None = Field(description="The team counted, if the figures are one team's.")


class NamedOut(Schema):
    id: int
    name: str


class SeverityStatusCount(Schema):
    severity: str
    status: str
    count: int


class SeverityAge(Schema):
    severity: str
    oldest_open_seconds: float = Field(description="Age of the oldest open ticket of this severity.")


class AgentOpen(Schema):
    agent_id: int
    name: str
    open: int = Field(description="Open tickets assigned to the agent.")


class IngestOut(Schema):
    backlog: int = Field(description="Alert deliveries received and waiting to be processed.")
    oldest_seconds: float = Field(description="Age of the oldest waiting delivery (0 when none waits).")
    alerts_last_hour: int = Field(description="Alerts processed in the last 60 minutes.")
    alerts_per_second: float = Field(description="alerts_last_hour / 3600.")


class NowOut(Schema):
    """The live state of the scope's tickets and of alert ingest."""

    at: datetime = Field(description="When the figures were read.")
    scope: ScopeOut
    open_by_severity_status: list[SeverityStatusCount]
    unassigned: int = Field(description="Open tickets with no assignee.")
    sla_at_risk: int = Field(description="Open tickets whose SLA target is at risk.")
    sla_breached: int = Field(description="Open tickets whose SLA target is breached.")
    oldest_open: list[SeverityAge]
    open_per_agent: list[AgentOpen]
    ingest: IngestOut | None = Field(
        description="Alert ingest, counted over every integration: null for a caller who does not see the "
        "department of every integration (as on the dashboard)."
    )


class DayCountOut(Schema):
    day: date
    origin: str = Field(description="The security tool (alert tickets) or the channel (others).")
    severity: str
    count: int


class DurationsOut(Schema):
    key: str | None = Field(description="The severity, department id, team id (null: no team) or week.")
    count: int = Field(description="Tickets counted.")
    median_seconds: float | None
    p90_seconds: float | None


class DurationsByOut(Schema):
    by_severity: list[DurationsOut]
    by_department: list[DurationsOut]
    by_team: list[DurationsOut]
    by_week: list[DurationsOut] = Field(description="Keyed by the week's Monday.")


class SlaOut(Schema):
    severity: str
    response_met: int
    response_decided: int
    response_percent: float | None = Field(description="null when no response target was decided.")
    resolution_met: int
    resolution_decided: int
    resolution_percent: float | None


class VerdictOut(Schema):
    origin: str
    resolution: str
    count: int = Field(description="Tickets resolved with this verdict.")


class RuleOut(Schema):
    rule: str = Field(description="The first alert's rule name ('' for tickets not raised by an alert).")
    origin: str
    alerts: int
    tickets: int
    resolved: int
    false_positives: int
    false_positive_rate: float | None = Field(description="false_positives / resolved; null if none.")
    handling_seconds: float = Field(description="Analyst time: resolved_at - acknowledged_at, summed.")
    verdicts: dict[str, int]


class ObservableOut(Schema):
    id: int
    type: str
    value: str
    tickets: int = Field(description="Tickets opened in the period that carry it.")


class AgentWorkloadOut(Schema):
    agent_id: int
    name: str
    resolved: int
    time_to_resolve: DurationsOut


class PlaybookTaskOut(Schema):
    playbook_id: int
    playbook: str
    position: int = Field(description="The task's place in the playbook's current version (1 = first).")
    title: str
    done: int = Field(description="Tasks done in the period.")
    skipped: int = Field(description="Tasks skipped in the period.")
    median_seconds: float | None = Field(description="Median time from the playbook's application to done.")
    p90_seconds: float | None


class PeriodRangeOut(Schema):
    start: date
    end: date


class PeriodOut(Schema):
    """The figures of a period (whole days) for the scope: docs/reports.md defines each."""

    period: PeriodRangeOut
    scope: ScopeOut
    opened: list[DayCountOut]
    resolved: list[DayCountOut]
    time_to_acknowledge: DurationsByOut
    time_to_resolve: DurationsByOut
    sla: list[SlaOut]
    verdicts: list[VerdictOut]
    rules: list[RuleOut] = Field(description="Noisiest first (most alerts).")
    observables: list[ObservableOut] = Field(description="Most tickets first, at most 20.")
    agents: list[AgentWorkloadOut] = Field(description="Most resolved first.")
    playbooks: list[PlaybookTaskOut] = Field(
        description="Per playbook (by name) and task (in the playbook's order): tasks done or skipped "
        "in the period; the tickets behind a row are `/tickets?playbook=<playbook_id>`."
    )
    departments: list[NamedOut]
    teams: list[NamedOut]


# --- helpers ----------------------------------------------------------------------------------------


def _scope(caller: Caller, params: ScopeParams) -> Scope:
    if caller.agent is not None:
        return scope_for_agent(caller.agent, department_id=params.department, team_id=params.team)
    assert caller.key is not None  # a caller is an agent or a key
    return scope_for_key(caller.key, department_id=params.department, team_id=params.team)


def _sees_all_ingest(caller: Caller) -> bool:
    if caller.agent is not None:
        return sees_all_ingest(caller.agent)
    assert caller.key is not None
    return key_sees_all_ingest(caller.key)


def _scope_out(scope: Scope) -> dict:
    return {"department_ids": sorted(scope.department_ids), "team_id": scope.team_id}


def _durations(key: object, value: Durations) -> dict:
    return {
        "key": None if key is None else str(key),
        "count": value.count,
        "median_seconds": value.median,
        "p90_seconds": value.p90,
    }


def _durations_list(by: dict) -> list[dict]:
    return [_durations(key, by[key]) for key in sorted(by, key=lambda k: (k is None, str(k)))]


def _percent(met: int, decided: int) -> float | None:
    return round(100 * met / decided, 2) if decided else None


def _day_counts(counts: dict[tuple[date, str, str], int]) -> list[dict]:
    return [
        {"day": day, "origin": origin, "severity": severity, "count": count}
        for (day, origin, severity), count in sorted(counts.items())
    ]


# --- endpoints --------------------------------------------------------------------------------------


@router.get(
    "/metrics/now",
    response={200: NowOut, **ERRORS},
    auth=requires("tickets:read"),
    url_name="metrics_now",
    summary="The live state: open tickets, SLA risk, backlog age, alert ingest",
)
def metrics_now(request, params: Query[ScopeParams]):
    """The dashboard's "now" figures for the caller's departments (or the department or team asked for):
    open tickets by severity and status, unassigned, SLA at risk and breached, the oldest open ticket per
    severity, open tickets per agent, and the alert ingest backlog and rate (null for a caller who does not
    see every integration's department). Scope: tickets:read."""
    caller: Caller = request.auth
    scope = _scope(caller, params)
    figures = now_figures(scope)
    agents = Agent.objects.select_related("user").filter(pk__in=list(figures.open_per_agent))
    names = {agent.pk: agent.name for agent in agents}
    return {
        "at": timezone.now(),
        "scope": _scope_out(scope),
        "open_by_severity_status": [
            {"severity": severity, "status": status, "count": count}
            for (severity, status), count in sorted(figures.open_by_severity_status.items())
        ],
        "unassigned": figures.unassigned,
        "sla_at_risk": figures.sla_at_risk,
        "sla_breached": figures.sla_breached,
        "oldest_open": [
            {"severity": severity, "oldest_open_seconds": age}
            for severity, age in sorted(figures.oldest_open.items())
        ],
        "open_per_agent": [
            {"agent_id": agent_id, "name": names.get(agent_id, ""), "open": count}
            for agent_id, count in sorted(
                figures.open_per_agent.items(), key=lambda item: (-item[1], item[0])
            )
        ],
        "ingest": {
            "backlog": figures.ingest_backlog,
            "oldest_seconds": figures.ingest_oldest_seconds,
            "alerts_last_hour": figures.alerts_last_hour,
            "alerts_per_second": round(figures.alerts_last_hour / 3600, 4),
        }
        if _sees_all_ingest(caller)
        else None,
    }


@router.get(
    "/metrics/period",
    response={200: PeriodOut, **ERRORS},
    auth=requires("tickets:read"),
    url_name="metrics_period",
    summary="A period's figures: opened/resolved, MTTA/MTTR, SLA compliance, verdicts, rules, workload",
)
def metrics_period(request, params: Query[PeriodParams]):
    """The dashboard's figures over whole days: tickets opened and resolved per day by origin and severity;
    time to acknowledge and to resolve (median, p90) by severity, department, team and week; SLA compliance
    per severity; verdicts per origin; the noisiest rules; the top observables; analyst workload; playbook
    tasks (done, skipped, median and p90 time to done).
    Days are calendar days in the installation's time zone. Scope: tickets:read."""
    caller: Caller = request.auth
    scope = _scope(caller, params)
    try:
        period = picker_period(params.period, params.from_, params.to, today=timezone.localdate())
    except PeriodError as exc:
        raise ServiceError(str(exc), fields={"period": "invalid"}) from None
    figures = period_figures(period, scope)
    department_names = figures.names.get("department") or dict(
        Department.objects.filter(pk__in=sorted(scope.department_ids)).values_list("pk", "name")
    )
    team_ids = [key for key in figures.tta_by_team if key is not None] + [
        key for key in figures.ttr_by_team if key is not None
    ]
    team_names = figures.names.get("team") or dict(
        Team.objects.filter(pk__in=team_ids).values_list("pk", "name")
    )
    severities = sorted(set(figures.sla_response) | set(figures.sla_resolution))
    sla = []
    for severity in severities:
        r_met, r_decided = figures.sla_response.get(severity, (0, 0))
        s_met, s_decided = figures.sla_resolution.get(severity, (0, 0))
        sla.append(
            {
                "severity": severity,
                "response_met": r_met,
                "response_decided": r_decided,
                "response_percent": _percent(r_met, r_decided),
                "resolution_met": s_met,
                "resolution_decided": s_decided,
                "resolution_percent": _percent(s_met, s_decided),
            }
        )
    return {
        "period": {"start": period.start, "end": period.end},
        "scope": _scope_out(scope),
        "opened": _day_counts(figures.opened),
        "resolved": _day_counts(figures.resolved),
        "time_to_acknowledge": {
            "by_severity": _durations_list(figures.tta_by_severity),
            "by_department": _durations_list(figures.tta_by_department),
            "by_team": _durations_list(figures.tta_by_team),
            "by_week": _durations_list(figures.tta_by_week),
        },
        "time_to_resolve": {
            "by_severity": _durations_list(figures.ttr_by_severity),
            "by_department": _durations_list(figures.ttr_by_department),
            "by_team": _durations_list(figures.ttr_by_team),
            "by_week": _durations_list(figures.ttr_by_week),
        },
        "sla": sla,
        "verdicts": [
            {"origin": origin, "resolution": resolution, "count": count}
            for (origin, resolution), count in sorted(figures.verdicts_by_origin.items())
        ],
        "rules": [
            {
                "rule": rule.rule,
                "origin": rule.origin,
                "alerts": rule.alerts,
                "tickets": rule.tickets,
                "resolved": rule.resolved,
                "false_positives": rule.false_positives,
                "false_positive_rate": rule.false_positive_rate,
                "handling_seconds": rule.handling_seconds,
                "verdicts": rule.verdicts,
            }
            for rule in figures.rules
        ],
        "observables": [
            {"id": o.observable_id, "type": o.type, "value": o.value, "tickets": o.tickets}
            for o in figures.observables
        ],
        "agents": [
            {
                "agent_id": a.agent_id,
                "name": a.name,
                "resolved": a.resolved,
                "time_to_resolve": _durations(a.agent_id, a.time_to_resolve),
            }
            for a in figures.agents
        ],
        "playbooks": [
            {
                "playbook_id": row.playbook_id,
                "playbook": row.playbook,
                "position": row.position,
                "title": row.title,
                "done": row.done,
                "skipped": row.skipped,
                "median_seconds": row.median,
                "p90_seconds": row.p90,
            }
            for row in figures.playbooks
        ],
        "departments": [{"id": pk, "name": name} for pk, name in sorted(department_names.items())],
        "teams": [{"id": pk, "name": name} for pk, name in sorted(team_names.items())],
    }
