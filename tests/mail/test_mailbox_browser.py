"""In a real Chromium: an admin adds a mailbox of a real Dovecot, tests the connection, and after a fetch
sees its last fetch on the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD, make_personas
from socdesk.mail.fetching import mailbox_fetch
from socdesk.mail.models import Mailbox
from tests.browser.conftest import sign_in
from tests.mail import corpus

pytestmark = pytest.mark.browser


def test_an_admin_adds_a_mailbox_tests_it_and_sees_its_last_fetch(
    page, live_server, transactional_db, dovecot, imap_user, screenshots
):
    make_personas()
    dovecot.append(
        imap_user, [corpus.plain("Hello.\n", subject="Login alert", Message_ID="<b-1@example.test>")]
    )
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.set_viewport_size({"width": 1440, "height": 1000})
    base = live_server.url
    sign_in(page, base, "admin", PERSONA_PASSWORD)
    page.goto(f"{base}/admin-area/")
    page.get_by_role("navigation", name="Admin area").get_by_role("link", name="Mailboxes").click()
    expect(page.get_by_text("No mailboxes yet.")).to_be_visible()
    page.get_by_role("link", name="New mailbox").click()

    page.get_by_label("Name", exact=True).fill("soc-inbox")
    page.get_by_label("E-mail address").fill("help@soc.example.test")
    page.get_by_label("IMAP server").fill(dovecot.host)
    page.get_by_label("Port", exact=True).fill(str(dovecot.port))
    page.get_by_label("Security").select_option("none")
    page.get_by_label("User name").fill(imap_user[0])
    page.get_by_label("Password", exact=True).fill(imap_user[1])
    page.get_by_label("After import").select_option("move")
    page.get_by_label("Department").select_option(label="SOC")
    page.get_by_role("button", name="Create mailbox").click()
    # Moving needs its folder: refused next to it, nothing saved, the password not sent back.
    expect(page.locator(".field.invalid")).to_contain_text("Moving imported mail needs the folder")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    page.screenshot(path=screenshots / "mailbox-new-refused.png", full_page=True)
    assert not Mailbox.objects.exists()

    page.get_by_label("Password", exact=True).fill(imap_user[1])
    page.get_by_label("Move to folder").fill("Imported")
    page.get_by_role("button", name="Create mailbox").click()
    expect(page.get_by_text("Mailbox soc-inbox saved.")).to_be_visible()
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("OK: 1 message in INBOX, 1 unseen;")).to_be_visible()
    page.screenshot(path=screenshots / "mailbox-test-connection.png", full_page=True)

    mailbox = Mailbox.objects.get()
    assert mailbox.password == imap_user[1]
    assert mailbox_fetch(mailbox).created == 1
    page.get_by_role("link", name="Back to the list").click()
    expect(page.locator("[data-fetch-status]")).to_contain_text("1 imported")
    page.screenshot(path=screenshots / "mailbox-list.png", full_page=True)
    # The refused form is answered 400 on purpose (Chromium logs that); nothing else may fail.
    assert [p for p in problems if "status of 400" not in p] == []
