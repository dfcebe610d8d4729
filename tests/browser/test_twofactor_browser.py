"""Two-factor sign-in end to end in a real Chromium: enroll, sign out, sign in with a code, with a
recovery code, and a wrong code refused."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.audit.models import AuditEvent
from tests.accounts.test_twofactor import code_for
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").first.click()
    expect(page.get_by_role("heading", name="Sign in to SOCdesk")).to_be_visible()


def password_step(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PERSONA_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()


def test_enroll_then_sign_in_with_code_and_recovery_code(page, live_server, cast, screenshots):
    base = live_server.url
    page.set_viewport_size({"width": 1200, "height": 860})
    sign_in(page, base, "alice", PERSONA_PASSWORD)

    # Enroll from the Security page (the agent's name in the top bar).
    page.get_by_role("link", name="Alice").click()
    expect(page.get_by_role("heading", name="Security")).to_be_visible()
    page.screenshot(path=screenshots / "2fa-security-off.png", full_page=True)
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    page.screenshot(path=screenshots / "2fa-enroll.png", full_page=True)
    # The key typed by hand is the device's key: an app that cannot scan gets the same codes.
    shown_key = page.locator("[data-secret]").inner_text().replace(" ", "")
    device = TOTPDevice.objects.get(user=cast.alice.user)
    assert b32decode(shown_key + "=" * (-len(shown_key) % 8)) == device.bin_key

    page.get_by_label("Code from your app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("That code does not match")
    page.get_by_label("Code from your app").fill(code_for(device))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    codes = page.locator("[data-recovery-codes] code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    page.screenshot(path=screenshots / "2fa-recovery-codes.png", full_page=True)
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    page.get_by_role("link", name="Alice").click()
    expect(page.get_by_text("10 unused recovery codes left.")).to_be_visible()
    page.screenshot(path=screenshots / "2fa-security-on.png", full_page=True)
    sign_out(page)

    # Sign in with the next code from the app.
    password_step(page, base)
    page.screenshot(path=screenshots / "2fa-verify.png", full_page=True)
    device.refresh_from_db()
    page.get_by_label("Code").fill(code_for(device, 1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    sign_out(page)

    # Lost phone: a recovery code, once.
    password_step(page, base)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("9 left")
    page.screenshot(path=screenshots / "2fa-recovery-used.png", full_page=True)
    sign_out(page)

    # A used recovery code and a wrong code are refused; the console stays shut.
    password_step(page, base)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not correct")
    page.screenshot(path=screenshots / "2fa-wrong-code.png", full_page=True)
    page.goto(f"{base}/tickets/")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    assert "/login/verify" in page.url

    done = list(AuditEvent.objects.filter(actor_label="alice").values_list("action", flat=True))
    for action in ("two_factor.enrolled", "auth.recovery_code_used", "auth.second_step_failed"):
        assert action in done
