"""A requester who signed in by e-mailed link gives their name in a real Chromium: on the "Your name" page
(a refused name is announced at its field), then with a report; the agent sees it on the ticket. The
portal pages pass axe-core's WCAG 2.1 AA checks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from socdesk.accounts.models import Contact
from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.demo.portal_forms import portal_forms_create
from socdesk.tickets.models import Ticket
from tests.browser.conftest import sign_in
from tests.portal.conftest import make_link

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("size", "width", "height"), [("phone", 390, 844), ("desktop", 1280, 900)])
def test_a_requester_names_themselves_and_the_agent_sees_it(
    page, browser, live_server, cast, screenshots, axe_check, size, width, height
):
    forms = {t.name: t for t in portal_forms_create({"SOC": cast.soc, "IT Help Desk": cast.it})}
    page.set_viewport_size({"width": width, "height": height})
    base = live_server.url
    page.goto(f"{base}/portal/sign-in/{make_link('dana@northwind.example')}")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Report something")).to_be_visible()

    # The header's "Your name" opens the page; the keyboard reaches the field by its label.
    page.get_by_role("link", name="Your name").click()
    expect(page.get_by_role("heading", name="Your name", level=1)).to_be_visible()
    axe_check(page, "your name")
    field = page.get_by_label("Your name")
    field.fill("Dana <ceo@northwind.example>")
    page.get_by_role("button", name="Save your name").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator(".field .error")).to_contain_text("without an e-mail address")
    axe_check(page, "refused name")
    page.screenshot(path=screenshots / f"portal-name-refused-{size}.png", full_page=True)
    assert Contact.objects.get(email="dana@northwind.example").name == ""

    field.fill("Dana Reyes")
    field.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Your name is saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Dana Reyes")
    expect(page.locator("header .who")).to_contain_text("Dana Reyes · dana@northwind.example")
    axe_check(page, "home with a name")
    page.screenshot(path=screenshots / f"portal-home-named-{size}.png", full_page=True)

    # The report form offers the name, filled in; another one given there is kept.
    page.goto(f"{base}/portal/report/{forms['Report a lost or stolen device'].pk}")
    name = page.get_by_label("Your name (optional)")
    expect(name).to_have_value("Dana Reyes")
    name.fill("Dana M. Reyes")
    page.get_by_label("Short title").fill("Laptop left on the train")
    page.get_by_role("combobox", name=re.compile(r"^Device")).select_option("Laptop")
    page.get_by_label("When did you last have it?").fill("2026-11-29T18:30")
    axe_check(page, "report form with the name")
    page.screenshot(path=screenshots / f"portal-report-name-{size}.png", full_page=True)
    page.get_by_role("button", name="Send report").click()
    ticket = Ticket.objects.get()
    expect(page.get_by_role("status")).to_contain_text(f"Your report is ticket {ticket.number}.")

    # The agent sees the requester's name on the ticket.
    console = browser.new_page()
    sign_in(console, base, "admin", PERSONA_PASSWORD)  # the report went to IT, which SOC's agents do not see
    console.goto(f"{base}/tickets/{ticket.number}/")
    expect(console.locator("dd", has_text="dana@northwind.example")).to_contain_text("Dana M. Reyes")
    console.screenshot(path=screenshots / f"console-ticket-requester-name-{size}.png")
    console.close()
