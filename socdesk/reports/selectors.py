"""The SOC metrics as an agent may see them: the scope of their departments, the live figures off the
open tickets and the ingest queue, and a period's figures off the roll-ups (never the tickets; the playbook
tasks of the period are read off the tasks)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, IntegerField, Min, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from socdesk.accounts.models import Agent, Department, Team
from socdesk.accounts.selectors import visible_department_ids
from socdesk.alerts.models import AlertsPerMinute, Observable
from socdesk.alerts.selectors import ingest_backlog
from socdesk.cases.selectors import playbook_task_statistics
from socdesk.core.errors import NotFound
from socdesk.core.sql import grouped_sums, plain_rows
from socdesk.reports.contributions import week_of
from socdesk.reports.figures import (
    AgentRow,
    Durations,
    NowFigures,
    ObservableRow,
    Period,
    PeriodFigures,
    PlaybookTaskRow,
    RuleRow,
    Scope,
    quantile,
)
from socdesk.reports.models import (
    DayAgent,
    DayCount,
    DayDuration,
    DayObservable,
    DayRule,
    WeekAgent,
    WeekDuration,
)
from socdesk.routing.choices import ClockState
from socdesk.routing.models import TicketSLA
from socdesk.tickets.choices import OPEN_STATUSES, Resolution
from socdesk.tickets.models import Ticket

TOP_OBSERVABLES = 20


def scope_for_agent(agent: Agent, *, department_id: int | None = None, team_id: int | None = None) -> Scope:
    """The departments whose figures the agent sees, narrowed to one department or team when asked.

    A department or team the agent may not see is NotFound, exactly as one that does not exist.
    """
    visible = visible_department_ids(agent)
    if visible is None:
        visible = set(Department.objects.values_list("pk", flat=True))
    chosen = set(visible)
    if department_id is not None:
        if department_id not in visible:
            raise NotFound("No such department.")
        chosen = {department_id}
    if team_id is not None:
        team_department = Team.objects.filter(pk=team_id).values_list("department_id", flat=True).first()
        if team_department is None or team_department not in chosen:
            raise NotFound("No such team.")
        chosen = {team_department}
    return Scope(department_ids=frozenset(chosen), team_id=team_id)


def _scoped(queryset: QuerySet[Any], scope: Scope, via: str = "") -> QuerySet[Any]:
    queryset = queryset.filter(**{f"{via}department_id__in": sorted(scope.department_ids)})
    if scope.team_id is not None:
        queryset = queryset.filter(**{f"{via}team_id": scope.team_id})
    return queryset


def now_figures(scope: Scope, *, now: datetime | None = None) -> NowFigures:
    """The live state of the scope's open tickets (read off the partial indexes of open tickets), the
    ingest backlog and the alerts processed in the last hour (the per-minute counts ingest keeps)."""
    now = now or timezone.now()
    # One index-only scan of the open tickets' partial index (ticket_open_figures_idx) gives every
    # figure below: a few hundred groups, summed here.
    by_severity_status: dict[tuple[str, str], int] = defaultdict(int)
    oldest: dict[str, float] = {}
    per_agent: dict[int, int] = defaultdict(int)
    unassigned = 0
    groups = (
        _scoped(Ticket.objects.filter(status__in=OPEN_STATUSES), scope)
        .order_by()
        .values("severity", "status", "assignee_id")
        .annotate(n=Count("*"), first=Min("created_at"))
    )
    for row in groups:
        by_severity_status[(row["severity"], row["status"])] += row["n"]
        age = max(0.0, (now - row["first"]).total_seconds())
        oldest[row["severity"]] = max(oldest.get(row["severity"], 0.0), age)
        if row["assignee_id"] is None:
            unassigned += row["n"]
        else:
            per_agent[row["assignee_id"]] += row["n"]
    clocks = _scoped(
        TicketSLA.objects.filter(
            state__in=[ClockState.AT_RISK, ClockState.BREACHED], ticket__status__in=OPEN_STATUSES
        ),
        scope,
        via="ticket__",
    ).order_by()
    states = {row["state"]: row["n"] for row in clocks.values("state").annotate(n=Count("pk"))}
    backlog = ingest_backlog()
    last_hour = AlertsPerMinute.objects.filter(minute__gt=now - timedelta(hours=1)).aggregate(n=Sum("alerts"))
    return NowFigures(
        open_by_severity_status=dict(by_severity_status),
        unassigned=unassigned,
        sla_at_risk=states.get(ClockState.AT_RISK, 0),
        sla_breached=states.get(ClockState.BREACHED, 0),
        oldest_open=oldest,
        open_per_agent=dict(per_agent),
        ingest_backlog=backlog["waiting"],
        ingest_oldest_seconds=float(backlog["oldest_waiting_seconds"] or 0),
        alerts_last_hour=int(last_hour["n"] or 0),
    )


def _rows(model: type[Any], period: Period, scope: Scope) -> QuerySet[Any]:
    """The roll-up rows of the period and scope (team 0 in the rows stands for no team)."""
    return _scoped_rollup(model.objects.filter(day__gte=period.start, day__lte=period.end), scope)


def _daily_and_weekly_rows(
    daily: type[Any], weekly: type[Any], period: Period, scope: Scope
) -> tuple[QuerySet[Any], QuerySet[Any] | None]:
    """A table kept per day and per week: the daily rows of the period's ragged ends, and the weekly
    rows of its whole weeks (None when it has none: a short period reads the daily table only)."""
    first, until = period.whole_weeks
    days = Q(day__gte=period.start, day__lt=first) | Q(day__gte=until, day__lte=period.end)
    weeks = weekly.objects.filter(week__gte=first, week__lt=until) if first < until else None
    return (
        _scoped_rollup(daily.objects.filter(days), scope),
        None if weeks is None else _scoped_rollup(weeks, scope),
    )


def _scoped_rollup(rows: QuerySet[Any], scope: Scope) -> QuerySet[Any]:
    rows = rows.filter(department_id__in=sorted(scope.department_ids))
    if scope.team_id is not None:
        rows = rows.filter(team_id=scope.team_id)
    return rows.order_by()


def _count_sum(column: str) -> Sum:
    """The sum of a roll-up row's count, each row's count read as a 32-bit integer (a day's count in one
    department and team is far below 2**31): PostgreSQL sums integers in a bigint, bigints in numeric,
    which costs several times more per row (see core.sql.grouped_sums)."""
    return Sum(Cast(column, IntegerField()))


def _durations(histogram: dict[int, int]) -> Durations:
    return Durations(
        count=sum(histogram.values()), median=quantile(histogram, 0.5), p90=quantile(histogram, 0.9)
    )


# The duration histograms are read grouped four ways (severity, department, team, week) in one statement
# per table: the weekly rows of the period's whole weeks (if any), and the daily rows of its ragged ends.
DURATION_GROUPINGS = ("severity", "department_id", "team_id", "week")
Histograms = dict[str, dict[Any, dict[int, int]]]  # measure -> dimension's value -> bucket -> count


def _duration_histograms(daily: QuerySet[Any], weekly: QuerySet[Any] | None) -> dict[str, Histograms]:
    """TTA and TTR histograms of the duration roll-up rows by each of DURATION_GROUPINGS (the daily rows'
    days counted in their weeks)."""
    found: dict[str, Histograms] = {
        dimension: {"tta": defaultdict(dict), "ttr": defaultdict(dict)} for dimension in DURATION_GROUPINGS
    }
    for rows, period_column in ((weekly, "week"), (daily, "day")):
        if rows is None:
            continue
        columns = [*DURATION_GROUPINGS[:-1], period_column]
        sets = [(column, "measure", "bucket") for column in columns]
        for index, (key, measure, bucket), n in grouped_sums(rows, sets, "count"):
            if period_column == "day" and index == len(columns) - 1:
                key = week_of(key)
            histogram = found[DURATION_GROUPINGS[index]][measure][key]
            histogram[bucket] = histogram.get(bucket, 0) + n
    return found


def _by(histograms: Histograms) -> tuple[dict[Any, Durations], dict[Any, Durations]]:
    tta, ttr = ({key: _durations(h) for key, h in histograms[m].items()} for m in ("tta", "ttr"))
    return tta, ttr


def period_figures(period: Period, scope: Scope) -> PeriodFigures:
    """Everything the dashboard shows over a period, summed from the roll-ups of its days and scope."""
    opened: dict[tuple[date, str, str], int] = defaultdict(int)
    resolved: dict[tuple[date, str, str], int] = defaultdict(int)
    sla_response: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    sla_resolution: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    verdicts: dict[tuple[str, str], int] = defaultdict(int)
    counts = (
        _rows(DayCount, period, scope)
        .values("day", "origin", "severity", "resolution")
        .annotate(
            opened=_count_sum("opened"),
            resolved=_count_sum("resolved"),
            response_met=_count_sum("response_met"),
            response_decided=_count_sum("response_decided"),
            resolution_met=_count_sum("resolution_met"),
            resolution_decided=_count_sum("resolution_decided"),
        )
    )
    for row in plain_rows(counts):
        day, origin, severity, resolution, n_opened, n_resolved, *sla = row
        response_met, response_decided, resolution_met, resolution_decided = sla
        if n_opened:
            opened[(day, origin, severity)] += n_opened
        if n_resolved:
            resolved[(day, origin, severity)] += n_resolved
            if resolution:
                verdicts[(origin, resolution)] += n_resolved
        if response_decided:
            sla_response[severity][0] += response_met
            sla_response[severity][1] += response_decided
        if resolution_decided:
            sla_resolution[severity][0] += resolution_met
            sla_resolution[severity][1] += resolution_decided

    durations = _duration_histograms(*_daily_and_weekly_rows(DayDuration, WeekDuration, period, scope))
    tta_by_severity, ttr_by_severity = _by(durations["severity"])
    tta_by_department, ttr_by_department = _by(durations["department_id"])
    tta_by_team, ttr_by_team = _by(durations["team_id"])
    tta_by_week, ttr_by_week = _by(durations["week"])

    rules = _rules(_rows(DayRule, period, scope))
    agents = _agents(*_daily_and_weekly_rows(DayAgent, WeekAgent, period, scope))
    observables = _observables(_rows(DayObservable, period, scope))
    departments = set(scope.department_ids) | set(tta_by_department) | set(ttr_by_department)
    teams = {team for team in [*tta_by_team, *ttr_by_team] if team} | (
        {scope.team_id} if scope.team_id else set()
    )
    return PeriodFigures(
        period=period,
        scope=scope,
        opened=dict(opened),
        resolved=dict(resolved),
        tta_by_severity=tta_by_severity,
        ttr_by_severity=ttr_by_severity,
        tta_by_department=tta_by_department,
        ttr_by_department=ttr_by_department,
        tta_by_team={team or None: value for team, value in tta_by_team.items()},
        ttr_by_team={team or None: value for team, value in ttr_by_team.items()},
        tta_by_week=tta_by_week,
        ttr_by_week=ttr_by_week,
        sla_response={severity: (met, decided) for severity, (met, decided) in sla_response.items()},
        sla_resolution={severity: (met, decided) for severity, (met, decided) in sla_resolution.items()},
        verdicts_by_origin=dict(verdicts),
        rules=rules,
        observables=observables,
        agents=agents,
        names={
            "department": dict(Department.objects.filter(pk__in=departments).values_list("pk", "name")),
            "team": dict(Team.objects.filter(pk__in=teams).values_list("pk", "name")),
        },
        playbooks=playbook_rows(period, scope),
    )


def playbook_rows(period: Period, scope: Scope) -> list[PlaybookTaskRow]:
    """The playbooks' task statistics of the period's days (in the installation's time zone) and scope."""
    zone = timezone.get_default_timezone()
    stats = playbook_task_statistics(
        since=datetime.combine(period.start, time.min, zone),
        until=datetime.combine(period.end + timedelta(days=1), time.min, zone),
        department_ids=scope.department_ids,
        team_id=scope.team_id,
    )
    return [
        PlaybookTaskRow(
            playbook_id=s.playbook_id,
            playbook=s.playbook,
            position=s.position,
            title=s.title,
            done=s.done,
            skipped=s.skipped,
            median=s.median,
            p90=s.p90,
        )
        for s in stats
    ]


def _rules(rows: QuerySet[Any]) -> list[RuleRow]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    summed = rows.values("rule", "origin", "resolution").annotate(
        tickets=Sum("tickets"),
        alerts=Sum("alerts"),
        resolved=Sum("resolved"),
        handling=Sum("handling_seconds"),
    )
    for row in summed:
        line = found.setdefault(
            (row["rule"], row["origin"]),
            {"alerts": 0, "tickets": 0, "resolved": 0, "handling": 0, "verdicts": {}},
        )
        line["alerts"] += row["alerts"]
        line["tickets"] += row["tickets"]
        line["resolved"] += row["resolved"]
        line["handling"] += row["handling"]
        if row["resolved"]:
            line["verdicts"][row["resolution"]] = line["verdicts"].get(row["resolution"], 0) + row["resolved"]
    lines = [
        RuleRow(
            rule=rule,
            origin=origin,
            alerts=line["alerts"],
            tickets=line["tickets"],
            resolved=line["resolved"],
            false_positives=line["verdicts"].get(Resolution.FALSE_POSITIVE, 0),
            handling_seconds=float(line["handling"]),
            verdicts=line["verdicts"],
        )
        for (rule, origin), line in found.items()
        if line["tickets"] or line["resolved"]
    ]
    return sorted(lines, key=lambda line: (-line.alerts, -line.tickets, line.rule, line.origin))


def _agents(daily: QuerySet[Any], weekly: QuerySet[Any] | None) -> list[AgentRow]:
    histograms: dict[int, dict[int, int]] = defaultdict(dict)
    for rows in (daily,) if weekly is None else (weekly, daily):
        summed = rows.values("assignee_id", "bucket").annotate(n=_count_sum("resolved")).filter(n__gt=0)
        for assignee_id, bucket, n in plain_rows(summed):
            histogram = histograms[assignee_id]
            histogram[bucket] = histogram.get(bucket, 0) + n
    agents = Agent.objects.select_related("user").in_bulk(list(histograms))
    lines = [
        AgentRow(
            agent_id=agent_id,
            name=agents[agent_id].name if agent_id in agents else f"Agent {agent_id}",
            resolved=sum(histogram.values()),
            time_to_resolve=_durations(histogram),
        )
        for agent_id, histogram in histograms.items()
    ]
    return sorted(lines, key=lambda line: (-line.resolved, line.agent_id))


def _observables(rows: QuerySet[Any]) -> list[ObservableRow]:
    top = list(
        rows.values("observable_id")
        .annotate(n=Sum("tickets"))
        .filter(n__gt=0)
        .order_by("-n", "observable_id")[:TOP_OBSERVABLES]
    )
    known = Observable.objects.in_bulk([row["observable_id"] for row in top])
    return [
        ObservableRow(
            observable_id=row["observable_id"],
            type=known[row["observable_id"]].type,
            value=known[row["observable_id"]].value,
            tickets=row["n"],
        )
        for row in top
        if row["observable_id"] in known
    ]
