"""The console fits the screen: no sideways scrolling at a phone's 390 px nor at a desktop's 1440 px."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Integration
from socdesk.core.actor import Actor
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import (
    saved_search_create,
    ticket_assign,
    ticket_change_status,
    ticket_create,
    ticket_reply,
)
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}
# A real requester address of the kind that pushed the ticket page sideways.
LONG_EMAIL = "security-operations-escalations.after-hours-rotation@subsidiary-holdings.northwind-example.test"

OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def _assert_fits(page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate(OVERFLOW)
    assert overflow <= 0, f"{name} at {page.viewport_size}: {overflow} px wider than the window"


@pytest.mark.parametrize("size", SIZES)
def test_console_pages_fit_the_window(page, live_server, cast, screenshots, size):
    base = live_server.url
    actor = Actor.for_agent(cast.admin)
    ticket = ticket_create(
        actor=actor,
        subject="Impossible travel: o.haddad signed in from Vietnam and Canada within 12 minutes "
        "(second sign-in from 193.42.33.14, legacy protocol, no MFA prompt)",
        department=cast.soc,
        body="Sentinel: successful sign-ins for " + LONG_EMAIL + " from two countries.\n" + "x" * 180,
        requester_email=LONG_EMAIL,
        requester_name="Operations escalations (after hours)",
        severity="high",
        tags=["identity", "impossible-travel", "entra-id"],
    )
    ticket = ticket_assign(actor=actor, ticket=ticket, agent=cast.alice)
    ticket_reply(actor=actor, ticket=ticket, body="Did you sign in from Canada today? " + "y" * 120)
    page.set_viewport_size(SIZES[size])

    page.goto(f"{base}/login")
    _assert_fits(page, "login")
    page.screenshot(path=screenshots / f"layout-{size}-login.png", full_page=True)

    sign_in(page, base, "admin", PERSONA_PASSWORD)
    pages = {
        "home": "/",
        "queue": "/tickets/?queue=all",
        "ticket": f"/tickets/{ticket.number}/",
        "audit": "/audit/",
        "new": "/tickets/new",
        "not-found": "/tickets/NOPE-1/",
        "action-405": f"/tickets/{ticket.number}/severity",
    }
    for name, path in pages.items():
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=screenshots / f"layout-{size}-{name}.png", full_page=True)
        _assert_fits(page, name)

    # The favicon the pages link to is served.
    icon = page.evaluate("fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)")
    assert icon == 200

    # The long address wraps inside the ticket's facts instead of widening the page.
    page.goto(f"{base}/tickets/{ticket.number}/")
    facts = page.locator(".facts")
    expect(facts).to_contain_text(LONG_EMAIL)
    box = facts.bounding_box()
    assert box is not None and box["x"] + box["width"] <= SIZES[size]["width"]


def _alert_tickets(cast) -> list[Ticket]:
    """Alert tickets through the real ingest, with long observables and one alert repeated (the Alerts
    column counts it), one of them resolved (TTA and TTR filled in)."""
    integration = Integration.objects.create(adapter="generic", name="edr", department=cast.soc)
    long_host = "build-agent-0042.continuous-integration.eu-west-3.internal.northwind-example.test"
    alerts = [
        {
            "title": f"Outbound beacon from {host} to 203.0.113.7 over HTTPS every 60 seconds",
            "severity": "high",
            "fingerprint": f"beacon-{host}",
            "description": "Periodic HTTPS to a newly registered domain. " + "z" * 160,
            "observables": [
                ["ip", "203.0.113.7"],
                ["hostname", host],
                ["url", f"https://{host}/" + "a" * 150],
                ["sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
            ],
        }
        for host in (long_host, "ws-0142.corp.example.test")
    ]
    for _ in range(2):  # the same alerts twice: a repeat on each ticket
        delivery_process(
            delivery_id=delivery_receive(
                adapter="generic", body=json.dumps(alerts).encode(), integration=integration
            ).pk
        )
    tickets = list(Ticket.objects.filter(source="alert").order_by("pk"))
    ticket_change_status(
        actor=Actor.for_agent(cast.alice), ticket=tickets[0], status="resolved", resolution="false_positive"
    )
    return tickets


@pytest.mark.parametrize("size", SIZES)
def test_alert_queue_saved_searches_admin_agents_and_alerts_panel_fit_the_window(
    page, live_server, cast, screenshots, size
):
    """The pages the search, saved-search, alert and admin-area work widened: the queue with its Alerts,
    TTA and TTR columns, saved-search tabs and search snippets; a saved search; the agent list; a ticket
    with its alerts panel and observables."""
    tickets = _alert_tickets(cast)
    admin = Actor.for_agent(cast.admin)
    saved = [
        saved_search_create(actor=admin, name=name, query=query)
        for name, query in (
            ("High-severity alerts waiting for triage in the SOC", "queue=open&severity=high&source=alert"),
            ("Beacons to 203.0.113.7", "queue=all&q=203.0.113.7"),
            ("Resolved as false positive this week", "queue=resolved"),
            ("Unassigned criticals", "queue=unassigned&severity=critical"),
        )
    ]
    page.set_viewport_size(SIZES[size])
    base = live_server.url
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    pages = {
        "queue-alerts": "/tickets/?queue=all",
        "queue-search": "/tickets/?queue=all&q=203.0.113%5B.%5D7",
        "saved-search": f"/tickets/saved/{saved[1].pk}/",
        "admin-agents": "/admin-area/agents",
        "ticket-alerts": f"/tickets/{tickets[0].number}/",
    }
    for name, path in pages.items():
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=screenshots / f"layout-{size}-{name}.png", full_page=True)
        _assert_fits(page, name)
    # What each page is there to show is on it (a blank page would fit too).
    page.goto(base + pages["queue-search"])
    expect(page.locator("[data-snippet] mark").first).to_have_text("203.0.113.7")
    expect(page.locator(f"[data-saved-tab='{saved[0].pk}']")).to_be_visible()
    page.goto(base + pages["ticket-alerts"])
    expect(page.get_by_role("heading", name="Alerts (1)")).to_be_visible()


@pytest.mark.urls("tests.core.error_urls")
@pytest.mark.parametrize("size", SIZES)
def test_server_error_page_in_the_browser(page, live_server, cast, screenshots, size):
    page.set_viewport_size(SIZES[size])
    sign_in(page, live_server.url, "alice", PERSONA_PASSWORD)
    response = page.goto(f"{live_server.url}/test-boom")
    assert response is not None and response.status == 500
    expect(page.get_by_role("heading", name="Something went wrong on the server")).to_be_visible()
    assert "hunter2" not in page.content()
    _assert_fits(page, "500")
    page.screenshot(path=screenshots / f"layout-{size}-500.png", full_page=True)
