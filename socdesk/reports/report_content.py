"""What the SOC report says, taken from the period figures: key numbers, tables and bar rows.

Pure: no database, no templates. The PDF and the e-mail render the same `ReportContent`, so the two
always show the same numbers (and both show what the dashboard shows: they read the same figures).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from socdesk.core.durations import duration_label
from socdesk.reports.figures import Durations, PeriodFigures
from socdesk.reports.periods import period_label

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
TOP_RULES = 10
TOP_OBSERVABLES = 10
TOP_AGENTS = 15
FALSE_POSITIVE = "false_positive"


@dataclass(frozen=True)
class KeyNumber:
    """One number of the title page: a label, the value as shown, and a line saying what it counts."""

    label: str
    value: str
    note: str = ""


BAR_HEIGHT = 80  # pixels of the tallest column


@dataclass(frozen=True)
class Bar:
    """One column of a chart drawn as a table: `height` in pixels, the tallest being BAR_HEIGHT; `tick`
    is the label printed under it ("" where labels would crowd)."""

    label: str
    tick: str
    value: int
    height: int


@dataclass(frozen=True)
class Table:
    """A titled table: header cells and rows of cells already formatted for reading."""

    title: str
    header: list[str]
    rows: list[list[str]]
    empty: str = "Nothing in this period."


@dataclass(frozen=True)
class ReportContent:
    """Everything a report shows, formatted."""

    title: str
    scope_label: str
    period_label: str
    key_numbers: list[KeyNumber]
    opened_bars: list[Bar]
    resolved_bars: list[Bar]
    tables: list[Table] = field(default_factory=list)


def percent(part: int, whole: int) -> str:
    """ "93.5 %" (one decimal), or "n/a" when nothing was counted."""
    return f"{100 * part / whole:.1f} %" if whole else "n/a"


def seconds_label(seconds: float | None) -> str:
    """A duration in seconds as the console writes it; "n/a" when there is none."""
    return "n/a" if seconds is None else duration_label(timedelta(seconds=seconds))


def _severity_key(severity: str) -> tuple[int, str]:
    return (SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER), severity)


def _per_day(counts: dict[tuple[date, str, str], int], days: list[date]) -> dict[date, int]:
    totals = dict.fromkeys(days, 0)
    for (day, _origin, _severity), count in counts.items():
        totals[day] = totals.get(day, 0) + count
    return totals


def day_bars(per_day: dict[date, int]) -> list[Bar]:
    """One column per day, scaled to the busiest day (a day with tickets is at least 2 px tall); the day of
    the month under every column, or under every fifth when there are more than 16 days."""
    top = max(per_day.values(), default=0)
    step = 1 if len(per_day) <= 16 else 5
    return [
        Bar(
            label=day.strftime("%a %d %b"),
            tick=str(day.day) if index % step == 0 else "",
            value=value,
            height=0 if not value else max(2, round(BAR_HEIGHT * value / top)),
        )
        for index, (day, value) in enumerate(sorted(per_day.items()))
    ]


def _durations_cells(value: Durations | None) -> list[str]:
    if value is None or not value.count:
        return ["0", "n/a", "n/a"]
    return [str(value.count), seconds_label(value.median), seconds_label(value.p90)]


def _overall(figures: PeriodFigures, by_department: dict, by_team: dict) -> tuple[str, str]:
    """The title page's median and what it is: the team's or the department's own median when the report
    covers one, else (several departments) the ticket-weighted mean of the departments' medians."""
    if figures.scope.team_id is not None:
        return seconds_label(by_team.get(figures.scope.team_id, Durations()).median), "median"
    if len(by_department) == 1:
        return seconds_label(next(iter(by_department.values())).median), "median"
    counted = [(d.count, d.median) for d in by_department.values() if d.count and d.median is not None]
    total = sum(count for count, _ in counted)
    if not total:
        return "n/a", "median"
    return seconds_label(sum(c * m for c, m in counted) / total), "mean of the departments' medians"


def report_content(figures: PeriodFigures, *, scope_label: str) -> ReportContent:
    """The report of `figures` for the scope named `scope_label` ("SOC", "SOC, team Tier 1")."""
    days = figures.period.days
    opened_per_day = _per_day(figures.opened, days)
    resolved_per_day = _per_day(figures.resolved, days)
    opened_total, resolved_total = sum(opened_per_day.values()), sum(resolved_per_day.values())
    response_met = sum(met for met, _ in figures.sla_response.values())
    response_decided = sum(decided for _, decided in figures.sla_response.values())
    resolution_met = sum(met for met, _ in figures.sla_resolution.values())
    resolution_decided = sum(decided for _, decided in figures.sla_resolution.values())
    verdict_total = sum(figures.verdicts_by_origin.values())
    false_positives = sum(
        count for (_origin, verdict), count in figures.verdicts_by_origin.items() if verdict == FALSE_POSITIVE
    )
    key_numbers = [
        KeyNumber("Tickets opened", f"{opened_total:,}"),
        KeyNumber("Tickets resolved", f"{resolved_total:,}"),
        KeyNumber("Time to acknowledge", *_overall(figures, figures.tta_by_department, figures.tta_by_team)),
        KeyNumber("Time to resolve", *_overall(figures, figures.ttr_by_department, figures.ttr_by_team)),
        KeyNumber(
            "SLA response met", percent(response_met, response_decided), f"of {response_decided:,} decided"
        ),
        KeyNumber(
            "SLA resolution met",
            percent(resolution_met, resolution_decided),
            f"of {resolution_decided:,} decided",
        ),
        KeyNumber(
            "False positives", percent(false_positives, verdict_total), f"of {verdict_total:,} resolved"
        ),
    ]
    return ReportContent(
        title="SOC report",
        scope_label=scope_label,
        period_label=period_label(figures.period),
        key_numbers=key_numbers,
        opened_bars=day_bars(opened_per_day),
        resolved_bars=day_bars(resolved_per_day),
        tables=[
            _by_severity_table(figures, opened_per_day_total=opened_total),
            _sla_table(figures),
            _verdicts_table(figures),
            _rules_table(figures),
            _observables_table(figures),
            _agents_table(figures),
            _playbooks_table(figures),
        ],
    )


def _by_severity_table(figures: PeriodFigures, *, opened_per_day_total: int) -> Table:
    opened: dict[str, int] = defaultdict(int)
    resolved: dict[str, int] = defaultdict(int)
    for (_day, _origin, severity), count in figures.opened.items():
        opened[severity] += count
    for (_day, _origin, severity), count in figures.resolved.items():
        resolved[severity] += count
    severities = sorted(
        set(opened) | set(resolved) | set(figures.tta_by_severity) | set(figures.ttr_by_severity),
        key=_severity_key,
    )
    rows = [
        [
            severity,
            f"{opened[severity]:,}",
            f"{resolved[severity]:,}",
            *_durations_cells(figures.tta_by_severity.get(severity))[1:],
            *_durations_cells(figures.ttr_by_severity.get(severity))[1:],
        ]
        for severity in severities
    ]
    return Table(
        "Tickets and response times by severity",
        ["Severity", "Opened", "Resolved", "TTA median", "TTA p90", "TTR median", "TTR p90"],
        rows,
    )


def _sla_table(figures: PeriodFigures) -> Table:
    severities = sorted(set(figures.sla_response) | set(figures.sla_resolution), key=_severity_key)
    rows = []
    for severity in severities:
        r_met, r_decided = figures.sla_response.get(severity, (0, 0))
        s_met, s_decided = figures.sla_resolution.get(severity, (0, 0))
        rows.append(
            [
                severity,
                f"{r_met:,} of {r_decided:,}",
                percent(r_met, r_decided),
                f"{s_met:,} of {s_decided:,}",
                percent(s_met, s_decided),
            ]
        )
    return Table(
        "SLA compliance by severity",
        ["Severity", "Response met", "Response %", "Resolution met", "Resolution %"],
        rows,
        empty="No SLA target was decided in this period.",
    )


def _verdicts_table(figures: PeriodFigures) -> Table:
    verdicts = sorted({verdict for _origin, verdict in figures.verdicts_by_origin})
    origins = sorted({origin for origin, _verdict in figures.verdicts_by_origin})
    rows = [
        [origin, *(f"{figures.verdicts_by_origin.get((origin, v), 0):,}" for v in verdicts)]
        for origin in origins
    ]
    return Table("Resolution verdicts by source", ["Source", *[v.replace("_", " ") for v in verdicts]], rows)


def _rules_table(figures: PeriodFigures) -> Table:
    rows = [
        [
            rule.rule or "(no rule)",
            rule.origin,
            f"{rule.alerts:,}",
            f"{rule.tickets:,}",
            "n/a" if rule.false_positive_rate is None else f"{100 * rule.false_positive_rate:.0f} %",
            seconds_label(rule.handling_seconds),
        ]
        for rule in figures.rules[:TOP_RULES]
    ]
    return Table(
        "Noisiest rules",
        ["Rule", "Source", "Alerts", "Tickets", "False positives", "Analyst time"],
        rows,
    )


def _observables_table(figures: PeriodFigures) -> Table:
    rows = [[o.type, o.value, f"{o.tickets:,}"] for o in figures.observables[:TOP_OBSERVABLES]]
    return Table("Top observables", ["Type", "Value", "Tickets"], rows)


def _agents_table(figures: PeriodFigures) -> Table:
    rows = [
        [agent.name, f"{agent.resolved:,}", seconds_label(agent.time_to_resolve.median)]
        for agent in figures.agents[:TOP_AGENTS]
    ]
    return Table("Analyst workload", ["Analyst", "Resolved", "Median time to resolve"], rows)


def _playbooks_table(figures: PeriodFigures) -> Table:
    rows = [
        [
            row.playbook,
            f"{row.position}. {row.title}",
            f"{row.done:,}",
            f"{row.skipped:,}",
            seconds_label(row.median),
            seconds_label(row.p90),
        ]
        for row in figures.playbooks
    ]
    return Table(
        "Playbook tasks",
        ["Playbook", "Task", "Done", "Skipped", "Median to done", "p90 to done"],
        rows,
        empty="No playbook task was done or skipped in this period.",
    )
