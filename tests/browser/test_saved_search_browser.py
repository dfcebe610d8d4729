"""In a real Chromium: an agent filters a queue, saves it, finds it as a tab and as a card on the landing
page with its count, and opens it from there; at desktop and phone widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.tickets.models import SavedSearch
from socdesk.tickets.services import ticket_create
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_save_a_search_then_open_it_from_the_tab_and_the_home_card(
    page, live_server, cast, screenshots, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    setup = Actor.for_agent(cast.admin)
    for subject, severity in (
        ("Ransomware note on FS-01", "critical"),
        ("Domain admin added outside change window", "critical"),
        ("Printer out of toner", "low"),
    ):
        ticket_create(actor=setup, subject=subject, department=cast.soc, severity=severity)
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)

    page.goto(f"{base}/tickets/?queue=open&severity=critical")
    page.get_by_text("Save this search").click()
    page.get_by_label("Name").fill("Critical open")
    expect(page.get_by_label("Who sees it")).to_have_value("")  # an analyst may only keep it for herself
    suffix = "desktop" if width > 1000 else "phone"
    page.screenshot(path=screenshots / f"saved-search-save-form-{suffix}.png", full_page=True)
    page.get_by_role("button", name="Save as a queue").click()

    saved = SavedSearch.objects.get()
    page.wait_for_url(f"**/tickets/saved/{saved.pk}/")
    tab = page.locator(f"[data-saved-tab='{saved.pk}']")
    expect(tab).to_have_text("Critical open")
    expect(tab).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Ransomware note on FS-01")).to_be_visible()
    expect(page.get_by_text("Printer out of toner")).to_have_count(0)
    page.screenshot(path=screenshots / f"saved-search-queue-{suffix}.png", full_page=True)
    # The tabs wrap rather than push the page sideways, however many searches are saved.
    assert page.evaluate("(t => t.scrollWidth <= t.clientWidth)(document.querySelector('nav.tabs'))")

    page.goto(f"{base}/")
    card = page.locator(f"[data-saved-count='{saved.pk}']")
    expect(card).to_have_text("2")
    page.screenshot(path=screenshots / f"saved-search-home-{suffix}.png", full_page=True)
    page.get_by_role("link", name="2 Critical open").click()
    page.wait_for_url(f"**/tickets/saved/{saved.pk}/")
    expect(page.get_by_role("heading", name="Critical open")).to_be_visible()

    page.get_by_text("Rename, share, move or delete").click()
    expect(page.get_by_role("button", name="Delete this saved search")).to_be_visible()
    page.screenshot(path=screenshots / f"saved-search-edit-{suffix}.png", full_page=True)
