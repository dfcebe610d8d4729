"""The queue in a real Chromium: the bulk chooser shows only what the chosen action needs; columns sort."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

BULK_FIELDS = (
    "Bulk assignee",
    "Bulk team",
    "Bulk status",
    "Bulk resolution",
    "Bulk severity",
    "Bulk department",
)


def _visible(page) -> set[str]:
    return {label for label in BULK_FIELDS if page.get_by_label(label, exact=True).is_visible()}


@pytest.mark.parametrize("size", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}])
def test_bulk_chooser_reveals_only_the_needed_field_and_columns_sort(
    page, live_server, cast, screenshots, size
):
    actor = Actor.for_agent(cast.alice)
    made = {
        severity: ticket_create(
            actor=actor, subject=f"{severity} alert", department=cast.soc, severity=severity
        )
        for severity in ("medium", "critical", "low")
    }
    base = live_server.url
    page.set_viewport_size(size)
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/?queue=all")
    assert _visible(page) == set()

    chooser = page.get_by_label("Bulk action")
    chooser.select_option(label="Set severity")
    assert _visible(page) == {"Bulk severity"}
    chooser.select_option(label="Assign to")
    assert _visible(page) == {"Bulk assignee", "Bulk team"}
    chooser.select_option(label="Transfer to")
    assert _visible(page) == {"Bulk department"}
    chooser.select_option(label="Set status")
    assert _visible(page) == {"Bulk status"}
    page.get_by_label("Bulk status").select_option(label="Resolved")
    assert _visible(page) == {"Bulk status", "Bulk resolution"}
    page.screenshot(path=screenshots / f"queue-bulk-{size['width']}.png", full_page=True)

    # The chosen action applies; the fields of the other actions (the status shown a moment ago) are not sent.
    chooser.select_option(label="Set severity")
    page.get_by_label("Bulk severity").select_option(label="High")
    page.get_by_label(f"Select {made['low'].number}").check()
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Changed 1 ticket(s): {made['low'].number}")
    low = Ticket.objects.get(pk=made["low"].pk)
    assert (low.severity, low.status, low.assignee_id) == ("high", "new", None)

    # Severity sorts by rank, most severe first; a second click reverses.
    page.get_by_role("link", name="Severity", exact=True).click()
    expect(page.locator("table[data-rows] tbody tr").first).to_contain_text(made["critical"].number)
    expect(page.locator('th[aria-sort="descending"]')).to_contain_text("Severity")
    page.screenshot(path=screenshots / f"queue-sorted-{size['width']}.png", full_page=True)
    page.get_by_role("link", name="Severity ▾").click()
    expect(page.locator("table[data-rows] tbody tr").first).to_contain_text(made["medium"].number)
    expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("Severity")


def test_the_queue_downloads_its_tickets_as_csv(page, live_server, cast, screenshots):
    actor = Actor.for_agent(cast.alice)
    for severity in ("critical", "low", "critical"):
        ticket_create(actor=actor, subject=f"{severity} beacon", department=cast.soc, severity=severity)
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/?queue=open&severity=critical")
    export = page.locator("[data-export]")
    expect(export).to_contain_text("Export all 2: CSV · JSON")
    page.screenshot(path=screenshots / "queue-export.png", full_page=True)
    with page.expect_download() as download_info:
        export.get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("socdesk-tickets-")
    lines = download.path().read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("number,subject,status") and len(lines) == 3
    assert all(",critical beacon,new,,critical," in line for line in lines[1:])
