"""In a real Chromium: the admin edits a mail template (preview, an error refused with its line, save,
reset) and keeps the ban list (add, a refused entry, remove)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.audit.models import AuditEvent
from socdesk.mail.models import BannedSender, MailTemplate
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_the_admin_edits_previews_and_resets_a_template(page, live_server, cast, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 1000})
    base = live_server.url
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/admin-area/mail-templates")
    page.get_by_role("link", name="Mail templates").first.wait_for()
    page.screenshot(path=tmp_path / "mail-templates.png", full_page=True)
    page.locator("tr", has_text="SOC").get_by_role("link", name="New ticket: auto-response").click()
    expect(page.get_by_text("In use now: the default.")).to_be_visible()
    expect(page.locator("[data-preview-subject]")).to_have_text(
        "[#SOC-1042] Suspicious login from 203.0.113.7"
    )

    page.get_by_label("Subject").fill("We have your ticket {{ ticket.number }}")
    page.get_by_label("Text body").fill("Hello {{ requester.name }},\nthanks.\n{% if ticket.number %}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The text body has an error on line 3")).to_be_visible()
    page.screenshot(path=tmp_path / "mail-template-error.png", full_page=True)
    assert not MailTemplate.objects.exists()

    page.get_by_label("Text body").fill("Hello {{ requester.name }},\nthanks for {{ ticket.number }}.")
    page.get_by_label("HTML body").fill("<p>Hello <b>{{ requester.name }}</b></p>")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-preview-text]")).to_have_text("Hello Dana Requester,\nthanks for SOC-1042.")
    expect(page.frame_locator("iframe[title='HTML preview']").locator("b")).to_have_text("Dana Requester")
    page.screenshot(path=tmp_path / "mail-template-preview.png", full_page=True)
    # A full-page capture leaves the sandboxed frame blank (it renders out of process): capture it alone.
    page.locator("iframe").screenshot(path=tmp_path / "mail-template-html-preview.png")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Template saved")).to_be_visible()
    expect(page.get_by_text("In use now: the department's own.")).to_be_visible()
    row = MailTemplate.objects.get()
    assert (row.department, row.subject) == (cast.soc, "We have your ticket {{ ticket.number }}")
    page.screenshot(path=tmp_path / "mail-template-saved.png", full_page=True)

    page.get_by_role("button", name="Reset to the global template").click()
    expect(page.get_by_text("In use now: the default.")).to_be_visible()
    assert not MailTemplate.objects.exists()


def test_the_admin_keeps_the_ban_list(page, live_server, cast, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 900})
    base = live_server.url
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/admin-area/banned-senders")
    expect(page.get_by_text("Nobody is banned.")).to_be_visible()

    page.get_by_label("Address or domain").fill("*@spam.example.test")
    page.get_by_label("Why (optional)").fill("Invoice spam campaign")
    page.get_by_role("button", name="Ban", exact=True).click()
    expect(page.get_by_text("spam.example.test is banned")).to_be_visible()
    page.get_by_label("Address or domain").fill("mallory@phish.example.test")
    page.get_by_role("button", name="Ban", exact=True).click()
    expect(page.locator("tr[data-row]")).to_have_count(2)

    page.get_by_label("Address or domain").fill("not an address")
    page.get_by_role("button", name="Ban", exact=True).click()
    expect(page.get_by_text("is neither an e-mail address nor a domain")).to_be_visible()
    page.screenshot(path=tmp_path / "bans.png", full_page=True)

    page.get_by_role("button", name="Remove mallory@phish.example.test").click()
    expect(page.get_by_text("Removed from the ban list.")).to_be_visible()
    expect(page.locator("tr[data-row]")).to_have_count(1)
    assert list(BannedSender.objects.values_list("value", flat=True)) == ["spam.example.test"]
    page.screenshot(path=tmp_path / "bans-after-remove.png", full_page=True)


def test_the_admin_turns_a_departments_auto_response_off(page, live_server, cast, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 1000})
    base = live_server.url
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/admin-area/departments/{cast.soc.pk}")
    box = page.get_by_label("Acknowledge new tickets by e-mail")
    expect(box).to_be_checked()  # on by default
    box.uncheck()
    page.screenshot(path=tmp_path / "department-auto-response.png", full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{base}/admin-area/departments**")
    cast.soc.refresh_from_db()
    assert cast.soc.auto_response is False
    event = AuditEvent.objects.get(action="department.auto_response_changed")
    assert (event.before, event.after, event.actor_label) == (
        {"auto_response": True},
        {"auto_response": False},
        "admin",
    )


def test_the_admin_chooses_what_mail_to_a_closed_ticket_does(page, live_server, cast, screenshots):
    page.set_viewport_size({"width": 1400, "height": 1000})
    base = live_server.url
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/admin-area/departments/{cast.soc.pk}")
    choice = page.get_by_label("The requester's e-mail to a closed ticket")
    expect(choice).to_have_value("")  # the installation default
    ack = page.get_by_label("Acknowledge reopening replies by e-mail")
    expect(ack).to_be_checked()
    choice.select_option(label="Open a new linked ticket")
    ack.uncheck()
    page.screenshot(path=screenshots / "department-closed-reply.png", full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{base}/admin-area/departments**")
    cast.soc.refresh_from_db()
    assert (cast.soc.closed_reply, cast.soc.reopen_ack) == ("new", False)
    event = AuditEvent.objects.get(action="department.mail_replies_changed")
    assert (event.after, event.actor_label) == ({"closed_reply": "new", "reopen_ack": False}, "admin")
