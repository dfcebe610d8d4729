"""Server-rendered SVG charts for the SOC dashboard and the SOC report: pure, no JavaScript, no database.

A chart is data (`Chart`: categories, each with one value per series, each value with its drill-down
link) and four ways to draw it: `stacked_bars` (opened/resolved per day), `horizontal_bars` (counts per
rule, agent or observable; SLA %), `grouped_bars` (median and p90 durations) and `line_chart` (weekly
trends). The same `Chart` gives the numbers as a table (`table_rows`) for the page's <details> and its CSV,
so the picture, the table and the download never disagree.

What every drawing guarantees (the report and the API reuse them, and tests read the SVG):

- one `<svg role="img" aria-label=...>` with a `<title>`, a `viewBox` and no inline style (the console's
  Content-Security-Policy refuses `style` attributes; colours are presentation attributes, text and axes
  use `currentColor` so they follow the console's light and dark themes);
- every bar, segment or point is an `<a class="bar" href=...>` around one shape with a `<title>` tooltip
  ("Tuesday 24 Nov · elastic: 12"); a value without a link is drawn without the `<a>`;
- axes with "nice" ticks (1, 2, 5 x 10^n for counts; whole minutes, hours or days for durations);
- every piece of text escaped (a rule name is whatever a security tool sent).

Colours come from one palette (Okabe and Ito's, safe for the common colour-vision deficiencies), with a
fixed colour per severity so "critical" looks the same in every chart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

# Okabe & Ito (2008): distinguishable with protanopia, deuteranopia and tritanopia, on light and dark.
# Past eight series, Tol's muted scheme continues it (also built for colour-blind readers).
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999",
    "#332288", "#44AA99", "#882255", "#DDCC77", "#117733", "#AA4499",
)  # fmt: skip
SEVERITY_COLOURS = {
    "info": "#999999",
    "low": "#56B4E9",
    "medium": "#E69F00",
    "high": "#D55E00",
    "critical": "#882255",  # Tol's wine: apart from vermillion for every reader
}
# Units a chart's values are in: how its axis and tooltips write a number.
COUNT, SECONDS, PERCENT = "count", "seconds", "percent"
NO_VALUE = "\N{EN DASH}"  # what a table cell or tooltip shows where nothing was counted


@dataclass(frozen=True)
class Value:
    """One number of a chart: its series (legend entry), the value, and the queue of the tickets behind it."""

    series: str
    value: float | None  # None: nothing was counted (drawn as no bar, shown as NO_VALUE in the table)
    href: str = ""


@dataclass(frozen=True)
class Category:
    """One bar (or group, or point on the x axis): its label and its values, one per series at most."""

    label: str
    values: tuple[Value, ...]
    long_label: str = ""  # for tooltips and tables when the axis shows a short one ("Tue 24" / "24 Nov 2026")

    @property
    def full_label(self) -> str:
        return self.long_label or self.label

    def value_of(self, series: str) -> Value | None:
        return next((v for v in self.values if v.series == series), None)

    @property
    def total(self) -> float:
        return sum(v.value or 0 for v in self.values)


@dataclass(frozen=True)
class Chart:
    """What one chart shows: categories along one axis, series stacked or side by side, in one unit."""

    title: str
    categories: tuple[Category, ...]
    series: tuple[str, ...]
    unit: str = COUNT
    colours: dict[str, str] = field(default_factory=dict)  # series -> colour; else the palette in order
    series_labels: dict[str, str] = field(default_factory=dict)  # series -> legend text (default: itself)

    def colour(self, series: str) -> str:
        if series in self.colours:
            return self.colours[series]
        return PALETTE[self.series.index(series) % len(PALETTE)] if series in self.series else PALETTE[-1]

    def label_of(self, series: str) -> str:
        return self.series_labels.get(series, series)

    @property
    def is_empty(self) -> bool:
        return not any(v.value for c in self.categories for v in c.values)


# --- numbers as people read them ---------------------------------------------------------------------


def human_duration(seconds: float | None) -> str:
    """'42 s', '14 min', '3.2 h', '2.5 d': the unit that keeps the number small, one decimal below 10."""
    if seconds is None:
        return NO_VALUE
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{_short(seconds / size)} {unit}"
    return f"{seconds:.0f} s"


def _num(number: float) -> str:
    """A raw number for a data attribute or a CSV cell: whole numbers without a decimal point."""
    return str(int(number)) if number == int(number) else f"{number:.3f}".rstrip("0")


def _short(number: float) -> str:
    if number < 10 and round(number, 1) != round(number):
        return f"{number:.1f}"
    return f"{number:.0f}"


def format_value(value: float | None, unit: str) -> str:
    """A value written for an axis, a tooltip or a table cell in its chart's unit."""
    if value is None:
        return NO_VALUE
    if unit == SECONDS:
        return human_duration(value)
    if unit == PERCENT:
        return f"{value:.0f} %" if value == round(value) else f"{value:.1f} %"
    return f"{value:,.0f}" if value == round(value) else f"{value:,.1f}"


# Duration steps a tick may take: whole seconds, minutes, hours, days.
_DURATION_STEPS = (
    1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800,
    3600, 7200, 10800, 21600, 43200,
    86400, 172800, 604800, 1209600, 2592000,
)  # fmt: skip


def nice_ticks(maximum: float, unit: str = COUNT, most: int = 5) -> list[float]:
    """Axis ticks from 0 to at least `maximum`, at most `most` + 1 of them, on round steps.

    Counts step by 1, 2 or 5 times a power of ten (never a fraction of a ticket); durations by whole
    seconds, minutes, hours or days; percentages always run 0 to 100 by 20.
    """
    if unit == PERCENT:
        return [0, 20, 40, 60, 80, 100]
    if maximum <= 0:
        return [0, 1]
    rough = maximum / most
    if unit == SECONDS:
        step = next((s for s in _DURATION_STEPS if s >= rough), None)
        if step is None:  # beyond a month a step: round months
            step = 2592000 * math.ceil(rough / 2592000)
    else:
        power = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
        step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    top = step * math.ceil(maximum / step)
    return [step * i for i in range(round(top / step) + 1)]


# --- drawing ------------------------------------------------------------------------------------------

FONT = 11
LEGEND_LINE = 16


def _svg(chart: Chart, width: int, height: int, body: list[str], summary: str) -> str:
    label = f"{chart.title}: {summary}"
    return "".join(
        [
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"',
            f' viewBox="0 0 {width} {height}"',
            f' width="{width}" height="{height}" aria-label="{escape(label)}" font-size="{FONT}"',
            ' font-family="system-ui, sans-serif">',
            f"<title>{escape(label)}</title>",
            *body,
            "</svg>",
        ]
    )


def _legend(chart: Chart, x: float, y: float, right: float) -> tuple[list[str], int]:
    """The legend's parts and the height it takes: one swatch and name per series, wrapping at `right`."""
    parts, start, lines = ['<g class="legend">'], x, 1
    for series in chart.series:
        text = chart.label_of(series)
        step = 24 + _text_width(text)
        if x > start and x + step > right:
            x, y, lines = start, y + LEGEND_LINE, lines + 1
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="10" height="10" rx="2" fill="{chart.colour(series)}"/>'
            f'<text x="{x + 14:.1f}" y="{y + 9:.1f}" fill="currentColor">{escape(text)}</text>'
        )
        x += step
    parts.append("</g>")
    return parts, lines * LEGEND_LINE + 6


def _text_width(text: str, size: int = FONT) -> float:
    return len(text) * size * 0.58  # close enough for system-ui without measuring


def _clip(text: str, width: float) -> str:
    fits = max(3, int(width / (FONT * 0.58)))
    return text if len(text) <= fits else text[: fits - 1] + "…"


def _mark(value: Value, shape: str, tooltip: str) -> str:
    """A shape with its tooltip, inside a link to its drill-down when it has one."""
    inner = shape.replace("/>", f"><title>{escape(tooltip)}</title></{shape[1 : shape.index(' ')]}>", 1)
    if not value.href:
        return f'<g class="bar">{inner}</g>'
    return f'<a class="bar" href="{escape(value.href)}">{inner}</a>'


def _y_axis(
    ticks: list[float], unit: str, left: float, right: float, y_of: Callable[[float], float]
) -> list[str]:
    parts = ['<g class="axis">']
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="currentColor"'
            f' stroke-opacity="{0.5 if tick == 0 else 0.12}"/>'
            f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="currentColor"'
            f' fill-opacity="0.75">{escape(format_value(tick, unit))}</text>'
        )
    parts.append("</g>")
    return parts


LINE = FONT + 3  # the height of one more line of an x-axis label


def _label_lines(labels: Sequence[str]) -> int:
    """How many lines the tallest x-axis label takes (a newline in a label starts a second line)."""
    return max((label.count("\n") + 1 for label in labels), default=1)


def _x_labels(labels: Sequence[str], centres: Sequence[float], y: float, slot: float) -> list[str]:
    """Labels under the bars, `y` being the first line's baseline; a label's later lines go below it."""
    # Show every label when they fit, else every n-th (a month of days has 30 bars and room for ~10 labels).
    widest = max((_text_width(line) for label in labels for line in label.split("\n")), default=0) + 6
    every = max(1, math.ceil(widest / slot)) if slot else 1
    parts = ['<g class="axis">']
    for i, (label, x) in enumerate(zip(labels, centres, strict=True)):
        if i % every == 0:
            first, *more = label.split("\n")
            rest = "".join(f'<tspan x="{x:.1f}" dy="{LINE}">{escape(line)}</tspan>' for line in more)
            parts.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="currentColor"'
                f' fill-opacity="0.75">{escape(first)}{rest}</text>'
            )
    parts.append("</g>")
    return parts


def _tooltip(chart: Chart, category: Category, value: Value) -> str:
    return f"{category.full_label} · {chart.label_of(value.series)}: {format_value(value.value, chart.unit)}"


def stacked_bars(chart: Chart, *, width: int = 640, height: int = 240) -> str:
    """Vertical bars, one per category, its series stacked in legend order (opened per day by origin)."""
    left, right, bottom = 52, width - 8, height - 22
    legend, legend_height = _legend(chart, left, 4, right)
    top = legend_height + 8
    ticks = nice_ticks(max((c.total for c in chart.categories), default=0), chart.unit)
    scale = (bottom - top) / ticks[-1]

    def y_of(v: float) -> float:
        return bottom - v * scale

    slot = (right - left) / max(1, len(chart.categories))
    bar = max(2.0, slot * 0.72)
    body = legend + _y_axis(ticks, chart.unit, left, right, y_of)
    centres = []
    for i, category in enumerate(chart.categories):
        x = left + i * slot + (slot - bar) / 2
        centres.append(x + bar / 2)
        base = 0.0
        for series in chart.series:
            value = category.value_of(series)
            if value is None or not value.value:
                continue
            y = y_of(base + value.value)
            shape = (
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{value.value * scale:.1f}"'
                f' fill="{chart.colour(series)}" data-value="{_num(value.value)}"/>'
            )
            body.append(_mark(value, shape, _tooltip(chart, category, value)))
            base += value.value
    body += _x_labels([c.label for c in chart.categories], centres, height - 6, slot)
    total = sum(c.total for c in chart.categories)
    return _svg(chart, width, height, body, f"{format_value(total, chart.unit)} in all")


def grouped_bars(chart: Chart, *, width: int = 640, height: int = 240) -> str:
    """Vertical bars side by side per category, one per series (median and p90 per severity)."""
    more = (_label_lines([c.label for c in chart.categories]) - 1) * LINE
    height += more  # labels of two lines (playbook and task) get their room below the plot
    left, right, bottom = 52, width - 8, height - 22 - more
    legend, legend_height = _legend(chart, left, 4, right)
    top = legend_height + 8
    highest = max((v.value or 0 for c in chart.categories for v in c.values), default=0)
    ticks = nice_ticks(highest, chart.unit)
    scale = (bottom - top) / ticks[-1]
    slot = (right - left) / max(1, len(chart.categories))
    bar = min(36.0, slot * 0.8 / max(1, len(chart.series)))
    body = legend + _y_axis(ticks, chart.unit, left, right, lambda v: bottom - v * scale)
    centres = []
    for i, category in enumerate(chart.categories):
        start = left + i * slot + (slot - bar * len(chart.series)) / 2
        centres.append(left + i * slot + slot / 2)
        for j, series in enumerate(chart.series):
            value = category.value_of(series)
            if value is None or value.value is None:
                continue
            shape = (
                f'<rect x="{start + j * bar:.1f}" y="{bottom - value.value * scale:.1f}"'
                f' width="{bar - 2:.1f}" height="{value.value * scale:.1f}" fill="{chart.colour(series)}"'
                f' data-value="{_num(value.value)}"/>'
            )
            body.append(_mark(value, shape, _tooltip(chart, category, value)))
    body += _x_labels([c.label for c in chart.categories], centres, height - 6 - more, slot)
    return _svg(chart, width, height, body, f"{len(chart.categories)} groups")


def horizontal_bars(chart: Chart, *, width: int = 640, label_width: int = 200, row: int = 22) -> str:
    """One row per category, its series stacked left to right, the total written after the bar
    (alerts per rule, resolved per agent, SLA % per severity)."""
    left, right = label_width, width - 60
    legend, legend_height = _legend(chart, left, 4, right) if len(chart.series) > 1 else ([], 0)
    top = legend_height + 6
    height = top + row * max(1, len(chart.categories)) + 20
    bottom = height - 20
    highest = max((c.total for c in chart.categories), default=0)
    ticks = nice_ticks(highest, chart.unit)
    scale = (right - left) / ticks[-1]
    body = legend
    body.append('<g class="axis">')
    for tick in ticks:
        x = left + tick * scale
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="currentColor"'
            f' stroke-opacity="{0.5 if tick == 0 else 0.12}"/>'
            f'<text x="{x:.1f}" y="{height - 6:.1f}" text-anchor="middle" fill="currentColor"'
            f' fill-opacity="0.75">{escape(format_value(tick, chart.unit))}</text>'
        )
    body.append("</g>")
    for i, category in enumerate(chart.categories):
        y = top + i * row
        body.append(
            f'<text x="{left - 6}" y="{y + row * 0.65:.1f}" text-anchor="end" fill="currentColor">'
            f"{escape(_clip(category.label, left - 10))}</text>"
        )
        x = float(left)
        for series in chart.series:
            value = category.value_of(series)
            if value is None or not value.value:
                continue
            shape = (
                f'<rect x="{x:.1f}" y="{y + 3:.1f}" width="{value.value * scale:.1f}" height="{row - 6}"'
                f' fill="{chart.colour(series)}" data-value="{_num(value.value)}"/>'
            )
            body.append(_mark(value, shape, _tooltip(chart, category, value)))
            x += value.value * scale
        body.append(
            f'<text x="{x + 4:.1f}" y="{y + row * 0.65:.1f}" fill="currentColor">'
            f"{escape(format_value(category.total, chart.unit))}</text>"
        )
    return _svg(chart, width, height, body, f"{len(chart.categories)} rows")


def line_chart(chart: Chart, *, width: int = 640, height: int = 200) -> str:
    """One line per series over the categories (weeks), each point a linked dot (weekly MTTA/MTTR)."""
    left, right, bottom = 52, width - 16, height - 22
    legend, legend_height = _legend(chart, left, 4, right)
    top = legend_height + 8
    highest = max((v.value or 0 for c in chart.categories for v in c.values), default=0)
    ticks = nice_ticks(highest, chart.unit)
    scale = (bottom - top) / ticks[-1]
    slot = (right - left) / max(1, len(chart.categories))
    centres = [left + slot * (i + 0.5) for i in range(len(chart.categories))]
    body = legend + _y_axis(ticks, chart.unit, left, right, lambda v: bottom - v * scale)
    for series in chart.series:
        points = []
        for category, x in zip(chart.categories, centres, strict=True):
            value = category.value_of(series)
            if value is not None and value.value is not None:
                points.append((x, value.value, category, value))
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{bottom - v * scale:.1f}" for x, v, _c, _v in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{chart.colour(series)}" stroke-width="2"/>'
            )
        for x, number, category, value in points:
            shape = (
                f'<circle cx="{x:.1f}" cy="{bottom - number * scale:.1f}" r="4" fill="{chart.colour(series)}"'
                f' data-value="{_num(number)}"/>'
            )
            body.append(_mark(value, shape, _tooltip(chart, category, value)))
    body += _x_labels([c.label for c in chart.categories], centres, height - 6, slot)
    return _svg(chart, width, height, body, f"{len(chart.categories)} points")


# --- the same numbers as a table -----------------------------------------------------------------------


def table_rows(chart: Chart) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """(header, rows) of the chart's numbers: the category, then one (text, drill-down link) per series.

    The dashboard's <details> tables and its CSV downloads both come from here.
    """
    header = ["", *(chart.label_of(s) for s in chart.series)]
    rows = []
    for category in chart.categories:
        cells = [(category.full_label, "")]
        for series in chart.series:
            value = category.value_of(series)
            cells.append((format_value(value.value, chart.unit), value.href) if value else (NO_VALUE, ""))
        rows.append(cells)
    return header, rows


def csv_rows(chart: Chart) -> list[list[str]]:
    """The chart's numbers for a CSV file: raw numbers (seconds, percent, counts), no formatting."""
    unit = {SECONDS: " (seconds)", PERCENT: " (%)"}.get(chart.unit, "")
    out = [["category", *(f"{chart.label_of(s)}{unit}" for s in chart.series)]]
    for category in chart.categories:
        row = [category.full_label]
        for series in chart.series:
            value = category.value_of(series)
            row.append("" if value is None or value.value is None else _num(value.value))
        out.append(row)
    return out


DRAWINGS: dict[str, Callable[..., str]] = {
    "stacked": stacked_bars,
    "grouped": grouped_bars,
    "horizontal": horizontal_bars,
    "line": line_chart,
}
