"""In a real Chromium: an admin schedules the SOC report, sees a refusal next to its field, then the
schedule on the list and its page with the PDF preview."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD, make_personas
from socdesk.reports.models import ReportSchedule
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_an_admin_schedules_the_soc_report(page, live_server, transactional_db, screenshots):
    make_personas()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.set_viewport_size({"width": 1440, "height": 1000})
    base = live_server.url
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/admin-area/")
    page.get_by_role("navigation", name="Admin area").get_by_role("link", name="SOC reports").click()
    expect(page.get_by_text("No scheduled reports yet.")).to_be_visible()
    page.get_by_role("link", name="New scheduled report").click()

    page.get_by_label("Name", exact=True).fill("soc-weekly")
    page.get_by_label("Department").select_option(label="SOC")
    page.get_by_label("Team").select_option(label="Tier 1")
    page.get_by_label("Recipients").fill("lead@example.test\nmanager")
    page.get_by_role("button", name="Create scheduled report").click()
    expect(page.locator(".field.invalid")).to_contain_text("'manager' is not an e-mail address")
    page.screenshot(path=screenshots / "report-schedule-refused.png", full_page=True)
    assert not ReportSchedule.objects.exists()

    page.get_by_label("Recipients").fill("lead@example.test\nmanager@example.test")
    page.get_by_role("button", name="Create scheduled report").click()
    expect(page.get_by_text("Scheduled report soc-weekly saved.")).to_be_visible()
    expect(page.get_by_role("link", name="Preview the PDF")).to_be_visible()
    page.screenshot(path=screenshots / "report-schedule-edit.png", full_page=True)
    schedule = ReportSchedule.objects.get()
    assert schedule.recipients == ["lead@example.test", "manager@example.test"]

    with page.expect_response(lambda r: r.url.endswith("/preview.pdf")) as preview:
        page.evaluate("url => fetch(url)", f"{base}/admin-area/reports/{schedule.pk}/preview.pdf")
    assert preview.value.headers["content-type"] == "application/pdf"

    page.get_by_role("link", name="Back to the list").click()
    row = page.locator("tr", has_text="soc-weekly")
    expect(row).to_contain_text("SOC · team Tier 1")
    expect(row).to_contain_text("lead@example.test, manager@example.test")
    expect(row).to_contain_text("not yet")
    page.screenshot(path=screenshots / "report-schedules.png", full_page=True)
    # The refused form is a 400 page (Chromium logs its status); nothing else went wrong.
    assert [p for p in problems if "status of 400" not in p] == []


def test_the_email_reads_well_in_a_browser(page, screenshots):
    """The e-mail's HTML as a mail client without <style> support would show it (inline styles only)."""
    from socdesk.reports.report_content import report_content
    from socdesk.reports.report_render import report_html
    from tests.reports.sample_figures import november_figures

    page.set_viewport_size({"width": 800, "height": 1000})
    page.set_content(report_html(report_content(november_figures(), scope_label="SOC")))
    expect(page.get_by_role("heading", name="SOC report: SOC")).to_be_visible()
    expect(page.get_by_text("92.5 %").first).to_be_visible()
    bars = page.locator('td[title^="Mon 02 Nov"] div')
    assert bars.first.bounding_box()["height"] > 50  # the busiest day's column, drawn by a table cell
    page.screenshot(path=screenshots / "report-email.png", full_page=True)
