"""The console fits the screen: no sideways scrolling at a phone's 390 px nor at a desktop's 1440 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.tickets.services import ticket_assign, ticket_create, ticket_reply
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
        _assert_fits(page, name)
        page.screenshot(path=screenshots / f"layout-{size}-{name}.png", full_page=True)

    # The favicon the pages link to is served.
    icon = page.evaluate("fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)")
    assert icon == 200

    # The long address wraps inside the ticket's facts instead of widening the page.
    page.goto(f"{base}/tickets/{ticket.number}/")
    facts = page.locator(".facts")
    expect(facts).to_contain_text(LONG_EMAIL)
    box = facts.bounding_box()
    assert box is not None and box["x"] + box["width"] <= SIZES[size]["width"]


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
