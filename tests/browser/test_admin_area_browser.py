"""The console's admin area in a real Chromium, under the Content-Security-Policy: every page reached
from the top bar's Admin link, an agent form at desktop and phone width, the integration preview swapped
in by htmx, and an API key shown once and revoked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from socdesk.accounts.models import ApiKey
from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.alerts.models import Integration
from tests.browser.conftest import sign_in
from tests.browser.test_csp_browser import PolicyWatch

pytestmark = pytest.mark.browser

SAMPLE = (Path(__file__).resolve().parents[1] / "alerts" / "fixtures" / "alertmanager_v4.json").read_text()
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page) -> None:
    """Nothing in the page's main part sticks out of the window (wide tables scroll inside their own box;
    the top bar's own layout on a phone is the console's, not the admin area's)."""
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll("main *"))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(e => !e.closest(".table-scroll"))
            .slice(0, 8).map(e => e.tagName + "." + e.className)"""
    )
    assert wide == [], f"{page.url}: wider than the window: {wide}"


def test_admin_pages_people(page, live_server, cast, screenshots):
    base = live_server.url
    watch = PolicyWatch(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Admin")).to_be_visible()
    watch.check(screenshots / "admin-area-home.png")

    page.get_by_role("navigation", name="Admin area").get_by_role("link", name="Agents").click()
    expect(page.locator("table.admin-list")).to_contain_text("SOC: Analyst")
    watch.check(screenshots / "admin-area-agents.png")

    page.get_by_role("link", name="New agent").click()
    watch.check(screenshots / "admin-area-agent-form.png")
    page.set_viewport_size(PHONE)
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / "admin-area-agent-form-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)

    # A refused form keeps what was typed and says what to fix.
    page.get_by_label("Username").fill("alice")
    page.get_by_role("button", name="Create agent").click()
    expect(page.locator(".field-error")).to_contain_text("The username 'alice' is taken.")
    watch.check(screenshots / "admin-area-agent-refused.png")

    # Departments, teams and roles: create one of each.
    nav = page.get_by_role("navigation", name="Admin area")
    nav.get_by_role("link", name="Departments").click()
    page.get_by_label("Name").fill("Threat Intel")
    page.get_by_role("button", name="Create department").click()
    expect(page.get_by_role("status")).to_contain_text("Threat Intel created.")
    expect(page.locator("table.admin-list")).to_contain_text("Threat Intel")
    watch.check(screenshots / "admin-area-departments.png")
    page.get_by_role("link", name="Threat Intel").click()
    page.get_by_label("Keep closed tickets (days)").fill("365")
    watch.check(screenshots / "admin-area-department-edit.png")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Threat Intel saved.")

    nav.get_by_role("link", name="Teams").click()
    page.get_by_label("Name").fill("Tier 2")
    page.get_by_label("Department").select_option(label="SOC")
    page.get_by_label("Bob", exact=True).check()
    page.get_by_role("button", name="Create team").click()
    expect(page.locator("table.admin-list")).to_contain_text("Tier 2")
    watch.check(screenshots / "admin-area-teams.png")
    page.get_by_role("link", name="Tier 2").click()
    page.get_by_label("Alice", exact=True).check()
    watch.check(screenshots / "admin-area-team-edit.png")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Tier 2 saved.")
    expect(page.locator("table.admin-list")).to_contain_text("Alice, Bob")

    nav.get_by_role("link", name="Roles").click()
    page.get_by_label("Name").fill("Triage")
    page.get_by_label("View tickets").check()
    page.get_by_label("Resolve and close tickets").check()
    page.get_by_role("button", name="Create role").click()
    expect(page.locator("table.admin-list")).to_contain_text("Triage")
    watch.check(screenshots / "admin-area-roles.png")
    page.get_by_role("link", name="Triage").click()
    page.get_by_label("Reply and add notes").check()
    page.get_by_label("Holders must sign in with a second factor").check()
    watch.check(screenshots / "admin-area-role-edit.png")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("table.admin-list")).to_contain_text("required")
    page.set_viewport_size(PHONE)
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / "admin-area-roles-phone.png", full_page=True)


def test_admin_pages_tools(page, live_server, cast, screenshots):
    base = live_server.url
    watch = PolicyWatch(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, "admin", PERSONA_PASSWORD)

    # An integration, created, then tried on a sample through htmx (nothing stored).
    watch.visit(f"{base}/admin-area/integrations")
    page.get_by_role("link", name="New integration").click()
    watch.check(screenshots / "admin-area-integration-new.png")
    page.get_by_label("Name").fill("Prometheus")
    page.get_by_label("Adapter").select_option(value="alertmanager")
    page.get_by_label("Department").select_option(label="SOC")
    page.get_by_role("button", name="Create integration").click()
    page.wait_for_url(re.compile(r".*/admin-area/integrations/\d+$"))  # created, on its page
    integration = Integration.objects.get(name="Prometheus")
    expect(page.get_by_label(re.compile("Webhook URL"))).to_have_value(re.compile(integration.token))
    page.get_by_label("Sample payload").fill(SAMPLE)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-result")).to_contain_text(re.compile(r"\d+ alerts?"))
    assert page.url.endswith(f"/admin-area/integrations/{integration.pk}")  # swapped in, not a new page
    watch.check(screenshots / "admin-area-integration-preview.png")
    page.get_by_role("navigation", name="Admin area").get_by_role("link", name="Integrations").click()
    expect(page.locator("table.admin-list")).to_contain_text("Prometheus")
    watch.check(screenshots / "admin-area-integrations.png")

    # An API key: shown once, then only its prefix; revoked from the list.
    watch.visit(f"{base}/admin-area/api-keys")
    page.get_by_role("link", name="New API key").click()
    page.get_by_label("Name").fill("SOAR")
    page.get_by_label("tickets:read").check()
    watch.check(screenshots / "admin-area-apikey-new.png")
    page.get_by_role("button", name="Create API key").click()
    raw = page.get_by_label("API key", exact=True).input_value()
    assert raw.startswith("sdk_")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    watch.check(screenshots / "admin-area-apikey-created.png")
    page.get_by_role("link", name="Back to API keys").click()
    assert raw not in page.content()
    page.get_by_role("button", name="Revoke SOAR").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(page.locator("table.admin-list")).to_contain_text("revoked")
    assert ApiKey.objects.get(name="SOAR").revoked_at is not None
    watch.check(screenshots / "admin-area-apikeys.png")
    page.set_viewport_size(PHONE)
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / "admin-area-apikeys-phone.png", full_page=True)


def test_agents_who_manage_nothing_see_no_admin_link_and_no_admin_pages(page, live_server, cast):
    from socdesk.accounts.choices import Perm
    from socdesk.accounts.services import access_grant, agent_create, role_create
    from socdesk.core.actor import Actor

    setup = Actor.system("test-setup")
    role = role_create(actor=setup, name="Responder", permissions=[Perm.VIEW, Perm.REPLY])
    erin = agent_create(actor=setup, username="erin", email="", password=PERSONA_PASSWORD)
    access_grant(actor=setup, agent=erin, department=cast.soc, role=role)
    sign_in(page, live_server.url, "erin", PERSONA_PASSWORD)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")).to_have_count(0)
    response = page.goto(f"{live_server.url}/admin-area/agents")
    assert response is not None and response.status == 404


def test_a_lead_changes_a_colleagues_role_from_the_admin_area(page, live_server, cast, screenshots):
    """alice leads SOC (her role has `manage`): she sees SOC's agents and changes bob's SOC role only."""
    from socdesk.accounts.choices import Perm
    from socdesk.accounts.services import role_create
    from socdesk.core.actor import Actor

    role_create(actor=Actor.system("test-setup"), name="Responder", permissions=[Perm.VIEW, Perm.REPLY])
    watch = PolicyWatch(page)
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "alice", PERSONA_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    admin_nav = page.get_by_role("navigation", name="Admin area")
    expect(admin_nav.get_by_role("link", name="API keys")).to_have_count(0)
    admin_nav.get_by_role("link", name="Agents").click()
    expect(page.locator("table.admin-list")).not_to_contain_text("carol")
    page.get_by_role("link", name="bob", exact=True).click()
    expect(page.get_by_label("Username")).to_have_count(0)
    page.get_by_label("SOC", exact=True).select_option(label="Responder")
    watch.check(screenshots / "admin-area-lead-agent-form.png")
    page.get_by_role("button", name="Save agent").click()
    expect(page.get_by_role("status")).to_contain_text("Agent bob saved.")
    expect(page.locator("table.admin-list")).to_contain_text("SOC: Responder")
    watch.check(screenshots / "admin-area-lead-agents.png")
