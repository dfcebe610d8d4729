"""The composer's canned-response picker, driven by the keyboard: `;` opens it, typing filters, Enter
inserts the response rendered for this ticket, Escape closes it; the response's file goes with the reply."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.mail.canned import canned_response_create
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.models import ThreadEntry
from socdesk.tickets.services import ticket_create
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_semicolon_opens_the_picker_typing_filters_enter_inserts_escape_closes(
    page, live_server, cast, screenshots
):
    admin = Actor.for_agent(cast.admin)
    canned_response_create(actor=admin, title="Acknowledge", body="We received {{ ticket.number }}.")
    canned_response_create(
        actor=admin,
        title="Password reset done",
        body="Hello {{ requester.name }}, your password for {{ ticket.number }} was reset.",
        department=cast.soc,
        attachments=[IncomingFile("reset-guide.txt", b"Choose a new password.\n")],
    )
    canned_response_create(actor=admin, title="Laptop ready", body="Ready.", department=cast.it)
    ticket = ticket_create(
        actor=Actor.for_agent(cast.alice),
        subject="Credentials entered on a phishing page",
        department=cast.soc,
        requester_email="dana@example.test",
        requester_name="Dana Reyes",
    )
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    message = page.get_by_label("Message")
    message.click()

    # `;` in the middle of a word is just a character.
    page.keyboard.type("a;")
    expect(page.locator("[data-canned-picker]")).to_be_hidden()
    message.fill("")

    # At the start: the picker opens with the ticket's responses (not IT's), the first one active.
    page.keyboard.press(";")
    search = page.get_by_label("Search canned responses")
    expect(search).to_be_focused()
    options = page.get_by_role("listbox", name="Canned responses").get_by_role("option")
    expect(options).to_have_count(2)
    expect(page.get_by_role("listbox")).not_to_contain_text("Laptop ready")
    page.keyboard.type("passw")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Password reset done")
    page.screenshot(path=screenshots / "canned_picker.png", full_page=False)
    page.keyboard.press("Enter")
    wanted = f"Hello Dana Reyes, your password for {ticket.number} was reset."
    expect(message).to_have_value(wanted)
    expect(page.locator("[data-canned-picker]")).to_be_hidden()
    expect(page.locator("[data-canned-files]")).to_contain_text("reset-guide.txt")

    # After a space it opens again; Escape closes it and leaves the text as it was.
    message.press("End")
    page.keyboard.type(" ")
    page.keyboard.press(";")
    expect(search).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("[data-canned-picker]")).to_be_hidden()
    expect(message).to_be_focused()
    expect(message).to_have_value(wanted + " ")
    page.screenshot(path=screenshots / "canned_inserted.png", full_page=False)

    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".entry.reply")).to_contain_text("your password for")
    reply = ThreadEntry.objects.get(ticket=ticket, kind="reply")
    assert reply.body.strip() == wanted
    assert [a.filename for a in reply.attachments.all()] == ["reset-guide.txt"]


def test_admin_page_previews_a_canned_response(page, live_server, cast, screenshots):
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/admin-area/canned-responses")
    page.get_by_role("link", name="New canned response").click()
    page.get_by_label("Title").fill("Phishing report received")
    page.get_by_label("Department").select_option(label="SOC")
    page.get_by_label("Body").fill(
        "Hello {{ requester.name }},\n\nThanks for reporting it. We opened {{ ticket.number }}."
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-preview-text]")).to_contain_text("Hello Dana Requester,")
    page.screenshot(path=screenshots / "canned_admin_preview.png", full_page=True)
    page.get_by_label("Body").fill("Hello {{ requester.name }},\n{% if ticket.number %}")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-error").first).to_contain_text("line 2")
    page.get_by_label("Body").fill("Thanks for reporting it, {{ requester.name }}.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Canned response “Phishing report received” added.")).to_be_visible()
    page.goto(f"{base}/admin-area/canned-responses")
    expect(page.locator(".admin-list [data-row]")).to_contain_text("Phishing report received")
    page.screenshot(path=screenshots / "canned_admin_list.png", full_page=True)
