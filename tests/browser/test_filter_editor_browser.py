"""The ticket filter editor in a real Chromium, under the Content-Security-Policy: an admin builds
"subject contains phish -> team Tier 1, tag phishing", dry-runs it on a sample alert and sees the match,
then a ticket opened in the console is routed by it. Also every routing page of the admin area, with
screenshots."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.routing.models import FilterRule
from socdesk.tickets import hooks
from socdesk.tickets.models import Ticket
from tests.browser.conftest import sign_in
from tests.browser.test_admin_area_browser import PHONE, no_sideways_scroll
from tests.browser.test_csp_browser import PolicyWatch

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
SAMPLE = json.dumps({"title": "User reported phish: invoice.zip", "severity": "high", "host": "ws-042"})


def build_phishing_filter(page, base: str, watch: PolicyWatch, screenshots) -> FilterRule:
    """Sign in as admin and build the filter in the editor, row by row; returns it as stored."""
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/admin-area/")
    page.get_by_role("navigation", name="Admin area").get_by_role("link", name="Ticket filters").click()
    expect(page.get_by_role("heading", name="Ticket filters")).to_be_visible()
    watch.check(screenshots / "filters-empty.png")

    page.get_by_role("link", name="New filter").click()
    page.get_by_label("Name").fill("Phishing to Tier 1")
    page.locator("[name=cond-0-field]").fill("subject")
    page.locator("[name=cond-0-operator]").select_option("contains")
    page.locator("[name=cond-0-value]").fill("phish")
    page.locator("[name=act-0-type]").select_option(label="Set team")
    page.locator("[name=act-0-target]").select_option(label="Tier 1 (SOC)")
    page.locator("[name=act-1-type]").select_option(label="Add tags")
    page.locator("[name=act-1-value]").fill("phishing")
    watch.check(screenshots / "filter-editor-new.png")
    page.get_by_role("button", name="Create filter").click()
    expect(page.get_by_role("alert").or_(page.locator(".messages"))).to_contain_text(
        "Filter Phishing to Tier 1 created."
    )
    return FilterRule.objects.get(name="Phishing to Tier 1")


def test_an_admin_builds_a_filter_and_dry_runs_it(page, live_server, cast, screenshots):
    base = live_server.url
    watch = PolicyWatch(page)
    rule = build_phishing_filter(page, base, watch, screenshots)
    assert rule.conditions == [{"field": "subject", "operator": "contains", "value": "phish"}]
    assert rule.actions == [
        {"type": "set_team", "value": cast.tier1.pk},
        {"type": "add_tags", "value": ["phishing"]},
    ]
    watch.check(screenshots / "filter-editor-saved.png")
    # At phone width the rows stack; nothing sticks out of the window.
    page.set_viewport_size(PHONE)
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / "filter-editor-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)

    # A refused edit: a regex that does not compile is shown on its row, and nothing changes.
    page.locator("[name=cond-0-operator]").select_option("matches")
    page.locator("[name=cond-0-value]").fill("(phish")
    page.get_by_role("button", name="Save filter").click()
    expect(page.locator("[data-condition-row] .row-error")).to_contain_text("does not compile")
    watch.check(screenshots / "filter-editor-refused.png")
    rule.refresh_from_db()
    assert rule.conditions[0]["operator"] == "contains"

    # The dry run on the filter's page: a sample generic alert, read by the generic adapter (htmx swap).
    page.goto(f"{base}/admin-area/filters/{rule.pk}")
    page.get_by_label("or a sample alert payload").fill(SAMPLE)
    page.get_by_label("Adapter").select_option("generic")
    page.get_by_role("button", name="Dry run").click()
    result = page.locator("#dry-run-result")
    expect(result).to_contain_text("Alert: User reported phish: invoice.zip")
    expect(result).to_contain_text("matches")
    expect(result).to_contain_text("Set team: Tier 1 (SOC)")
    expect(result).to_contain_text("Add tags: phishing")
    watch.check(screenshots / "filter-dry-run.png")
    rule.refresh_from_db()
    assert rule.hit_count == 0  # a dry run writes nothing

    # The list: the filter in order, on, with its hits; the list's own dry run says the same.
    page.get_by_role("link", name="Back to the list").click()
    expect(page.locator("table.filter-list")).to_contain_text("Phishing to Tier 1")
    page.get_by_label("or a sample alert payload").fill(SAMPLE)
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("#dry-run-result")).to_contain_text("Set team: Tier 1 (SOC)")
    watch.check(screenshots / "filters-list-dry-run.png")
    page.get_by_role("button", name="Turn Phishing to Tier 1 off").click()
    expect(page.locator("table.filter-list")).to_contain_text("off")
    watch.check(screenshots / "filters-list-off.png")

    # The other routing pages, each with its form.
    for section, button, shot in (
        ("Schedules", "New schedule", "schedules"),
        ("SLA plans", "New SLA plan", "sla-plans"),
        ("Help topics", "New help topic", "help-topics"),
    ):
        page.get_by_role("navigation", name="Admin area").get_by_role("link", name=section).click()
        watch.check(screenshots / f"{shot}.png")
        page.get_by_role("link", name=button).click()
        watch.check(screenshots / f"{shot}-form.png")


def _filters_wired() -> bool:
    """Whether the routing app runs the filters on new tickets (its hook on the one ticket path)."""
    return any(getattr(hook, "__module__", "").startswith("socdesk.routing") for hook in hooks.before_create)


@pytest.mark.xfail(condition=not _filters_wired(), reason="filters wired in a parallel change", strict=False)
def test_a_ticket_opened_in_the_console_is_routed_by_the_filter(page, live_server, cast, screenshots):
    base = live_server.url
    watch = PolicyWatch(page)
    build_phishing_filter(page, base, watch, screenshots)
    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("Requester email").fill("dana@example.test")
    page.get_by_label("Subject").fill("Phish: fake invoice asks for a password")
    page.get_by_label("Department").select_option(label="SOC")
    page.get_by_label("Description").fill("Forwarded by Dana.")
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("heading", name="Phish: fake invoice asks for a password")).to_be_visible()
    watch.check(screenshots / "filter-routed-ticket.png")
    ticket = Ticket.objects.get(subject="Phish: fake invoice asks for a password")
    assert ticket.team_id == cast.tier1.pk
    assert "phishing" in set(ticket.tags.values_list("name", flat=True))
