"""In a real Chromium, on the ticket page (htmx): the Collaborators block lists who a mail copied, adds
and removes collaborators, says why an address is refused; the attachment's name is a File name
observable."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.mail.inbound import mail_receive
from socdesk.tickets.selectors import collaborator_addresses
from tests.browser.conftest import htmx_settled, sign_in
from tests.mail import corpus

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_collaborators_block(page, live_server, cast, tmp_path, width, height):
    raw = corpus.rfc2231_attachment().replace(
        b"To: SOC Desk <Help@SOC.example.com>, second@soc.example.com",
        b"To: SOC <soc@example.test>\nCc: Mia Moss <mia@example.com>",
    )
    ticket = mail_receive(raw, actor=Actor.system("mail:pipe"), channel="pipe").ticket
    assert collaborator_addresses(ticket) == ["mia@example.com"]
    page.set_viewport_size({"width": width, "height": height})
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    block = page.locator("details.collaborators")
    expect(block.locator('[data-collaborator="mia@example.com"]')).to_contain_text("copied on an e-mail")

    # An address that is not one: the sentence, the typed text kept, nothing added.
    block.get_by_label("E-mail address").fill("eve at example")
    block.get_by_role("button", name="Add collaborator").click()
    htmx_settled(page)
    expect(page.get_by_role("alert")).to_contain_text(
        "'eve at example' is not an e-mail address; write it as name@example.com."
    )
    block = page.locator("details.collaborators")
    expect(block.get_by_label("E-mail address")).to_have_value("eve at example")
    page.screenshot(path=tmp_path / f"collaborators-refused-{width}.png", full_page=True)

    block.get_by_label("E-mail address").fill("Eve.Manager@Example.com")
    block.get_by_role("button", name="Add collaborator").click()
    htmx_settled(page)
    block = page.locator("details.collaborators")
    expect(block.locator('[data-collaborator="eve.manager@example.com"]')).to_contain_text("added by alice")
    expect(page.get_by_role("status").first).to_contain_text(
        f"eve.manager@example.com is now a collaborator on {ticket.number}."
    )
    history = page.locator(".history-list")
    expect(history).to_contain_text("added the collaborator eve.manager@example.com")
    expect(history).to_contain_text("added the collaborator mia@example.com (copied on their e-mail)")
    # The attachment's name is a file-name observable, shown with its type like the others.
    observable = page.locator(f'#observables-panel tr[data-observable="filename:{"Fäktura 2026 €.pdf"}"]')
    expect(observable).to_contain_text("File name")
    block.scroll_into_view_if_needed()
    block.screenshot(path=tmp_path / f"collaborators-block-{width}.png")
    page.screenshot(path=tmp_path / f"collaborators-page-{width}.png", full_page=True)

    block.get_by_role("button", name="Remove mia@example.com").click()
    htmx_settled(page)
    block = page.locator("details.collaborators")
    expect(block.locator('[data-collaborator="mia@example.com"]')).to_have_count(0)
    expect(block.locator("[data-collaborator]")).to_have_count(1)
    expect(page.locator(".history-list")).to_contain_text("removed the collaborator mia@example.com")
    assert collaborator_addresses(ticket) == ["eve.manager@example.com"]
    page.screenshot(path=tmp_path / f"collaborators-removed-{width}.png", full_page=True)
