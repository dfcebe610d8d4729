"""In a real Chromium, on the ticket page (htmx): a pasted list of observables is added, and what is
refused says why in the panel instead of failing silently (htmx does not swap a 400 by default)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.alerts.models import TicketObservable
from socdesk.core.actor import Actor
from socdesk.tickets.services import ticket_create
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_a_pasted_list_is_added_and_refusals_are_shown(page, live_server, cast, screenshots, width, height):
    ticket = ticket_create(
        actor=Actor.for_agent(cast.alice),
        subject="Phishing wave",
        department=cast.soc,
        body="Reported by three users.",
    )
    page.set_viewport_size({"width": width, "height": height})
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}")
    panel = page.locator("#observables-panel")
    expect(panel.get_by_text("No observables on this ticket yet.")).to_be_visible()

    # A comma, space and new-line separated list, partly defanged, with one entry that is not valid.
    panel.locator('textarea[name="value"]').fill("203.0.113.7, evil[.]example\nhxxps://bad[.]example/x nope!")
    panel.get_by_role("button", name="Add").click()
    expect(panel.locator('tr[data-observable="domain:evil.example"]')).to_be_visible()
    expect(panel.locator('tr[data-observable="ip:203.0.113.7"]')).to_be_visible()
    expect(panel.locator('tr[data-observable="url:https://bad.example/x"]')).to_be_visible()
    expect(panel.get_by_role("status")).to_contain_text("'nope!' is not a valid observable")
    assert TicketObservable.objects.filter(ticket=ticket).count() == 3
    page.screenshot(path=screenshots / f"observables-list-added-{width}.png", full_page=True)

    # Nothing valid: the server answers 400, and the sentence still appears in the panel.
    panel = page.locator("#observables-panel")
    panel.locator('textarea[name="value"]').fill("nope! never!")
    panel.get_by_role("button", name="Add").click()
    expect(page.locator("#observables-panel").get_by_role("alert")).to_contain_text(
        "These are not valid: 'nope!', 'never!'"
    )
    expect(page.locator("#observables-panel tbody tr")).to_have_count(3)
    page.screenshot(path=screenshots / f"observables-list-refused-{width}.png", full_page=True)


def test_a_note_with_extract_ticked_adds_its_observables(page, live_server, cast, screenshots):
    ticket = ticket_create(
        actor=Actor.for_agent(cast.alice), subject="Odd logins", department=cast.soc, body="From abroad."
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}")
    checkbox = page.get_by_label("Extract observables from this text")
    expect(checkbox).not_to_be_checked()
    page.get_by_label("Message").fill("Logins came from 198.51.100.23 via vpn[.]evil-example[.]com, blocked.")
    checkbox.check()
    page.screenshot(path=screenshots / "composer-extract-observables.png", full_page=True)
    page.get_by_role("button", name="Add internal note").click()
    panel = page.locator("#observables-panel")
    expect(panel.locator('tr[data-observable="ip:198.51.100.23"]')).to_be_visible()
    expect(panel.locator('tr[data-observable="domain:vpn.evil-example.com"]')).to_be_visible()
    page.screenshot(path=screenshots / "composer-extract-observables-after.png", full_page=True)
