"""The SOC dashboard's panels: the figures (socdesk.reports.figures) turned into charts and tables whose every
number links to the ticket queue behind it (pure: no database; the view reads the figures).

A panel is one chart (or table) with a slug (its CSV is `/dashboard/<slug>.csv`), a sentence for when it
has nothing to show, and its numbers as a table and as CSV rows. The drill-down links use the one shared
ticket filter (socdesk/tickets/filters.py): `created_from`/`created_to` for "opened", `resolved_*` for
"resolved" and MTTR, `acknowledged_*` for MTTA, `origin`, `rule`, `resolution`, `observable`, `assignee`,
`playbook`, always narrowed to the picked department and team.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from socdesk.reports.charts import (
    DRAWINGS,
    NO_VALUE,
    PERCENT,
    SECONDS,
    SEVERITY_COLOURS,
    Category,
    Chart,
    Value,
    csv_rows,
    format_value,
    human_duration,
    table_rows,
)
from socdesk.reports.figures import (
    Durations,
    NowFigures,
    Period,
    PeriodFigures,
    PlaybookTaskRow,
    RuleRow,
)
from socdesk.tickets.choices import Resolution, Severity, Status

SEVERITIES = tuple(reversed(Severity.values))  # critical first: the bottom of a stack, the top of a list
SEVERITY_LABELS = dict(Severity.choices)
STATUS_LABELS = dict(Status.choices)
RESOLUTION_LABELS = dict(Resolution.choices)
RESOLUTION_COLOURS = {
    "true_positive": "#D55E00",
    "benign_positive": "#E69F00",
    "false_positive": "#56B4E9",
    "duplicate": "#999999",
    "not_applicable": "#CC79A7",
}
# One colour per origin wherever it appears (the opened and resolved charts rank origins differently).
ORIGIN_COLOURS = {
    "web": "#0072B2",
    "email": "#E69F00",
    "api": "#CC79A7",
    "phone": "#F0E442",
    "other": "#BBBBBB",
    "alert": "#999999",  # an alert ticket that holds no alert
    "alertmanager": "#D55E00",
    "grafana": "#332288",
    "splunk": "#009E73",
    "elastic": "#56B4E9",
    "wazuh": "#44AA99",
    "suricata": "#882255",
    "azure-monitor": "#117733",
    "generic": "#AA4499",
    "thehive": "#DDCC77",
}
STATUS_COLOURS = {"new": "#0072B2", "in_progress": "#009E73", "on_hold": "#E69F00"}
DURATION_SERIES = ("median", "p90")
DURATION_LABELS = {"median": "Median", "p90": "90th percentile"}
TOP_ROWS = 10  # bars in a ranking chart; its table and CSV have every row
WIDE_WIDTH = 1240  # a panel across the page is drawn about twice as wide as one of two a row


@dataclass
class Panel:
    """One chart or table of the dashboard, its numbers as a table and as CSV."""

    slug: str
    title: str
    empty: str  # the sentence shown instead of an empty frame
    chart: Chart | None = None
    drawing: str = "stacked"
    header: list[str] = field(default_factory=list)
    rows: list[list[tuple[str, str]]] = field(default_factory=list)  # (text, drill-down link) per cell
    csv: list[list[str]] = field(default_factory=list)
    note: str = ""  # how to read it, under the title
    wide: bool = False  # spans the page's width (drawn wider, so its text keeps the page's size)

    @property
    def is_empty(self) -> bool:
        return not self.rows or (self.chart is not None and self.chart.is_empty)

    @property
    def svg(self) -> str:
        if self.chart is None or self.is_empty:
            return ""
        size: dict[str, int] = {}
        if self.wide:
            size = {"width": WIDE_WIDTH} | ({"label_width": 360} if self.drawing == "horizontal" else {})
        return DRAWINGS[self.drawing](self.chart, **size)


def _tickets(count: int) -> str:
    return f"{count:,} ticket" if count == 1 else f"{count:,} tickets"


def chart_panel(slug: str, chart: Chart, drawing: str, empty: str, note: str = "") -> Panel:
    """A panel whose table and CSV are the chart's own numbers."""
    header, rows = table_rows(chart)
    return Panel(slug, chart.title, empty, chart, drawing, header, rows, csv_rows(chart), note)


class Links:
    """Drill-down links to the ticket queue, narrowed to the picker's department and team."""

    def __init__(self, queue_url: str, period: Period, department_id: int | None, team_id: int | None):
        self.queue_url = queue_url
        self.period = period
        self.scope: dict[str, str] = {}
        if department_id is not None:
            self.scope["department"] = str(department_id)
        if team_id is not None:
            self.scope["team"] = str(team_id)

    def url(self, queue: str = "all", /, **criteria: object) -> str:
        params: dict[str, str | list[str]] = {"queue": queue, **self.scope}
        for name, value in criteria.items():
            if isinstance(value, list | tuple):  # a repeated parameter: ?sla_response=met&sla_response=...
                params[name] = [str(v) for v in value]
            elif value is not None and value != "":
                params[name] = str(value)
        return f"{self.queue_url}?{urlencode(params, doseq=True)}"

    def between(self, event: str, first: date | None = None, last: date | None = None) -> dict[str, str]:
        """`<event>_from`/`<event>_to` for the period (or the given days)."""
        first, last = first or self.period.start, last or self.period.end
        return {f"{event}_from": first.isoformat(), f"{event}_to": last.isoformat()}


def day_labels(days: list[date]) -> list[tuple[str, str]]:
    """(axis label, full label) per day: 'Mon 23' over a week or two, '23 Nov' over a month."""
    short = "%a %d" if len(days) <= 14 else "%d %b"
    return [(d.strftime(short), d.strftime("%a %d %b %Y")) for d in days]


# --- Now ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """One headline number of the Now section, linked to its queue."""

    label: str
    value: str
    href: str = ""
    tone: str = ""  # "warn" / "bad" when the number calls for attention
    hint: str = ""


def now_tiles(now: NowFigures, links: Links, *, ingest: bool = True) -> list[Tile]:
    """The headline numbers; `ingest=False` leaves out the ingest figures (counted over every
    department's integrations) for an agent who may not see them all."""
    open_total = sum(now.open_by_severity_status.values())
    tiles = [
        Tile("Open", f"{open_total:,}", links.url("open")),
        Tile("Unassigned", f"{now.unassigned:,}", links.url("unassigned"), "warn" if now.unassigned else ""),
        Tile("SLA at risk", f"{now.sla_at_risk:,}", links.url("at_risk"), "warn" if now.sla_at_risk else ""),
        Tile(
            "SLA breached", f"{now.sla_breached:,}", links.url("overdue"), "bad" if now.sla_breached else ""
        ),
    ]
    if ingest:
        waited = f"oldest waiting {human_duration(now.ingest_oldest_seconds)}" if now.ingest_backlog else ""
        tiles += [
            Tile(
                "Ingest backlog", f"{now.ingest_backlog:,}", "", "warn" if now.ingest_backlog else "", waited
            ),
            Tile("Alerts / hour", f"{now.alerts_last_hour:,}", "", "", "processed in the last 60 minutes"),
        ]
    return tiles


def open_panel(now: NowFigures, links: Links) -> Panel:
    statuses = [s for s in Status.values if any(k[1] == s for k in now.open_by_severity_status)]
    categories = []
    for severity in SEVERITIES:
        values = tuple(
            Value(
                status,
                now.open_by_severity_status[(severity, status)],
                links.url("open", severity=severity, status=status),
            )
            for status in statuses
            if now.open_by_severity_status.get((severity, status))
        )
        if values:
            categories.append(Category(SEVERITY_LABELS[severity], values))
    chart = Chart(
        "Open tickets by severity and status",
        tuple(categories),
        tuple(statuses),
        colours=STATUS_COLOURS,
        series_labels=STATUS_LABELS,
    )
    return chart_panel("open", chart, "horizontal", "No ticket is open.")


def oldest_panel(now: NowFigures, links: Links) -> Panel:
    rows = [
        [
            (SEVERITY_LABELS[s], ""),
            (human_duration(now.oldest_open[s]), links.url("open", severity=s, sort="-created")),
        ]
        for s in SEVERITIES
        if s in now.oldest_open
    ]
    csv = [["severity", "oldest open (seconds)"]] + [
        [s, f"{now.oldest_open[s]:.0f}"] for s in SEVERITIES if s in now.oldest_open
    ]
    return Panel(
        "oldest",
        "Backlog age: oldest open ticket per severity",
        "No ticket is open.",
        None,
        "",
        ["Severity", "Oldest open"],
        rows,
        csv,
    )


# --- the period ---------------------------------------------------------------------------------------


def per_day_panels(figures: PeriodFigures, links: Links) -> list[Panel]:
    """Opened and resolved per day, each by origin and by severity."""
    panels = []
    labels = day_labels(figures.period.days)
    for event, counts, verb in (
        ("created", figures.opened, "Opened"),
        ("resolved", figures.resolved, "Resolved"),
    ):
        by_origin: dict[tuple[date, str], int] = defaultdict(int)
        by_severity: dict[tuple[date, str], int] = defaultdict(int)
        for (day, origin, severity), n in counts.items():
            by_origin[(day, origin)] += n
            by_severity[(day, severity)] += n
        origins = _by_total(by_origin)
        for slug, dimension, series, table, colours, labels_of in (
            ("origin", "origin", origins, by_origin, ORIGIN_COLOURS, {}),
            ("severity", "severity", SEVERITIES, by_severity, SEVERITY_COLOURS, SEVERITY_LABELS),
        ):
            categories = tuple(
                Category(
                    short,
                    tuple(
                        Value(
                            s, table[(day, s)], links.url(**links.between(event, day, day), **{dimension: s})
                        )
                        for s in series
                        if table.get((day, s))
                    ),
                    long,
                )
                for day, (short, long) in zip(figures.period.days, labels, strict=True)
            )
            word = "opened" if event == "created" else "resolved"
            chart = Chart(
                f"{verb} per day by {dimension}",
                categories,
                tuple(series),
                colours=colours,
                series_labels=labels_of,
            )
            panels.append(
                chart_panel(f"{word}-by-{slug}", chart, "stacked", f"No ticket was {word} in this period.")
            )
    return panels


def _by_total(counts: dict[tuple[date, str], int]) -> tuple[str, ...]:
    totals: dict[str, int] = defaultdict(int)
    for (_day, key), n in counts.items():
        totals[key] += n
    return tuple(sorted(totals, key=lambda k: (-totals[k], k)))


def _durations_chart(title: str, by: dict, labels: dict, order: Iterable, link) -> Chart:
    categories = []
    for key in order:
        found: Durations | None = by.get(key)
        if found is None or not found.count:
            continue
        href = link(key)
        categories.append(
            Category(
                labels.get(key, str(key)),
                (Value("median", found.median, href), Value("p90", found.p90, href)),
                f"{labels.get(key, key)} ({_tickets(found.count)})",
            )
        )
    return Chart(title, tuple(categories), DURATION_SERIES, SECONDS, series_labels=DURATION_LABELS)


def duration_panels(figures: PeriodFigures, links: Links) -> list[Panel]:
    """MTTA and MTTR (median, p90) per severity, department, team, and week."""
    names = figures.names
    panels = []
    for kind, event, title in (
        ("tta", "acknowledged", "Time to acknowledge"),
        ("ttr", "resolved", "Time to resolve"),
    ):

        def link(extra: dict[str, object], event: str = event) -> str:
            return links.url(**links.between(event), **extra)

        by_severity = getattr(figures, f"{kind}_by_severity")
        chart = _durations_chart(
            f"{title} by severity",
            by_severity,
            SEVERITY_LABELS,
            SEVERITIES,
            lambda s, link=link: link({"severity": s}),
        )
        panels.append(
            chart_panel(f"{kind}-by-severity", chart, "grouped", f"No ticket was {event} in this period.")
        )
        departments = names.get("department", {})
        by_department = getattr(figures, f"{kind}_by_department")
        chart = _durations_chart(
            f"{title} by department",
            by_department,
            departments,
            sorted(by_department, key=lambda k: departments.get(k, str(k))),
            lambda d, link=link: link({"department": d}),
        )
        panels.append(
            chart_panel(f"{kind}-by-department", chart, "grouped", f"No ticket was {event} in this period.")
        )
        teams: dict[int | None, str] = {None: "No team"}
        for team_id, team_name in names.get("team", {}).items():
            teams[team_id] = team_name
        by_team = getattr(figures, f"{kind}_by_team")
        chart = _durations_chart(
            f"{title} by team",
            by_team,
            teams,
            sorted(by_team, key=lambda k: (k is None, teams.get(k, str(k)))),
            # "No team" has no queue criterion: its bar has no link.
            lambda t, link=link: link({"team": t}) if t is not None else "",
        )
        panels.append(
            chart_panel(f"{kind}-by-team", chart, "grouped", f"No ticket was {event} in this period.")
        )
        by_week = getattr(figures, f"{kind}_by_week")
        weeks = {w: f"Week of {w.strftime('%d %b')}" for w in by_week}

        def week_link(monday: date, event: str = event) -> str:
            first = max(monday, figures.period.start)
            last = min(monday + timedelta(days=6), figures.period.end)
            return links.url(**links.between(event, first, last))

        chart = _durations_chart(f"{title}, week by week", by_week, weeks, sorted(by_week), week_link)
        panels.append(chart_panel(f"{kind}-by-week", chart, "line", f"No ticket was {event} in this period."))
    return panels


def sla_panel(figures: PeriodFigures, links: Links) -> Panel:
    """SLA compliance per severity: each bar opens the tickets that met the target, each table cell the
    tickets whose target was decided (met or missed), all opened in the period."""
    targets = (("response", figures.sla_response), ("resolution", figures.sla_resolution))
    severities = [s for s in SEVERITIES if any(counts.get(s, (0, 0))[1] for _t, counts in targets)]

    def link(severity: str, target: str, outcomes: list[str]) -> str:
        return links.url(**links.between("created"), severity=severity, **{f"sla_{target}": outcomes})

    categories = []
    for severity in severities:
        values = []
        for target, counts in targets:
            met, decided = counts.get(severity, (0, 0))
            if decided:
                values.append(Value(target, 100 * met / decided, link(severity, target, ["met"])))
        categories.append(Category(SEVERITY_LABELS[severity], tuple(values)))
    chart = Chart(
        "SLA targets met",
        tuple(categories),
        ("response", "resolution"),
        PERCENT,
        series_labels={"response": "Response", "resolution": "Resolution"},
    )
    panel = chart_panel(
        "sla",
        chart,
        "grouped",
        "No SLA target of a ticket opened in this period was decided yet.",
        "Of the tickets opened in the period whose target was met or missed, the share met.",
    )
    # The table says how many were decided: 100 % of 2 is not 100 % of 200.
    panel.header = ["Severity", "Response met", "Resolution met"]
    panel.rows = [
        [(SEVERITY_LABELS[s], "")]
        + [
            _met_cell(counts.get(s, (0, 0)), link(s, target, ["met", "breached"]))
            for target, counts in targets
        ]
        for s in severities
    ]
    panel.csv = [["severity", "response met", "response decided", "resolution met", "resolution decided"]] + [
        [s, *map(str, figures.sla_response.get(s, (0, 0))), *map(str, figures.sla_resolution.get(s, (0, 0)))]
        for s in severities
    ]
    return panel


def _met_cell(pair: tuple[int, int], decided_link: str) -> tuple[str, str]:
    met, decided = pair
    if not decided:
        return (NO_VALUE, "")
    return (f"{format_value(100 * met / decided, PERCENT)} of {decided:,}", decided_link)


def verdicts_panel(figures: PeriodFigures, links: Links) -> Panel:
    by_origin: dict[str, dict[str, int]] = defaultdict(dict)
    for (origin, resolution), n in figures.verdicts_by_origin.items():
        by_origin[origin][resolution] = n
    resolutions = tuple(r for r in Resolution.values if any(r in v for v in by_origin.values()))
    categories = tuple(
        Category(
            origin,
            tuple(
                Value(r, n, links.url(**links.between("resolved"), origin=origin, resolution=r))
                for r, n in verdicts.items()
            ),
        )
        for origin, verdicts in sorted(by_origin.items(), key=lambda kv: -sum(kv[1].values()))
    )
    chart = Chart(
        "Verdicts by origin",
        categories,
        resolutions,
        colours=RESOLUTION_COLOURS,
        series_labels=RESOLUTION_LABELS,
    )
    return chart_panel("verdicts", chart, "horizontal", "No ticket was resolved in this period.")


def rules_panel(figures: PeriodFigures, links: Links) -> Panel:
    """The noisiest rules: a chart of alerts for the top ones, the whole table with FP rate and time."""

    def rule_link(rule: RuleRow, **extra: str) -> str:
        # Keyed by rule and origin, as the roll-ups are: one rule name may come from two tools.
        return links.url(rule=rule.rule, origin=rule.origin, **extra) if rule.rule else ""

    top = figures.rules[:TOP_ROWS]
    chart = Chart(
        "Noisiest rules (alerts)",
        tuple(
            Category(
                f"{r.rule or '(no rule)'} ({r.origin})",
                # The bar counts alerts; its link opens the tickets they raised (the table's Tickets).
                (Value("alerts", r.alerts, rule_link(r, **links.between("created"))),),
                f"{r.rule or '(no rule)'} ({r.origin}, {_tickets(r.tickets)})",
            )
            for r in top
        ),
        ("alerts",),
    )
    panel = Panel(
        "rules", chart.title, "No alert raised a ticket in this period.", chart, "horizontal", wide=True
    )
    panel.header = ["Rule", "Origin", "Alerts", "Tickets", "False positives", "Analyst time"]
    for r in figures.rules:
        created = rule_link(r, **links.between("created"))
        fps = rule_link(r, resolution="false_positive", **links.between("resolved"))
        rate = r.false_positive_rate
        panel.rows.append(
            [
                (r.rule or "(no rule)", ""),
                (r.origin, ""),
                (f"{r.alerts:,}", ""),
                (f"{r.tickets:,}", created),
                (
                    f"{format_value(100 * rate, PERCENT)} of {r.resolved:,}"
                    if rate is not None
                    else NO_VALUE,
                    fps,
                ),
                (human_duration(r.handling_seconds), ""),
            ]
        )
    panel.csv = [
        ["rule", "origin", "alerts", "tickets", "resolved", "false positives", "handling seconds"]
    ] + [
        [
            r.rule,
            r.origin,
            str(r.alerts),
            str(r.tickets),
            str(r.resolved),
            str(r.false_positives),
            f"{r.handling_seconds:.0f}",
        ]
        for r in figures.rules
    ]
    return panel


def observables_panel(figures: PeriodFigures, links: Links) -> Panel:
    chart = Chart(
        "Top observables (tickets)",
        tuple(
            Category(
                f"{o.type}:{o.value}",
                (
                    Value(
                        "tickets",
                        o.tickets,
                        links.url(observable=o.observable_id, **links.between("created")),
                    ),
                ),
            )
            for o in figures.observables
        ),
        ("tickets",),
    )
    panel = chart_panel(
        "observables", chart, "horizontal", "No ticket opened in this period carries an observable."
    )
    panel.wide = True  # URLs and hashes need the room
    return panel


def agents_panel(figures: PeriodFigures, now: NowFigures, links: Links, agent_names: dict[int, str]) -> Panel:
    """Analyst workload: open now, resolved in the period, median time to resolve."""
    rows = {a.agent_id: a for a in figures.agents}
    ids = sorted(
        set(rows) | set(now.open_per_agent),
        key=lambda i: (-(rows[i].resolved if i in rows else 0), -now.open_per_agent.get(i, 0)),
    )

    def name(agent_id: int) -> str:
        return rows[agent_id].name if agent_id in rows else agent_names.get(agent_id, f"Agent {agent_id}")

    chart = Chart(
        "Analyst workload",
        tuple(
            Category(
                name(i),
                (
                    Value("open", now.open_per_agent.get(i, 0), links.url("open", assignee=i)),
                    Value(
                        "resolved",
                        rows[i].resolved if i in rows else 0,
                        links.url(assignee=i, **links.between("resolved")),
                    ),
                ),
            )
            for i in ids[:TOP_ROWS]
        ),
        ("open", "resolved"),
        series_labels={"open": "Open now", "resolved": "Resolved in the period"},
    )
    panel = Panel(
        "agents",
        chart.title,
        "No ticket is assigned and none was resolved in this period.",
        chart,
        "horizontal",
        wide=True,
    )
    panel.header = ["Analyst", "Open now", "Resolved", "Median time to resolve"]
    panel.csv = [["analyst", "open now", "resolved", "median time to resolve (seconds)"]]
    for i in ids:
        row = rows.get(i)
        median = row.time_to_resolve.median if row else None
        panel.rows.append(
            [
                (name(i), ""),
                (f"{now.open_per_agent.get(i, 0):,}", links.url("open", assignee=i)),
                (f"{row.resolved if row else 0:,}", links.url(assignee=i, **links.between("resolved"))),
                (human_duration(median), ""),
            ]
        )
        panel.csv.append(
            [
                name(i),
                str(now.open_per_agent.get(i, 0)),
                str(row.resolved if row else 0),
                "" if median is None else f"{median:.0f}",
            ]
        )
    return panel


def playbooks_panel(figures: PeriodFigures, links: Links) -> Panel:
    """Playbook tasks: median and p90 from the playbook's application to done for the tasks done most
    often, and every task's done and skipped counts in the table and CSV; each row opens the tickets
    the playbook was applied to."""
    rows = figures.playbooks
    top = sorted(rows, key=lambda r: (-r.done, r.playbook, r.position))[:TOP_ROWS]
    top = [r for r in rows if r in top and r.done]  # drawn in the playbooks' own order

    def link(row: PlaybookTaskRow) -> str:
        return links.url(playbook=row.playbook_id)

    chart = Chart(
        "Playbook tasks: time from applied to done",
        tuple(
            Category(
                f"{r.playbook}\n{r.position}. {r.title}",
                (Value("median", r.median, link(r)), Value("p90", r.p90, link(r))),
                f"{r.playbook}: {r.position}. {r.title} ({r.done:,} done)",
            )
            for r in top
        ),
        DURATION_SERIES,
        SECONDS,
        series_labels=DURATION_LABELS,
    )
    panel = Panel(
        "playbooks",
        chart.title,
        "No playbook task was done or skipped in this period.",
        chart if top else None,  # only skipped tasks: the table alone
        "grouped",
        note="Tasks done or skipped in the period; a row opens the tickets its playbook was applied to.",
        wide=True,
    )
    panel.header = ["Playbook", "Task", "Done", "Skipped", "Median", "90th percentile"]
    for r in rows:
        href = link(r)
        panel.rows.append(
            [
                (r.playbook, href),
                (f"{r.position}. {r.title}", ""),
                (f"{r.done:,}", href),
                (f"{r.skipped:,}", href),
                (human_duration(r.median), ""),
                (human_duration(r.p90), ""),
            ]
        )
    panel.csv = [["playbook", "position", "task", "done", "skipped", "median seconds", "p90 seconds"]] + [
        [
            r.playbook,
            str(r.position),
            r.title,
            str(r.done),
            str(r.skipped),
            "" if r.median is None else f"{r.median:.0f}",
            "" if r.p90 is None else f"{r.p90:.0f}",
        ]
        for r in rows
    ]
    return panel


@dataclass
class Dashboard:
    """Everything the page draws: the Now tiles and panels, then the period's panels in page order."""

    tiles: list[Tile]
    now: list[Panel]
    period: list[Panel]

    def panel(self, slug: str) -> Panel | None:
        return next((p for p in (*self.now, *self.period) if p.slug == slug), None)


def dashboard_build(
    now: NowFigures, figures: PeriodFigures, *, links: Links, agent_names: dict[int, str], ingest: bool = True
) -> Dashboard:
    """The page's panels from the figures; `links` knows the queue's URL and the picker's narrowing."""
    return Dashboard(
        tiles=now_tiles(now, links, ingest=ingest),
        now=[open_panel(now, links), oldest_panel(now, links)],
        period=[
            *per_day_panels(figures, links),
            *duration_panels(figures, links),
            sla_panel(figures, links),
            verdicts_panel(figures, links),
            rules_panel(figures, links),
            observables_panel(figures, links),
            agents_panel(figures, now, links, agent_names),
            playbooks_panel(figures, links),
        ],
    )


SLUGS = (
    "open",
    "oldest",
    "opened-by-origin",
    "opened-by-severity",
    "resolved-by-origin",
    "resolved-by-severity",
    "tta-by-severity",
    "tta-by-department",
    "tta-by-team",
    "tta-by-week",
    "ttr-by-severity",
    "ttr-by-department",
    "ttr-by-team",
    "ttr-by-week",
    "sla",
    "verdicts",
    "rules",
    "observables",
    "agents",
    "playbooks",
)
