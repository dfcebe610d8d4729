"""In a real Chromium, under the Content-Security-Policy: bob sees the bell's count after alice assigns
him a ticket and mentions him, opens the list (htmx), opens a notification (it goes to the ticket and
is read), marks the rest read on the full page and saves his preferences; at desktop and phone widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.notifications.choices import Kind
from socdesk.notifications.selectors import preferences_for
from socdesk.tickets import services
from tests.browser.conftest import sign_in
from tests.browser.test_csp_browser import PolicyWatch

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_the_bell_the_list_and_the_preferences(page, live_server, cast, screenshots, width, height):
    page.set_viewport_size({"width": width, "height": height})
    suffix = "desktop" if width > 1000 else "phone"
    alice = Actor.for_agent(cast.alice)
    first = services.ticket_create(
        actor=alice, subject="Impossible travel for j.doe", department=cast.soc, severity="high"
    )
    second = services.ticket_create(
        actor=alice, subject="Ransomware note on FS-01", department=cast.soc, severity="critical"
    )
    services.ticket_assign(actor=alice, ticket=first, agent=cast.bob)
    services.ticket_note(actor=alice, ticket=second, body="@bob can you take the file server side?")
    watch = PolicyWatch(page)
    base = live_server.url
    sign_in(page, base, "bob", PERSONA_PASSWORD)

    bell = page.locator("details.bell")
    expect(bell.locator("[data-unread-count]")).to_have_text("2")
    bell.locator("summary").click()
    items = bell.locator(".bell-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("alice mentioned you in a note.")
    expect(items.nth(1)).to_contain_text("alice assigned the ticket to you.")
    watch.check(screenshots / f"notifications-bell-{suffix}.png")

    items.nth(1).click()
    page.wait_for_url(f"**/tickets/{first.number}/")
    expect(page.locator("details.bell [data-unread-count]")).to_have_text("1")

    page.goto(f"{base}/notifications/")
    expect(page.locator("tr.unread")).to_have_count(1)
    watch.check(screenshots / f"notifications-page-{suffix}.png")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_text("Marked 1 notification read.")).to_be_visible()
    expect(page.locator("tr.unread")).to_have_count(0)
    expect(page.locator("details.bell [data-unread-count]")).to_have_count(0)

    page.goto(f"{base}/notifications/preferences")
    page.get_by_label("New ticket in my department in the app").check()
    page.get_by_label("Requester replied by email").uncheck()
    watch.check(screenshots / f"notifications-preferences-{suffix}.png")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Your notification preferences are saved.")).to_be_visible()
    saved = preferences_for(cast.bob)
    assert saved[Kind.NEW_TICKET] == (True, False) and saved[Kind.REQUESTER_REPLIED] == (True, False)
