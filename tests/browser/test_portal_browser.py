"""The requester's journey in a real Chromium, on a phone and on a desktop: ask for a sign-in link, open
it from the mail a real SMTP server received, report a phishing e-mail with its .eml file, see the ticket,
read the analyst's reply and answer it. Every portal page passes axe-core's WCAG 2.1 AA checks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from socdesk.core.actor import Actor
from socdesk.demo.portal_forms import portal_forms_create
from socdesk.kb.services import article_create
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_note, ticket_reply
from tests.browser.conftest import mailed_link
from tests.portal.conftest import PHISH_EML

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("size", "width", "height"), [("phone", 390, 844), ("desktop", 1280, 900)])
def test_requester_journey(
    page, live_server, cast, smtp, huey_immediate, settings, screenshots, axe_check, size, width, height
):
    settings.SOCDESK_BASE_URL = live_server.url
    settings.SOCDESK_PORTAL_DOMAINS = ["northwind.example"]
    portal_forms_create({"SOC": cast.soc, "IT Help Desk": cast.it})
    article = article_create(
        actor=Actor.for_agent(cast.alice),
        title="Unexpected invoice requests",
        body="Call the supplier on a number you already know.\n\n- Never pay from the e-mail's link.",
        visibility="public",
    )
    page.set_viewport_size({"width": width, "height": height})
    base = live_server.url

    # Signed out, the portal asks for an address; the first Tab reaches the skip link.
    page.goto(f"{base}/portal/")
    expect(page).to_have_url(re.compile(r"/portal/sign-in"))
    axe_check(page, "sign-in")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.screenshot(path=screenshots / f"portal-sign-in-{size}.png", full_page=True)
    page.get_by_label("Your e-mail address").fill("dana@northwind.example")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    axe_check(page, "link sent")
    page.screenshot(path=screenshots / f"portal-link-sent-{size}.png", full_page=True)

    # The link from the mail the SMTP server received: a button, then signed in.
    page.goto(mailed_link(smtp, "dana@northwind.example"))
    axe_check(page, "link")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Report something")).to_be_visible()
    axe_check(page, "home (no tickets)")

    # Report the phishing mail with its .eml file.
    page.get_by_role("link", name="Report a suspicious e-mail").click()
    axe_check(page, "suspicious e-mail form")
    # Public help articles follow what is typed as the title.
    page.get_by_label("Short title").fill("Strange invoice")
    suggested = page.locator("#suggested-articles")
    expect(suggested.get_by_role("link", name="Unexpected invoice requests")).to_be_visible()
    page.get_by_label("Short title").fill("")
    page.get_by_label("Did you click a link or open an attachment?").select_option("No")
    # Sent without the message: the error is announced, the page stays accessible, nothing is opened.
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("alert")).to_contain_text("Attach the suspicious e-mail as a .eml file")
    axe_check(page, "refused report")
    page.screenshot(path=screenshots / f"portal-report-refused-{size}.png", full_page=True)
    assert not Ticket.objects.exists()
    page.get_by_label("The suspicious e-mail as a file (.eml)").set_input_files(str(PHISH_EML))
    page.get_by_label("Did you click a link or open an attachment?").select_option("No")
    page.get_by_label("What happened?").fill("It asks me to pay an invoice I do not know.")
    page.screenshot(path=screenshots / f"portal-report-{size}.png", full_page=True)
    page.get_by_role("button", name="Send report").click()
    ticket = Ticket.objects.get()
    expect(page.get_by_role("status")).to_contain_text(f"Your report is ticket {ticket.number}.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Suspicious e-mail: Overdue invoice INV-20931"
    )
    axe_check(page, "ticket")

    # The analyst answers and writes a note; the requester sees the answer, never the note.
    alice = Actor.for_agent(cast.alice)
    ticket_reply(actor=alice, ticket=ticket, body="Thank you, Dana. It is phishing: we blocked the sender.")
    ticket_note(actor=alice, ticket=ticket, body="NOTE-NOT-FOR-REQUESTER: 14 other recipients found.")
    page.get_by_role("link", name="Back to your tickets").click()
    expect(page.get_by_role("link", name=re.compile(ticket.number))).to_be_visible()
    axe_check(page, "home")
    page.screenshot(path=screenshots / f"portal-home-{size}.png", full_page=True)
    page.get_by_role("link", name=re.compile(ticket.number)).click()
    thread = page.locator(".thread")
    expect(thread).to_contain_text("we blocked the sender")
    expect(page.locator("body")).not_to_contain_text("NOTE-NOT-FOR-REQUESTER")
    assert "NOTE-NOT-FOR-REQUESTER" not in page.content()

    # Reply by keyboard: type, then Tab to the button and press Enter.
    page.get_by_label("Your message").fill("Thanks! I deleted it.")
    page.get_by_role("button", name="Send message").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Your message was added.")
    expect(thread).to_contain_text("Thanks! I deleted it.")
    axe_check(page, "ticket after reply")
    page.screenshot(path=screenshots / f"portal-ticket-{size}.png", full_page=True)
    assert ticket.entries.filter(kind="message", body="Thanks! I deleted it.").exists()

    # A public help article, as the form's suggestion opens it.
    page.goto(f"{base}/portal/articles/{article.pk}")
    expect(page.get_by_role("heading", name="Unexpected invoice requests")).to_be_visible()
    axe_check(page, "article")
    page.screenshot(path=screenshots / f"portal-article-{size}.png", full_page=True)
