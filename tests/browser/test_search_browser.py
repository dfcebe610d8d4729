"""In a real Chromium: the search box finds a ticket by an observable value (not in its subject), shows
the highlighted snippet, and its help popover lists the syntax; at desktop and phone widths."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Integration
from socdesk.core.actor import Actor
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_search_by_observable_with_snippet_and_help(page, live_server, cast, screenshots, width, height):
    integration = Integration.objects.create(adapter="generic", name="edr", department=cast.soc)
    alerts = [
        {"title": f"Outbound beacon {n}", "fingerprint": f"b{n}", "observables": [["ip", "203.0.113.7"]]}
        for n in range(3)
    ]
    delivery_process(
        delivery_id=delivery_receive(
            adapter="generic", body=json.dumps(alerts).encode(), integration=integration
        ).pk
    )
    ticket_create(
        actor=Actor.for_agent(cast.alice), subject="Printer jam", department=cast.soc, body="Tray 2"
    )
    carrying = sorted(Ticket.objects.filter(alerts__isnull=False).values_list("number", flat=True))
    page.set_viewport_size({"width": width, "height": height})
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)

    page.locator("[data-search-help] summary").click()
    help_panel = page.locator(".search-help-panel")
    expect(help_panel).to_be_visible()
    for syntax in (
        "ip:",
        "hash:",
        "domain:",
        "user:",
        "host:",
        "status:",
        "severity:",
        "assignee:",
        "tag:",
        "source:",
        '"lateral movement"',
        "-noise",
    ):
        expect(help_panel).to_contain_text(syntax)
    box = help_panel.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width  # on screen, whole
    page.screenshot(path=screenshots / f"search-help-{width}.png")
    page.locator("[data-search-help] summary").click()

    search = page.get_by_role("searchbox", name="Search tickets")
    search.fill("203.0.113[.]7")  # defanged, as an analyst pastes it from a report
    search.press("Enter")
    page.wait_for_url("**/tickets/?queue=all&q=*")
    for number in carrying:
        expect(page.get_by_role("link", name=number, exact=True)).to_be_visible()
    expect(page.get_by_text("Printer jam")).to_have_count(0)
    expect(page.locator("[data-snippet] mark").first).to_have_text("203.0.113.7")
    page.screenshot(path=screenshots / f"search-results-{width}.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert width < 1000 or overflow <= 0
