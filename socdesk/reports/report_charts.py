"""The SOC report's pictures (for its PDF): the period figures as charts drawn by `reports.charts`.

Pure. The PDF has no drill-down links (a reader of a PDF has no console session), so no value carries one.
The e-mail cannot show these (mail clients strip SVG): it draws its bars as tables (report.html).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from django.utils.safestring import SafeString, mark_safe

from socdesk.reports import charts
from socdesk.reports.charts import PALETTE, PERCENT, SECONDS, SEVERITY_COLOURS, Category, Chart, Value
from socdesk.reports.figures import PeriodFigures
from socdesk.reports.report_content import SEVERITY_ORDER, TOP_RULES


@dataclass(frozen=True)
class ReportChart:
    """One picture of the report: its heading and the SVG (built and escaped by `reports.charts`)."""

    title: str
    svg: SafeString


def _per_day_by_origin(
    counts: dict[tuple[date, str, str], int], title: str, days: list[date], colours: dict[str, str]
) -> Chart:
    by_day: dict[date, dict[str, int]] = {day: defaultdict(int) for day in days}
    for (day, origin, _severity), count in counts.items():
        by_day.setdefault(day, defaultdict(int))[origin] += count
    origins = tuple(sorted({origin for (_d, origin, _s) in counts}))
    return Chart(
        title=title,
        series=origins,
        colours=colours,
        categories=tuple(
            Category(
                label=str(day.day),
                long_label=day.strftime("%A %d %b %Y"),
                values=tuple(Value(origin, by_day[day].get(origin)) for origin in origins),
            )
            for day in days
        ),
    )


def _severities(*keyed: Mapping[str, object]) -> list[str]:
    found: set[str] = set().union(*keyed)
    return sorted(found, key=lambda s: (SEVERITY_ORDER.index(s) if s in SEVERITY_ORDER else 99, s))


def _durations_by_severity(figures: PeriodFigures) -> Chart:
    severities = _severities(figures.tta_by_severity, figures.ttr_by_severity)
    series = ("tta", "ttr")
    return Chart(
        title="Median time to acknowledge and to resolve, by severity",
        unit=SECONDS,
        series=series,
        series_labels={"tta": "acknowledge (median)", "ttr": "resolve (median)"},
        categories=tuple(
            Category(
                label=severity,
                values=(
                    Value("tta", getattr(figures.tta_by_severity.get(severity), "median", None)),
                    Value("ttr", getattr(figures.ttr_by_severity.get(severity), "median", None)),
                ),
            )
            for severity in severities
        ),
    )


def _sla_by_severity(figures: PeriodFigures) -> Chart:
    rows = []
    for severity in _severities(figures.sla_response, figures.sla_resolution):
        met, decided = figures.sla_resolution.get(severity, (0, 0))
        rows.append(
            Category(label=severity, values=(Value("resolution", 100 * met / decided if decided else None),))
        )
    return Chart(
        title="SLA resolution targets met, by severity",
        unit=PERCENT,
        series=("resolution",),
        colours={"resolution": SEVERITY_COLOURS["low"]},
        categories=tuple(rows),
    )


def _rules(figures: PeriodFigures) -> Chart:
    return Chart(
        title="Noisiest rules: alerts in the period",
        series=("alerts",),
        categories=tuple(
            Category(
                label=rule.rule or "(no rule)",
                long_label=f"{rule.rule} ({rule.origin})",
                values=(Value("alerts", rule.alerts),),
            )
            for rule in figures.rules[:TOP_RULES]
        ),
    )


def report_charts(figures: PeriodFigures) -> list[ReportChart]:
    """The report's charts as SVG, in the order the PDF shows them (empty charts left out)."""
    days = figures.period.days
    # One colour per source in both per-day charts, so "wazuh" is the same bar in each.
    origins = sorted({origin for (_d, origin, _s) in [*figures.opened, *figures.resolved]})
    colours = {origin: PALETTE[i % len(PALETTE)] for i, origin in enumerate(origins)}
    pictures: list[tuple[Callable[..., str], Chart]] = [
        (
            charts.stacked_bars,
            _per_day_by_origin(figures.opened, "Tickets opened per day, by source", days, colours),
        ),
        (
            charts.stacked_bars,
            _per_day_by_origin(figures.resolved, "Tickets resolved per day, by source", days, colours),
        ),
        (charts.grouped_bars, _durations_by_severity(figures)),
        (charts.horizontal_bars, _sla_by_severity(figures)),
        (charts.horizontal_bars, _rules(figures)),
    ]
    # The SVG is built by charts.py, which escapes every piece of text it writes.
    return [
        ReportChart(chart.title, mark_safe(draw(chart))) for draw, chart in pictures if not chart.is_empty
    ]
