"""In a real Chromium: the new-ticket form's help topic brings its custom fields (htmx, under the CSP),
a refused value comes back with what was typed, and the ticket page's panel shows and edits the values."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.tickets.models import Ticket
from tests.browser.conftest import htmx_settled, sign_in
from tests.routing.fixtures_forms import incident_topic

pytestmark = pytest.mark.browser


def test_new_ticket_with_a_topic_and_its_fields_then_the_ticket_panel(page, live_server, cast, screenshots):
    incident_topic(cast)
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.set_viewport_size({"width": 1440, "height": 1000})
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/new")
    page.get_by_label("Subject").fill("Credential phishing reported by finance")
    page.get_by_label("Department").select_option(label="SOC")
    topic_select = page.get_by_label("Help topic")
    expect(topic_select).to_be_visible()
    expect(page.locator('[name="custom.host_ip"]')).to_have_count(0)
    htmx_settled(page)  # the help-topic select was just swapped in
    topic_select.select_option(label="Phishing")
    # The topic's form arrives by htmx.
    expect(page.get_by_label("Host IP *")).to_be_visible()
    page.get_by_label("Host IP *").fill("10.20.0.300")
    page.get_by_label("Business impact").select_option("High")
    page.get_by_role("checkbox", name="vpn", exact=True).check()
    page.get_by_role("checkbox", name="mail", exact=True).check()
    page.get_by_label("Analyst notes").fill("User clicked, no credentials typed.")
    page.screenshot(path=screenshots / "custom-fields-new-ticket.png", full_page=True)
    page.get_by_role("button", name="Open ticket").click()

    # Refused: the sentence names the field, and the section comes back with what was typed.
    expect(page.get_by_role("alert").first).to_contain_text("Custom field 'Host IP' (host_ip): '10.20.0.300'")
    expect(page.get_by_label("Host IP *")).to_have_value("10.20.0.300")
    expect(page.locator('[data-custom-field="host_ip"]')).to_have_class(re.compile("invalid"))
    expect(page.get_by_label("Analyst notes")).to_have_value("User clicked, no credentials typed.")
    expect(page.get_by_role("checkbox", name="vpn", exact=True)).to_be_checked()
    page.screenshot(path=screenshots / "custom-fields-new-ticket-refused.png", full_page=True)
    assert Ticket.objects.count() == 0
    page.get_by_label("Host IP *").fill("10.20.0.30")
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url(f"{base}/tickets/*/")
    ticket = Ticket.objects.get()
    assert ticket.custom_fields["host_ip"] == "10.20.0.30" and ticket.custom_fields["systems"] == [
        "mail",
        "vpn",
    ]

    panel = page.locator("#custom-fields-panel")
    expect(panel).to_contain_text("Phishing")
    expect(panel).to_contain_text("10.20.0.30")
    expect(panel).to_contain_text("mail, vpn")
    page.screenshot(path=screenshots / "custom-fields-ticket-panel.png", full_page=True)
    panel.get_by_role("link", name="Edit fields").click()
    panel = page.locator("#custom-fields-panel")
    panel.get_by_label("Business impact").select_option("Low")
    panel.get_by_label("Confirmed").check()
    panel.get_by_role("button", name="Save fields").click()
    expect(page.locator("#custom-fields-panel").get_by_role("status")).to_have_text("Custom fields saved.")
    expect(page.locator("#custom-fields-panel")).to_contain_text("Low")
    # A refused edit is shown in the panel (a 400 that htmx swaps), and nothing changes.
    page.locator("#custom-fields-panel").get_by_role("link", name="Edit fields").click()
    page.locator("#custom-fields-panel").get_by_label("Host IP *").fill("gateway")
    page.locator("#custom-fields-panel").get_by_role("button", name="Save fields").click()
    expect(page.locator("#custom-fields-panel").get_by_role("alert")).to_contain_text(
        "'gateway' is not an IP address"
    )
    page.screenshot(path=screenshots / "custom-fields-ticket-panel-refused.png", full_page=True)
    ticket.refresh_from_db()
    assert ticket.custom_fields["impact"] == "Low" and ticket.custom_fields["confirmed"] is True
    assert ticket.custom_fields["host_ip"] == "10.20.0.30"
    assert not [p for p in problems if "Content Security Policy" in p], problems
