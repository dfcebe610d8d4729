"""In a real Chromium: transfer with a reason, resolving New alerts as false positives (one ticket and a
bulk pass), and the audit page's Change column in words."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.tickets import services
from socdesk.tickets.models import Ticket
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _alert(cast, subject: str) -> Ticket:
    return services.ticket_create(
        actor=Actor.system("ingest"), subject=subject, department=cast.soc, source="alert"
    )


def test_transfer_asks_why_and_says_what_it_did(page, live_server, cast, screenshots):
    ticket = _alert(cast, "Lost laptop reported by finance")
    services.ticket_assign(actor=Actor.for_agent(cast.alice), ticket=ticket, agent=cast.bob, team=cast.tier1)
    base = live_server.url
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    page.locator("details.panel summary", has_text="Transfer").click()
    transfer = page.locator("form[data-action=transfer]")
    transfer.get_by_label("Department").select_option(label="IT Help Desk")
    transfer.get_by_role("button", name="Transfer").click()
    # The browser itself asks for the reason before anything is sent (the field is required).
    assert Ticket.objects.get(pk=ticket.pk).department == cast.soc
    transfer.get_by_label("Reason").fill("Hardware loss is handled by IT")
    page.screenshot(path=screenshots / "transfer-with-reason.png", full_page=True)
    transfer.get_by_role("button", name="Transfer").click()
    # Alice holds no role in IT: the ticket left her sight, so she is back in her queue with the message.
    page.wait_for_url(f"{base}/tickets/")
    status = page.get_by_role("status").first
    expect(status).to_contain_text("Ticket transferred from SOC to IT Help Desk.")
    expect(status).to_contain_text("Bob was unassigned: they hold no role in IT Help Desk.")
    page.screenshot(path=screenshots / "transfer-done.png", full_page=True)
    # Carol, in IT, reads why it came to her department.
    page.context.clear_cookies()
    sign_in(page, base, "carol", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    expect(page.locator(".entry").last).to_contain_text("Reason: Hardware loss is handled by IT")
    page.screenshot(path=screenshots / "transfer-reason-in-thread.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshots / "transfer-reason-in-thread-phone.png", full_page=True)


def test_new_alerts_resolved_as_false_positives_one_and_in_bulk(page, live_server, cast, screenshots):
    single = _alert(cast, "Impossible travel for j.doe")
    batch = [_alert(cast, f"Port scan from 198.51.100.{n}") for n in (1, 2, 3)]
    base = live_server.url
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, "alice", PERSONA_PASSWORD)

    page.goto(f"{base}/tickets/{single.number}/")
    status_form = page.locator("form[data-action=status]")
    status_form.get_by_label("Status").select_option(label="Resolved")
    status_form.get_by_label("Resolution").select_option(label="False positive")
    page.screenshot(path=screenshots / "resolve-from-new.png", full_page=True)
    status_form.get_by_role("button", name="Set status").click()
    expect(page.get_by_role("status").first).to_contain_text("Status set to resolved.")
    assert Ticket.objects.get(pk=single.pk).resolution == "false_positive"

    page.goto(f"{base}/tickets/?queue=open")
    for ticket in batch:
        page.get_by_role("row").filter(has_text=ticket.number).get_by_role("checkbox").check()
    page.get_by_label("Bulk action").select_option(label="Set status")
    page.get_by_label("Bulk status").select_option(label="Resolved")
    page.get_by_label("Bulk resolution").select_option(label="False positive")
    page.screenshot(path=screenshots / "bulk-resolve-from-new.png", full_page=True)
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("Changed 3 ticket(s)")).to_be_visible()
    fresh = Ticket.objects.filter(pk__in=[t.pk for t in batch])
    assert {(t.status, t.resolution) for t in fresh} == {("resolved", "false_positive")}
    page.screenshot(path=screenshots / "bulk-resolve-done.png", full_page=True)


def test_audit_page_shows_names_and_keeps_the_raw_json(page, live_server, cast, screenshots):
    ticket = _alert(cast, "Beacon to 203.0.113.7")
    alice = Actor.for_agent(cast.alice)
    services.ticket_assign(actor=alice, ticket=ticket, agent=cast.bob, team=cast.tier1)
    services.ticket_update(actor=alice, ticket=ticket, changes={"status": "in_progress"})
    services.ticket_update(actor=alice, ticket=ticket, changes={"department": cast.it, "reason": "IT's"})
    base = live_server.url
    page.set_viewport_size(DESKTOP)
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/audit/?action=ticket.")
    assigned = page.get_by_role("row").filter(has_text="ticket.assigned")
    expect(assigned).to_contain_text("assignee: — → Bob")
    expect(assigned).to_contain_text("team: — → Tier 1")
    transferred = page.get_by_role("row").filter(has_text="ticket.transferred")
    expect(transferred).to_contain_text("department: SOC → IT Help Desk")
    raw = assigned.locator("details.raw")
    expect(raw.locator("code").first).not_to_be_visible()
    raw.locator("summary").click()
    expect(raw).to_contain_text(f'"assignee": {cast.bob.pk}')
    page.screenshot(path=screenshots / "audit-change-names.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshots / "audit-change-names-phone.png", full_page=True)
