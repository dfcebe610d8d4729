"""The SVG charts (socdesk.reports.charts): read back with xml.etree, as a browser or a PDF renderer would."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from socdesk.reports.charts import (
    COUNT,
    NO_VALUE,
    PERCENT,
    SECONDS,
    SEVERITY_COLOURS,
    Category,
    Chart,
    Value,
    csv_rows,
    format_value,
    grouped_bars,
    horizontal_bars,
    human_duration,
    line_chart,
    nice_ticks,
    stacked_bars,
    table_rows,
)

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def marks(root: ET.Element) -> list[ET.Element]:
    """Each drawn value: the shape inside an <a class="bar"> (linked) or <g class="bar"> (not)."""
    found = []
    for holder in root.iter():
        if holder.get("class") == "bar":
            shapes = [child for child in holder if child.tag.split("}")[1] in ("rect", "circle")]
            assert len(shapes) == 1
            found.append(shapes[0])
    return found


def link_of(root: ET.Element, shape: ET.Element) -> str | None:
    for a in root.iter("{http://www.w3.org/2000/svg}a"):
        if shape in list(a):
            return a.get("href")
    return None


def tooltip(shape: ET.Element) -> str:
    title = shape.find("svg:title", NS)
    assert title is not None
    return title.text or ""


def days_chart() -> Chart:
    return Chart(
        title="Opened per day",
        series=("elastic", "wazuh"),
        categories=(
            Category("Mon 23", (Value("elastic", 4, "/tickets/?d=23&o=elastic"), Value("wazuh", 2, "/w23"))),
            Category("Tue 24", (Value("elastic", 8, "/tickets/?d=24&o=elastic"),)),
            Category("Wed 25", ()),
        ),
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, NO_VALUE),
        (0, "0 s"),
        (42, "42 s"),
        (60, "1 min"),
        (90, "1.5 min"),
        (14 * 60, "14 min"),
        (3.2 * 3600, "3.2 h"),
        (14 * 3600, "14 h"),
        (2.5 * 86400, "2.5 d"),
        (40 * 86400, "40 d"),
    ],
)
def test_human_durations(seconds, text):
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("maximum", "unit", "ticks"),
    [
        (0, COUNT, [0, 1]),
        (3, COUNT, [0, 1, 2, 3]),
        (7, COUNT, [0, 2, 4, 6, 8]),
        (12, COUNT, [0, 5, 10, 15]),
        (230, COUNT, [0, 50, 100, 150, 200, 250]),
        (1_000_000, COUNT, [0, 200_000, 400_000, 600_000, 800_000, 1_000_000]),
        (55, PERCENT, [0, 20, 40, 60, 80, 100]),
        (50 * 60, SECONDS, [0, 600, 1200, 1800, 2400, 3000]),
        (7 * 3600, SECONDS, [0, 7200, 14400, 21600, 28800]),
    ],
)
def test_nice_ticks(maximum, unit, ticks):
    assert nice_ticks(maximum, unit) == ticks


def test_ticks_written_in_the_charts_unit():
    assert [format_value(t, SECONDS) for t in nice_ticks(7 * 3600, SECONDS)] == [
        "0 s",
        "2 h",
        "4 h",
        "6 h",
        "8 h",
    ]
    assert format_value(1234, COUNT) == "1,234"
    assert format_value(97.5, PERCENT) == "97.5 %"


def test_stacked_bars_one_linked_rect_per_non_zero_value_heights_proportional():
    root = parse(stacked_bars(days_chart()))
    assert root.get("role") == "img"
    assert root.get("aria-label").startswith("Opened per day")
    assert root.find("svg:title", NS) is not None
    rects = marks(root)
    assert [r.get("data-value") for r in rects] == ["4", "2", "8"]
    heights = [float(r.get("height")) for r in rects]
    assert heights[0] == pytest.approx(2 * heights[1], abs=0.2)
    assert heights[2] == pytest.approx(2 * heights[0], abs=0.2)
    # Stacked: wazuh's segment sits right on top of elastic's in the same column.
    assert float(rects[1].get("y")) + heights[1] == pytest.approx(float(rects[0].get("y")), abs=0.2)
    assert rects[0].get("x") == rects[1].get("x")
    assert [link_of(root, r) for r in rects] == [
        "/tickets/?d=23&o=elastic",
        "/w23",
        "/tickets/?d=24&o=elastic",
    ]
    assert tooltip(rects[0]) == "Mon 23 · elastic: 4"
    assert rects[0].get("fill") != rects[1].get("fill")
    # No inline style anywhere: the console's Content-Security-Policy would refuse it.
    assert all("style" not in el.attrib for el in root.iter())


def test_legend_lists_every_series_with_its_colour():
    chart = Chart(
        title="By severity",
        series=("high", "critical"),
        colours=SEVERITY_COLOURS,
        series_labels={"high": "High", "critical": "Critical"},
        categories=(Category("Mon", (Value("high", 1, "/h"), Value("critical", 3, "/c"))),),
    )
    root = parse(stacked_bars(chart))
    legend = next(g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "legend")
    assert [t.text for t in legend.iter("{http://www.w3.org/2000/svg}text")] == ["High", "Critical"]
    assert [r.get("fill") for r in legend.iter("{http://www.w3.org/2000/svg}rect")] == [
        SEVERITY_COLOURS["high"],
        SEVERITY_COLOURS["critical"],
    ]
    assert [r.get("fill") for r in marks(root)] == [SEVERITY_COLOURS["high"], SEVERITY_COLOURS["critical"]]


@pytest.mark.parametrize("draw", [stacked_bars, grouped_bars, horizontal_bars, line_chart])
def test_hostile_text_is_escaped_in_every_drawing(draw):
    evil = '<script>alert(1)</script>" onload="x'
    chart = Chart(
        title=f"Rules {evil}",
        series=(evil,),
        categories=(Category(evil, (Value(evil, 5, '/tickets/?rule="><script>'),)),),
    )
    svg = draw(chart)
    assert "<script>" not in svg
    root = parse(svg)  # still well-formed
    assert all(el.tag.split("}")[1] != "script" for el in root.iter())
    (shape,) = marks(root)
    assert evil in tooltip(shape)  # the text survives, as text
    assert link_of(root, shape) == '/tickets/?rule="><script>'
    assert all(not name.startswith("on") for el in root.iter() for name in el.attrib)


def test_horizontal_bars_widths_proportional_and_total_written():
    chart = Chart(
        title="Noisiest rules",
        series=("alerts",),
        categories=(
            Category("Brute force", (Value("alerts", 30, "/r1"),)),
            Category("Port scan", (Value("alerts", 10, "/r2"),)),
        ),
    )
    root = parse(horizontal_bars(chart))
    rects = marks(root)
    widths = [float(r.get("width")) for r in rects]
    assert widths[0] == pytest.approx(3 * widths[1], abs=0.2)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Brute force" in texts and "30" in texts and "10" in texts


def test_horizontal_percentages_run_to_100():
    chart = Chart(
        title="SLA met",
        unit=PERCENT,
        series=("response",),
        categories=(Category("High", (Value("response", 50, "/x"),)),),
    )
    root = parse(horizontal_bars(chart))
    (rect,) = marks(root)
    axis_texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "100 %" in axis_texts and "50 %" in axis_texts
    lines = [float(line.get("x1")) for line in root.iter("{http://www.w3.org/2000/svg}line")]
    assert float(rect.get("width")) == pytest.approx((max(lines) - min(lines)) / 2, abs=0.2)


def test_grouped_bars_side_by_side_with_durations():
    chart = Chart(
        title="Time to resolve",
        unit=SECONDS,
        series=("median", "p90"),
        categories=(
            Category("High", (Value("median", 600, "/m"), Value("p90", 1800, "/p"))),
            Category("Low", (Value("median", None), Value("p90", 3600, "/p2"))),
        ),
    )
    root = parse(grouped_bars(chart))
    rects = marks(root)
    assert [r.get("data-value") for r in rects] == ["600", "1800", "3600"]
    assert float(rects[1].get("height")) == pytest.approx(3 * float(rects[0].get("height")), abs=0.2)
    assert float(rects[0].get("x")) < float(rects[1].get("x"))
    assert tooltip(rects[1]) == "High · p90: 30 min"


def test_line_chart_one_line_and_linked_points_per_series():
    chart = Chart(
        title="Weekly MTTR",
        unit=SECONDS,
        series=("median",),
        categories=tuple(Category(f"W{i}", (Value("median", i * 60, f"/w{i}"),)) for i in range(1, 5)),
    )
    root = parse(line_chart(chart))
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polyline"))) == 1
    dots = marks(root)
    assert [link_of(root, d) for d in dots] == ["/w1", "/w2", "/w3", "/w4"]
    ys = [float(d.get("cy")) for d in dots]
    assert ys == sorted(ys, reverse=True)  # rising values, higher on the page


def test_value_without_link_drawn_without_anchor():
    chart = Chart(title="t", series=("a",), categories=(Category("x", (Value("a", 3),)),))
    root = parse(stacked_bars(chart))
    (rect,) = marks(root)
    assert link_of(root, rect) is None
    assert not list(root.iter("{http://www.w3.org/2000/svg}a"))


def test_table_and_csv_carry_the_same_numbers_and_links():
    header, rows = table_rows(days_chart())
    assert header == ["", "elastic", "wazuh"]
    assert rows[0] == [("Mon 23", ""), ("4", "/tickets/?d=23&o=elastic"), ("2", "/w23")]
    assert rows[2] == [("Wed 25", ""), (NO_VALUE, ""), (NO_VALUE, "")]
    assert csv_rows(days_chart()) == [
        ["category", "elastic", "wazuh"],
        ["Mon 23", "4", "2"],
        ["Tue 24", "8", ""],
        ["Wed 25", "", ""],
    ]


def test_empty_chart_knows_it_is_empty():
    assert days_chart().is_empty is False
    assert Chart(title="t", series=("a",), categories=(Category("x", (Value("a", 0),)),)).is_empty


def test_a_long_legend_wraps_inside_the_chart_and_moves_the_plot_down():
    series = tuple(f"origin-{i}" for i in range(12))
    chart = Chart(
        title="Many origins",
        series=series,
        categories=(Category("Mon", tuple(Value(s, 1, f"/{s}") for s in series)),),
    )
    root = parse(stacked_bars(chart, width=400))
    legend = next(g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "legend")
    swatches = list(legend.iter("{http://www.w3.org/2000/svg}rect"))
    rows = sorted({float(r.get("y")) for r in swatches})
    assert len(rows) > 1
    assert all(float(r.get("x")) < 400 for r in swatches)
    assert len({r.get("fill") for r in swatches}) == 12  # no colour used twice
    assert min(float(r.get("y")) for r in marks(root)) > rows[-1] + 10  # bars start under the legend
