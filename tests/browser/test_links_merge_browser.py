"""In a real Chromium, on the ticket page (htmx): link a ticket by number, merge a duplicate after seeing
what moves, then undo the merge from the survivor's thread line."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.tickets import services
from socdesk.tickets.models import Ticket, TicketLink
from tests.browser.conftest import htmx_settled, sign_in

pytestmark = pytest.mark.browser


def test_link_merge_and_undo(page, live_server, cast, screenshots):
    alice = cast.actor(cast.alice)
    survivor = services.ticket_create(
        actor=alice,
        subject="Phishing: invoice from billing@evil.example",
        department=cast.soc,
        body="Finance received an invoice with a link to hxxp://evil[.]example/pay.",
        requester_email="dana@example.test",
        requester_name="Dana Reyes",
        tags=["phishing"],
    )
    reset = services.ticket_create(
        actor=alice,
        subject="Credential reset for Dana",
        department=cast.soc,
        body="Reset after the phishing.",
    )
    duplicate = services.ticket_create(
        actor=alice,
        subject="Strange invoice e-mail",
        department=cast.soc,
        body="I got an odd invoice, is it real?",
        requester_email="erin@example.test",
        requester_name="Erin Lopez",
        tags=["finance"],
    )
    services.ticket_note(
        actor=cast.actor(cast.bob), ticket=duplicate, body="Same sender as the invoice phishing."
    )
    # The duplicate is linked to a third ticket: the merge moves that link to the survivor.
    proxy = services.ticket_create(
        actor=alice, subject="Proxy: evil.example contacted", department=cast.soc, body="Seen in proxy logs."
    )
    services.ticket_link(actor=alice, ticket=duplicate, other=proxy, kind="related")
    page.set_viewport_size({"width": 1440, "height": 1000})
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)

    # Link: the survivor is the parent incident of the password reset.
    page.goto(f"{base}/tickets/{survivor.number}/")
    panel = page.locator("details.links")
    panel.get_by_label("This ticket is").select_option("parent_of")
    panel.get_by_label("Ticket number").fill(reset.number.lower())
    panel.get_by_role("button", name="Link ticket").click()
    htmx_settled(page)
    expect(page.get_by_role("status").first).to_contain_text(
        f"Linked: this ticket is parent of {reset.number}."
    )
    expect(page.locator(f'details.links [data-link="{reset.number}"]')).to_contain_text("Parent of")
    # A number that is not a ticket: the sentence, nothing linked.
    page.locator("details.links").get_by_label("Ticket number").fill("SOC-999999")
    page.locator("details.links").get_by_role("button", name="Link ticket").click()
    htmx_settled(page)
    expect(page.get_by_role("alert")).to_contain_text("Ticket SOC-999999 was not found.")
    page.locator("details.links").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "links-panel.png", full_page=True)
    page.goto(f"{base}/tickets/{reset.number}/")
    expect(page.locator(f'details.links [data-link="{survivor.number}"]')).to_contain_text("Child of")

    # Merge the duplicate into the survivor: the confirm step says what moves.
    page.goto(f"{base}/tickets/{duplicate.number}/")
    merge = page.locator("details.merge")
    merge.locator("summary").click()
    merge.get_by_label("Ticket number").fill(survivor.number)
    merge.get_by_role("button", name="Review merge").click()
    htmx_settled(page)
    review = page.locator(".merge-review")
    expect(review).to_contain_text("2 thread entries")
    expect(review).to_contain_text("1 collaborator")
    expect(review).to_contain_text("1 tag")
    expect(review).to_contain_text("1 link")
    expect(review).to_contain_text(f"is then closed as a duplicate of {survivor.number}")
    review.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "merge-confirm.png", full_page=True)
    assert Ticket.objects.get(pk=duplicate.pk).resolution == ""  # nothing merged yet
    review.get_by_role("button", name=f"Merge into {survivor.number}").click()
    page.wait_for_url(f"{base}/tickets/{survivor.number}/")
    expect(page.get_by_role("status").first).to_contain_text(
        f"{duplicate.number} was merged into {survivor.number}."
    )
    thread = page.get_by_role("list", name="Thread")
    expect(thread).to_contain_text("Same sender as the invoice phishing.")
    expect(thread).to_contain_text(
        f"alice merged {duplicate.number} (Strange invoice e-mail) into this ticket"
    )
    expect(page.locator(f'details.links [data-link="{duplicate.number}"]')).to_contain_text("Has duplicate")
    expect(page.locator(f'details.links [data-link="{proxy.number}"]')).to_contain_text("Related to")
    page.screenshot(path=screenshots / "merge-survivor.png", full_page=True)
    page.goto(f"{base}/tickets/{duplicate.number}/")
    expect(page.locator(".merged-into")).to_contain_text(f"Merged into {survivor.number} by alice")
    expect(page.locator(".ticket-head")).to_contain_text("Duplicate")
    page.screenshot(path=screenshots / "merge-source.png", full_page=True)

    # Undo from the survivor's merge line: everything goes back.
    page.goto(f"{base}/tickets/{survivor.number}/")
    page.locator(f'[data-undo-merge="{duplicate.number}"]').click()
    htmx_settled(page)
    expect(page.get_by_role("status").first).to_contain_text(f"The merge of {duplicate.number} was undone")
    expect(page.get_by_role("list", name="Thread")).not_to_contain_text(
        "Same sender as the invoice phishing."
    )
    expect(page.locator("[data-undo-merge]")).to_have_count(0)
    page.screenshot(path=screenshots / "merge-undone.png", full_page=True)
    # On a phone the panels stack under the thread.
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("details.links").scroll_into_view_if_needed()
    expect(page.locator(f'details.links [data-link="{reset.number}"]')).to_be_visible()
    page.screenshot(path=screenshots / "links-phone.png")
    back = Ticket.objects.get(pk=duplicate.pk)
    assert (back.status, back.resolution) == ("in_progress", "")  # as bob's note left it
    # The link to the third ticket is the duplicate's again.
    assert sorted(TicketLink.objects.values_list("kind", flat=True)) == ["parent", "related"]
    assert TicketLink.objects.filter(from_ticket=duplicate, to_ticket=proxy).exists()
