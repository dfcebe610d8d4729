"""Working a case, end to end in a real Chromium (issue 14's closing journey): a requester reports a
phishing e-mail in the portal, a ticket filter gives the report the Phishing triage playbook, an analyst
works the checklist, answers with a canned response from the `;` picker, links the report to the alert
ticket for the same URL (ingested through the webhook), merges a second report of the same phishing into
it and resolves it with a verdict; the requester then sees the status and the reply in the portal, and
nothing internal. Every portal page visited passes axe-core."""

from __future__ import annotations

import json
import re
import urllib.request
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from django.conf import settings
from playwright.sync_api import expect

from socdesk.accounts.services import apikey_create, contact_get_or_create
from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.alerts.integrations import integration_create
from socdesk.cases.models import Task
from socdesk.core.actor import Actor
from socdesk.demo.playbooks import PHISHING_TASKS, phishing_filters
from socdesk.demo.portal_forms import portal_forms_create
from socdesk.mail.canned import canned_response_create
from socdesk.mail.inbound import mail_receive
from socdesk.routing.services.filters import filter_create
from socdesk.tickets.models import Ticket, TicketLink
from socdesk.tickets.services import ticket_note
from tests.browser.conftest import htmx_settled, mailed_link, sign_in
from tests.cases.helpers import make_playbook
from tests.portal.conftest import PHISH_EML

pytestmark = pytest.mark.browser

PHISH_URL = "https://northwind-payments-portal.com/invoice/20931"
REPLY = (
    "Hello {{ requester.name }}, thank you for reporting {{ ticket.number }}. It was phishing: we blocked "
    "the link for everyone. Delete the message; nothing else is needed from you."
)


def _setup(cast):
    """What an administrator has set up beforehand, through the services: the portal forms, the playbook
    and the demo's filters that apply it, a canned reply, the web proxy's webhook with its key, and Dana
    as a known contact (as a directory sync leaves her: with her name)."""
    admin = Actor.for_agent(cast.admin)
    contact_get_or_create(actor=admin, email="dana@northwind.example", name="Dana")
    portal_forms_create({"SOC": cast.soc, "IT Help Desk": cast.it})
    playbook = make_playbook(
        tasks=[(title, minutes, required) for title, _why, minutes, required, _team in PHISHING_TASKS]
    )
    for definition in phishing_filters(playbook):
        filter_create(actor=admin, definition=definition)
    canned_response_create(
        actor=admin, title="Phishing confirmed and blocked", body=REPLY, department=cast.soc
    )
    canned_response_create(actor=admin, title="Not phishing", body="It was a real message.")
    integration_create(actor=admin, adapter="generic", name="Web proxy", department=cast.soc)
    _key, secret = apikey_create(actor=admin, name="Web proxy", scopes=["alerts:ingest"])
    return secret


def _post_alert(base: str, key: str) -> None:
    """The web proxy's alert for the phishing URL, as it arrives: JSON POSTed to the generic webhook."""
    alert = {
        "title": "Proxy: 3 users requested a known phishing page",
        "description": f"Blocked requests to {PHISH_URL} from WS-0201, WS-0332 and WS-0410.",
        "severity": "high",
        "fingerprint": "proxy-phish-northwind-payments-portal",
        "observables": [["url", PHISH_URL], ["domain", "northwind-payments-portal.com"]],
    }
    request = urllib.request.Request(
        f"{base}/api/v1/hooks/generic",
        data=json.dumps(alert).encode(),
        headers={"Content-Type": "application/json", "X-API-Key": key},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 202


def _mailed_duplicate(cast) -> Ticket:
    """Erin forwards the same phishing to the SOC's mailbox: a second report of it."""
    mail = EmailMessage(policy=SMTP)
    mail["From"] = "Erin Lopez <erin@northwind.example>"
    mail["To"] = settings.DEFAULT_FROM_EMAIL  # the SOC's mailbox
    mail["Subject"] = "Fwd: Overdue invoice INV-20931: action required"
    mail["Message-ID"] = "<erin-fwd-20931@northwind.example>"
    mail.set_content("ERIN-OWN-WORDS: I got this too, is it real?\n")
    mail.add_attachment(
        PHISH_EML.read_bytes(), maintype="message", subtype="rfc822", filename="suspicious-invoice.eml"
    )
    return mail_receive(
        mail.as_bytes(), actor=Actor.system("mail:pipe"), channel="pipe", department=cast.soc
    ).ticket


def _report_in_portal(page, base, smtp, axe_check, screenshots) -> Ticket:
    page.goto(f"{base}/portal/")
    axe_check(page, "sign-in")
    page.get_by_label("Your e-mail address").fill("dana@northwind.example")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    page.goto(mailed_link(smtp, "dana@northwind.example"))
    axe_check(page, "sign-in link")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Report something")).to_be_visible()
    axe_check(page, "home")
    page.get_by_role("link", name="Report a suspicious e-mail").click()
    page.get_by_label("The suspicious e-mail as a file (.eml)").set_input_files(str(PHISH_EML))
    page.get_by_label("Did you click a link or open an attachment?").select_option("I clicked a link")
    page.get_by_label("What happened?").fill("It asked me to pay an overdue invoice. I opened the link.")
    axe_check(page, "suspicious e-mail form")
    page.screenshot(path=screenshots / "case-journey-1-report.png", full_page=True)
    page.get_by_role("button", name="Send report").click()
    ticket = Ticket.objects.get(requester__email="dana@northwind.example")
    expect(page.get_by_role("status")).to_contain_text(f"Your report is ticket {ticket.number}.")
    axe_check(page, "ticket (reported)")
    return ticket


def _tick(page, title: str) -> None:
    page.locator("#tasks-panel").get_by_label(f"Done: {title}").check()
    htmx_settled(page)
    expect(page.locator("#tasks-panel").get_by_role("status")).to_contain_text(f"Task “{title}” done.")


def _set_status(page, status: str, resolution: str) -> None:
    form = page.locator("form[data-action=status]")
    form.get_by_label("Status").select_option(status)
    form.get_by_label("Resolution").select_option(resolution)
    form.get_by_role("button", name="Set status").click()
    htmx_settled(page)


def test_report_triage_link_merge_resolve_and_the_requester_sees_the_outcome(
    page, browser, live_server, cast, smtp, huey_immediate, settings, screenshots, axe_check
):
    settings.SOCDESK_BASE_URL = live_server.url
    settings.SOCDESK_PORTAL_DOMAINS = ["northwind.example"]
    base = live_server.url
    key = _setup(cast)
    page.set_viewport_size({"width": 1280, "height": 900})

    # 1. Dana reports the phishing mail in the portal; 2. the filter gives it the playbook.
    report = _report_in_portal(page, base, smtp, axe_check, screenshots)
    assert report.department == cast.soc and report.source == "web"
    titles = [title for title, *_rest in PHISHING_TASKS]
    assert (
        list(Task.objects.filter(ticket=report).order_by("order").values_list("title", flat=True)) == titles
    )

    # 4. The proxy's alert for the same URL, through the webhook; Erin mails the same phishing in.
    _post_alert(base, key)
    alert_ticket = Ticket.objects.get(source="alert")
    duplicate = _mailed_duplicate(cast)
    assert alert_ticket.department == cast.soc and duplicate.department == cast.soc
    # The forwarded phishing is read (its sender and link are observables), as the portal's upload is.
    found = set(duplicate.ticket_observables.values_list("observable__type", "observable__value"))
    assert {("url", PHISH_URL), ("email", "billing@northwind-payments.example")} <= found

    # 3. Alice works the checklist in the console.
    console = browser.new_context(viewport={"width": 1440, "height": 1000})
    agent = console.new_page()
    try:
        sign_in(agent, base, "alice", PERSONA_PASSWORD)
        agent.goto(f"{base}/tickets/{report.number}/")
        expect(agent.locator("#tasks-panel [data-progress]")).to_have_text(f"0 of {len(titles)} done")
        expect(agent.locator(".history-list")).to_contain_text(
            "as the ticket filter 'Portal phishing reports get the triage playbook' asked"
        )
        agent.screenshot(path=screenshots / "case-journey-2-playbook.png", full_page=True)
        for title in titles[:3]:
            _tick(agent, title)
        task = agent.locator("#tasks-panel").locator(f'li[data-task="{titles[4]}"]')
        task.locator("summary").click()
        task.get_by_label("Reason to skip").fill("Dana opened the link but typed no password (proxy log)")
        task.get_by_role("button", name="Skip").click()
        htmx_settled(agent)
        expect(agent.locator(f'#tasks-panel li[data-task="{titles[4]}"]')).to_contain_text(
            "Skipped: Dana opened the link but typed no password"
        )

        # 5 (before): resolving is refused while "Block the URL" (required) is open; nothing changes.
        _set_status(agent, "resolved", "true_positive")
        expect(agent.get_by_role("alert").first).to_contain_text(
            "cannot be resolved yet: the required task “Block the URL” is still open"
        )
        agent.screenshot(path=screenshots / "case-journey-3-resolve-refused.png", full_page=True)
        assert Ticket.objects.get(pk=report.pk).status != "resolved"
        _tick(agent, "Block the URL")

        # The reply from a canned response: `;` opens the picker, typing filters, Enter inserts it.
        agent.goto(f"{base}/tickets/{report.number}/")
        message = agent.get_by_label("Message", exact=True)
        message.click()
        agent.keyboard.press(";")
        expect(agent.get_by_label("Search canned responses")).to_be_focused()
        agent.keyboard.type("blocked")
        options = agent.get_by_role("listbox", name="Canned responses").get_by_role("option")
        expect(options).to_have_count(1)
        agent.keyboard.press("Enter")
        expected_reply = (
            f"Hello Dana, thank you for reporting {report.number}. It was phishing: we blocked the link for "
            "everyone. Delete the message; nothing else is needed from you."
        )
        expect(message).to_have_value(re.compile(re.escape(f"thank you for reporting {report.number}.")))
        agent.get_by_role("button", name="Send reply").click()
        expect(agent.locator(".entry.reply")).to_contain_text("we blocked the link for everyone")
        ticket_note(
            actor=Actor.for_agent(cast.alice),
            ticket=report,
            body="INTERNAL-NOTE: 3 other mailboxes got it; proxy block ID PX-5521.",
        )

        # Link the report to the alert ticket (related), from the linked-tickets panel.
        agent.goto(f"{base}/tickets/{report.number}/")
        links = agent.locator("details.links")
        links.get_by_label("This ticket is").select_option("related")
        links.get_by_label("Ticket number").fill(alert_ticket.number)
        links.get_by_role("button", name="Link ticket").click()
        htmx_settled(agent)
        expect(agent.locator(f'details.links [data-link="{alert_ticket.number}"]')).to_be_visible()

        # Merge Erin's report into Dana's, from Erin's ticket, after the review.
        agent.goto(f"{base}/tickets/{duplicate.number}/")
        merge = agent.locator("details.merge")
        merge.locator("summary").click()
        merge.get_by_label("Ticket number").fill(report.number)
        merge.get_by_role("button", name="Review merge").click()
        htmx_settled(agent)
        review = agent.locator(".merge-review")
        expect(review).to_contain_text(f"is then closed as a duplicate of {report.number}")
        agent.screenshot(path=screenshots / "case-journey-4-merge-review.png", full_page=True)
        review.get_by_role("button", name=f"Merge into {report.number}").click()
        agent.wait_for_url(f"{base}/tickets/{report.number}/")
        expect(agent.get_by_role("status").first).to_contain_text(
            f"{duplicate.number} was merged into {report.number}."
        )

        # 5. The last task, then the verdict: allowed now.
        _tick(agent, "Close with a verdict")
        agent.goto(f"{base}/tickets/{report.number}/")
        _set_status(agent, "resolved", "true_positive")
        expect(agent.locator(".ticket-head")).to_contain_text("Resolved")
        agent.screenshot(path=screenshots / "case-journey-5-resolved.png", full_page=True)
    finally:
        console.close()

    report.refresh_from_db()
    duplicate.refresh_from_db()
    assert (report.status, report.resolution) == ("resolved", "true_positive")
    assert (duplicate.status, duplicate.resolution) == ("closed", "duplicate")
    assert set(TicketLink.objects.values_list("kind", flat=True)) >= {"related"}

    # 6. Dana sees the outcome: the status and the reply, never a note, a task, an observable or an alert.
    page.goto(f"{base}/portal/")
    expect(page.get_by_role("link", name=re.compile(report.number))).to_be_visible()
    axe_check(page, "home (resolved)")
    page.screenshot(path=screenshots / "case-journey-6-portal-home.png", full_page=True)
    page.get_by_role("link", name=re.compile(report.number)).click()
    expect(page.locator(".meta")).to_contain_text("Resolved")
    expect(page.locator(".thread")).to_contain_text(expected_reply)
    axe_check(page, "ticket (resolved)")
    page.screenshot(path=screenshots / "case-journey-7-portal-ticket.png", full_page=True)
    shown = page.content()
    hidden = [
        "INTERNAL-NOTE",  # the internal note
        *titles,  # the tasks
        "198.51.100.23",  # an observable (the sender's relay)
        alert_ticket.number,
        "Proxy: 3 users",  # the alert ticket and its alert
        duplicate.number,
    ]
    assert [text for text in hidden if text in shown] == []
