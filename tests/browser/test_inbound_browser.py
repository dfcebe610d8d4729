"""In a real Chromium: a reported phishing mail and the requester's reply by mail, as alice sees them on
the ticket (the message, its attachment with its SHA-256, the raw message to download, the note saying
what could not be stored)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.mail.inbound import mail_receive
from tests.browser.conftest import sign_in
from tests.mail import corpus

pytestmark = pytest.mark.browser


def test_mail_received_shows_on_its_ticket_with_the_raw_message_to_download(
    page, live_server, cast, settings, screenshots
):
    settings.ATTACHMENT_MAX_BYTES = 6000
    pipe = Actor.system("mail:pipe")
    raw = corpus.rfc2231_attachment().replace(
        b"See the file.", b"Got this invoice from billing@payments-example[.]net, from 203.0.113.7."
    )
    ticket = mail_receive(raw, actor=pipe, channel="pipe").ticket
    reply = corpus.plain(
        "I also got a big one.\n\nOn Mon, 30 Nov 2026, SOC wrote:\n> earlier\n",
        subject=f"Re: Phishing? [#{ticket.number}]",
        Message_ID="<m2@example.com>",
    )
    big = corpus.big_attachment(7000).replace(b"<m1@example.com>", b"<m3@example.com>")
    big = big.replace(b"Subject: Phishing?", f"Subject: Re: Phishing? [#{ticket.number}]".encode())
    mail_receive(reply, actor=pipe, channel="pipe")
    mail_receive(big, actor=pipe, channel="pipe")

    page.set_viewport_size({"width": 1400, "height": 900})
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    expect(page.get_by_text("Got this invoice from billing@payments-example[.]net")).to_be_visible()
    expect(page.get_by_text("I also got a big one.")).to_be_visible()
    expect(page.get_by_text("The attachment 'big.zip' (7,000 bytes")).to_be_visible()
    expect(page.get_by_role("link", name="Fäktura 2026 €.pdf")).to_be_visible()
    expect(page.get_by_text("received the e-mail from ann.analyst@example.com").first).to_be_visible()
    page.screenshot(path=screenshots / "inbound-mail-ticket.png", full_page=True)

    original = page.get_by_role("link", name="original.eml").first
    with page.expect_download() as download:
        original.click()
    path = download.value.path()
    assert Path(path).read_bytes() == raw


def test_the_html_version_opens_apart_with_remote_images_blocked_until_asked(
    page, live_server, cast, screenshots
):
    from email.message import EmailMessage

    base = live_server.url
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "Dana <dana@example.com>", "soc@example.test", "Your invoice"
    mail["Message-ID"] = "<html-1@example.com>"
    mail.set_content("Your invoice is attached.\n")
    mail.add_alternative(
        f"<p>Your <b>invoice</b> is ready: <a href='https://pay-invoice.example/login'>pay now</a></p>"
        f"<p><img alt='tracking pixel' src='{base}/static/socdesk/favicon.svg' width='48'></p>",
        subtype="html",
    )
    ticket = mail_receive(mail.as_bytes(), actor=Actor.system("mail:pipe"), channel="pipe").ticket

    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    link = page.get_by_role("link", name="HTML version of this e-mail")
    expect(link).to_be_visible()
    page.screenshot(path=screenshots / "inbound-html-link.png", full_page=True)
    with page.context.expect_page() as opened:
        link.click()
    html_page = opened.value
    html_page.wait_for_load_state()
    expect(html_page.get_by_text("Remote images are blocked")).to_be_visible()
    # SOCdesk's own stylesheet is the one style the page's policy lets in.
    bar = html_page.locator("[data-html-version]")
    assert bar.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 248, 225)"
    expect(html_page.locator("b", has_text="invoice")).to_be_visible()
    # The image is from a server the page may not load from: blocked by the page's policy.
    assert html_page.locator("img").evaluate("img => img.complete && img.naturalWidth") == 0
    html_page.screenshot(path=screenshots / "inbound-html-blocked.png", full_page=True)
    html_page.get_by_role("link", name="Show remote images").click()
    expect(html_page.get_by_text("Remote images are shown")).to_be_visible()
    html_page.wait_for_function("document.querySelector('img').complete")
    assert html_page.locator("img").evaluate("img => img.naturalWidth") > 0
    html_page.screenshot(path=screenshots / "inbound-html-images.png", full_page=True)
