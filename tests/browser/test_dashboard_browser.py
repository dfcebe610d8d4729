"""The SOC dashboard in a real Chromium, on the demo's tickets and alerts folded into the roll-ups: it
renders, each chart's bars open the queue of exactly the tickets they count, the CSV downloads, the picker
narrows, and carol (IT) sees none of SOC's numbers."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.reports.fold import fold
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

# The panels whose bars are counts of tickets (the others are durations or percentages).
COUNT_PANELS = (
    "open",
    "opened-by-origin",
    "opened-by-severity",
    "resolved-by-origin",
    "resolved-by-severity",
    "verdicts",
    "rules",
    "observables",
    "agents",
)


@pytest.fixture
def demo(cast):
    call_command("demo", tickets=120, days=30, stdout=StringIO())
    fold()
    return cast


def queue_total(page) -> int:
    shown = page.locator("main").inner_text()
    return int(re.search(r"\bof ([\d,]+)", shown)[1].replace(",", ""))


def test_dashboard_drills_down_downloads_and_narrows(page, live_server, demo, screenshots):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url(f"{base}/dashboard")
    page.get_by_label("30 days").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"period=30d"))
    expect(page.get_by_role("heading", name="SOC dashboard")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    page.screenshot(path=screenshots / "dashboard.png", full_page=True)
    dashboard_url = page.url
    # The dark theme: the charts' text and axes follow it (currentColor), the palette reads on both.
    page.get_by_role("button", name="Toggle dark theme").click()
    page.screenshot(path=screenshots / "dashboard-dark.png", full_page=True)
    page.get_by_role("button", name="Toggle dark theme").click()

    # Each count chart: its first bar's queue lists as many tickets as the bar counts.
    checked = []
    for slug in COUNT_PANELS:
        bar = page.locator(f'[data-panel="{slug}"] svg a.bar').first
        if not bar.count():
            continue
        shape = bar.locator("rect, circle")
        value = int(shape.get_attribute("data-value"))
        if slug == "rules":  # a rule's bar counts alerts; its queue holds the tickets they raised
            value = int(re.search(r"([\d,]+) tickets?\)", shape.locator("title").text_content())[1])
        href = bar.get_attribute("href")
        if slug == "opened-by-origin":
            bar.click()  # a link inside the SVG, as a person clicks it
            page.wait_for_url(re.compile(r"/tickets/\?"))
        else:
            page.goto(base + href)
        assert queue_total(page) == value, (slug, href)
        checked.append(slug)
        if slug == "rules":
            page.screenshot(path=screenshots / "dashboard-rule-queue.png", full_page=True)
        page.goto(dashboard_url)
    assert {"open", "opened-by-origin", "resolved-by-severity", "verdicts", "rules"} <= set(checked)

    # The table under a chart: its links are the same drill-downs.
    panel = page.locator('[data-panel="opened-by-severity"]')
    panel.locator("summary").click()
    expect(panel.locator("table")).to_be_visible()
    panel.screenshot(path=screenshots / "dashboard-table-open.png")

    # The CSV of the noisiest rules.
    with page.expect_download() as download_info:
        page.locator('[data-panel="rules"]').get_by_role("link", name="CSV").click()
    download = download_info.value
    assert re.fullmatch(r"socdesk-rules-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    lines = download.path().read_text(encoding="utf-8").splitlines()
    assert lines[0] == "rule,origin,alerts,tickets,resolved,false positives,handling seconds"
    assert len(lines) > 1

    # The picker narrows to a team: the page says so, and the drill-downs carry it.
    page.get_by_label("Team", exact=True).select_option(label="Tier 1")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"team=\d+"))
    expect(page.locator(".dash-head")).to_contain_text("team Tier 1")
    links = page.locator("svg a.bar")
    if links.count():
        assert "team=" in links.first.get_attribute("href")
    page.screenshot(path=screenshots / "dashboard-team.png", full_page=True)


def test_carol_sees_none_of_socs_numbers(page, live_server, demo, screenshots):
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "carol", PERSONA_PASSWORD)
    page.goto(f"{base}/dashboard?period=30d")
    department = page.get_by_label("Department", exact=True)
    assert "SOC" not in department.inner_text()
    for link in page.locator("svg a.bar").all():
        assert f"department={demo.soc.pk}&" not in (link.get_attribute("href") or "")
    expect(page.locator("[data-tile]")).to_have_count(4)  # no ingest figures: they count SOC's alerts too
    page.screenshot(path=screenshots / "dashboard-carol.png", full_page=True)
    response = page.goto(f"{base}/dashboard?department={demo.soc.pk}")
    assert response is not None and response.status == 404


def test_playbook_tasks_chart_table_csv_and_drill_down(page, live_server, cast, screenshots):
    from socdesk.tickets.models import Ticket
    from tests.reports.playbook_scenario import build

    playbooks = build(cast)
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/dashboard?period=30d")
    panel = page.locator('[data-panel="playbooks"]')
    expect(panel.locator("svg.chart")).to_be_visible()
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=screenshots / "dashboard-playbooks.png")
    page.screenshot(path=screenshots / "dashboard-playbooks-page.png", full_page=True)
    # The table: one row per task, its counts opening the tickets the playbook was applied to (SOC's).
    panel.locator("summary").click()
    expect(panel.locator("table")).to_be_visible()
    panel.screenshot(path=screenshots / "dashboard-playbooks-table.png")
    row = panel.locator("tbody tr", has_text="Malware containment").first
    row.get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"playbook={playbooks['malware'].pk}"))
    malware = Ticket.objects.filter(playbook_runs__playbook=playbooks["malware"])
    expected = malware.filter(department=cast.soc).count()
    assert expected and queue_total(page) == expected
    page.screenshot(path=screenshots / "dashboard-playbook-queue.png", full_page=True)
    # The CSV.
    page.goto(f"{base}/dashboard?period=30d")
    with page.expect_download() as download_info:
        page.locator('[data-panel="playbooks"]').get_by_role("link", name="CSV").click()
    lines = download_info.value.path().read_text(encoding="utf-8").splitlines()
    assert lines[0] == "playbook,position,task,done,skipped,median seconds,p90 seconds"
    assert len(lines) > 2
