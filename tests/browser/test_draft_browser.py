"""The reply composer keeps its text across every action on the ticket page, and lets go once sent."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_change_severity, ticket_create
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

DRAFT = "Checked the proxy logs: no other client reached the domain."


def _ticket(cast):
    return ticket_create(
        actor=Actor.for_agent(cast.alice), subject="Beacon from WS-0142", department=cast.soc
    )


def test_draft_survives_sidebar_actions_a_reload_and_is_dropped_once_sent(
    page, live_server, cast, screenshots
):
    ticket = _ticket(cast)
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    page.get_by_label("Message").fill(DRAFT)

    # A sidebar action re-renders the ticket (htmx): the draft is still in the composer.
    page.locator("summary", has_text="Severity and tags").click()
    page.get_by_label("Severity").select_option(label="Critical")
    page.get_by_role("button", name="Set severity").click()
    expect(page.locator(".ticket-head .sev")).to_have_text("Critical")
    expect(page.get_by_label("Message")).to_have_value(DRAFT)

    # The panel the agent opened stays open across the re-render.
    expect(page.get_by_label("Tags")).to_be_visible()
    page.get_by_label("Tags").fill("c2, beacon")
    page.get_by_role("button", name="Save tags").click()
    expect(page.locator(".ticket-head")).to_contain_text("#beacon")
    expect(page.get_by_label("Message")).to_have_value(DRAFT)

    # A full page load (the agent reloads, or a plain post re-renders the page) brings it back too.
    page.reload()
    expect(page.get_by_label("Message")).to_have_value(DRAFT)
    page.screenshot(path=screenshots / "draft_kept.png", full_page=True)

    # Sent: the composer empties and stays empty on the next load.
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".entry.reply")).to_contain_text("no other client reached")
    expect(page.get_by_label("Message")).to_have_value("")
    page.reload()
    expect(page.get_by_label("Message")).to_have_value("")


def test_draft_survives_a_sidebar_change_refused_for_a_collision(page, live_server, cast, screenshots):
    ticket = _ticket(cast)
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    page.get_by_label("Message").fill(DRAFT)

    # Someone else changes the ticket while alice types: her status change is refused as stale.
    ticket_change_severity(actor=Actor.for_agent(cast.bob), ticket=ticket, severity="high")
    page.get_by_label("Status", exact=True).select_option(label="In progress")
    page.get_by_role("button", name="Set status").click()
    expect(page.get_by_role("alert")).to_contain_text("changed since you loaded it")
    expect(page.get_by_label("Message")).to_have_value(DRAFT)
    page.screenshot(path=screenshots / "draft_after_collision.png", full_page=True)
    assert Ticket.objects.get(pk=ticket.pk).status == "new"

    # The page is now at the current version: the reply goes through with the kept text.
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".entry.reply")).to_contain_text("no other client reached")
    expect(page.get_by_label("Message")).to_have_value("")


def test_drafts_are_kept_per_ticket(page, live_server, cast):
    first, second = _ticket(cast), _ticket(cast)
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{first.number}/")
    page.get_by_label("Message").fill(DRAFT)
    page.goto(f"{base}/tickets/{second.number}/")
    expect(page.get_by_label("Message")).to_have_value("")
    page.goto(f"{base}/tickets/{first.number}/")
    expect(page.get_by_label("Message")).to_have_value(DRAFT)
