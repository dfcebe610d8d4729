"""In a real Chromium: alice replies and the console says it was e-mailed (to a real SMTP server on
loopback); with the mail server down the reply shows why its e-mail was not sent, and Retry sends it."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.tickets import services
from tests.browser.conftest import sign_in
from tests.core.processes import free_port

pytestmark = pytest.mark.browser


def test_reply_is_emailed_and_a_failed_one_is_retried(
    page, live_server, cast, smtp, settings, huey_immediate, screenshots
):
    page.set_viewport_size({"width": 1400, "height": 900})
    ticket = services.ticket_create(
        actor=Actor.for_agent(cast.alice),
        subject="Phishing mail with macro attachment",
        department=cast.soc,
        body="Caller forwarded a mail with a macro-enabled invoice.",
        requester_email="dana@example.test",
        requester_name="Dana Reyes",
    )
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")

    page.get_by_label("Message").fill("Thanks Dana, please do not open the attachment.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").first).to_have_text("Reply e-mailed to dana@example.test.")
    first = page.locator(".entry.reply").first
    expect(first.locator(".entry-email")).to_contain_text("E-mailed to dana@example.test")
    page.screenshot(path=screenshots / "outbound-reply-emailed.png", full_page=True)

    good_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()  # the mail server is down
    page.get_by_label("Message").fill("We blocked the sender; you can delete the mail.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Reply saved, but the e-mail to dana@example.test could not be sent yet"
    )
    second = page.locator(".entry.reply").nth(1)
    expect(second.locator(".entry-email")).to_contain_text(
        f"E-mail to dana@example.test not sent: the mail server at 127.0.0.1:{settings.EMAIL_PORT} "
        "refused the connection."
    )
    page.screenshot(path=screenshots / "outbound-reply-failed.png", full_page=True)

    settings.EMAIL_PORT = good_port  # back up
    second.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status").first).to_have_text("E-mail sent to dana@example.test.")
    second = page.locator(".entry.reply").nth(1)
    expect(second.locator(".entry-email")).to_contain_text("E-mailed to dana@example.test")
    expect(second.get_by_role("button", name="Retry")).to_have_count(0)
    page.screenshot(path=screenshots / "outbound-reply-retried.png", full_page=True)

    received = [message_from_bytes(raw, policy=policy.default) for _, raw in smtp.messages]
    assert len(received) == 3  # the new ticket's auto-response, then the two replies
    assert received[0]["Auto-Submitted"] == "auto-replied"
    assert received[2]["In-Reply-To"] == received[1]["Message-ID"]
    assert received[2]["Subject"] == f"Re: Phishing mail with macro attachment [#{ticket.number}]"
