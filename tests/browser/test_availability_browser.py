"""The top bar's availability switch in a real Chromium under the Content-Security-Policy (htmx swaps it
in place), and the admin area's department page with auto-assignment and auto-close."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from socdesk.accounts.models import Agent, Department
from socdesk.accounts.services import agent_set_availability
from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing.models import AssignmentPolicy
from socdesk.tickets.models import Ticket
from tests.browser.conftest import sign_in
from tests.browser.test_csp_browser import PolicyWatch

pytestmark = pytest.mark.browser


def test_an_agent_goes_away_and_comes_back_from_the_top_bar(page, live_server, cast, screenshots):
    base = live_server.url
    watch = PolicyWatch(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    switch = page.locator("#availability button")
    expect(switch).to_have_text("Available")
    expect(switch).to_have_attribute("aria-pressed", "true")
    watch.check(screenshots / "availability-available.png")
    page.locator(".who").screenshot(path=screenshots / "availability-switch-available.png")

    url = page.url
    switch.click()
    expect(page.locator("#availability button")).to_have_text("Away")
    assert page.url == url  # swapped in place by htmx, no page load
    expect(page.locator("#availability button")).to_have_attribute("aria-pressed", "false")
    watch.check(screenshots / "availability-away.png")
    page.locator(".who").screenshot(path=screenshots / "availability-switch-away.png")
    assert Agent.objects.get(pk=cast.alice.pk).available is False

    page.reload()  # the state is stored, not just shown
    expect(page.locator("#availability button")).to_have_text("Away")
    page.locator("#availability button").click()
    expect(page.locator("#availability button")).to_have_text("Available")
    assert Agent.objects.get(pk=cast.alice.pk).available is True
    assert AuditEvent.objects.filter(action="agent.availability_changed").count() == 2


def test_an_admin_sets_assignment_and_auto_close_on_the_department_page(page, live_server, cast, screenshots):
    base = live_server.url
    watch = PolicyWatch(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    agent_set_availability(actor=Actor.for_agent(cast.bob), agent=cast.bob, available=False)
    page.goto(f"{base}/admin-area/agents")
    expect(page.locator("tr", has_text="bob")).to_contain_text("active · away")
    watch.check(screenshots / "admin-area-agents-availability.png")

    page.goto(f"{base}/admin-area/departments/{cast.soc.pk}")
    page.get_by_label("Assign new tickets automatically").select_option("round_robin")
    page.get_by_label("Close resolved tickets after (days)").fill("7")
    watch.check(screenshots / "admin-area-department-automation.png")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert.success")).to_contain_text("SOC saved.")
    assert AssignmentPolicy.objects.get(department=cast.soc).mode == "round_robin"
    assert Department.objects.get(pk=cast.soc.pk).autoclose_resolved_days == 7

    page.goto(f"{base}/admin-area/teams/{cast.tier1.pk}")
    page.get_by_label("Assign the team's new tickets automatically").select_option("fewest_open")
    watch.check(screenshots / "admin-area-team-automation.png")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert.success")).to_contain_text("Tier 1 saved.")
    assert AssignmentPolicy.objects.get(team=cast.tier1).mode == "fewest_open"

    # A ticket opened with nobody as assignee goes to the department's next agent, and says so.
    page.goto(f"{base}/tickets/new")
    page.get_by_label("Subject").fill("Impossible travel for j.doe")
    page.get_by_label("Department").select_option(label="SOC")
    page.get_by_role("button", name=re.compile("Open ticket|Create")).click()
    history = page.get_by_role("list", name="History")
    expect(history).to_contain_text("auto-assignment assigned the ticket automatically")
    watch.check(screenshots / "ticket-auto-assigned.png")
    assert Ticket.objects.get(subject="Impossible travel for j.doe").assignee_id == cast.alice.pk
