"""TOTP two-factor sign-in: enrollment, the second step, recovery codes, enforcement, audit, throttling."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from socdesk.accounts.services import role_create
from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.accounts.twofactor import totp_device, totp_enrollment_confirm, totp_enrollment_start
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows, `steps_ahead` 30-second steps from now.

    Each code is accepted once (replays are refused), and one step of clock drift is tolerated, so a
    test that needs two codes in a row takes the next step's.
    """
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enroll(agent) -> tuple[TOTPDevice, list[str]]:
    actor = Actor.for_agent(agent, ip="127.0.0.1")
    device = totp_enrollment_start(actor=actor, agent=agent)
    codes = totp_enrollment_confirm(actor=actor, agent=agent, code=code_for(device))
    device.refresh_from_db()
    return device, codes


def actions(*names: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__in=names).order_by("id"))


def sign_in_password(client, username: str = "alice"):
    return client.post("/login", {"username": username, "password": PERSONA_PASSWORD, "next": "/tickets/"})


# --- enrollment -----------------------------------------------------------------------------------


def test_enrollment_from_the_security_page(client, people):
    client.force_login(people.alice.user)
    page = client.get("/account/security").content.decode()
    assert "Set up two-factor sign-in" in page
    # A page load never creates a secret; the button (POST) does.
    assert not TOTPDevice.objects.exists()
    assert client.post("/account/security/enroll/start")["Location"] == "/account/security/enroll?next=%2F"
    device = totp_device(people.alice.user, confirmed=False)
    assert device is not None

    page = client.get("/account/security/enroll").content.decode()
    assert "<svg" in page and "<?xml" not in page and "<script" not in page.split("<main", 1)[1]
    assert re.sub(r"\s", "", re.search(r"data-secret>([^<]+)<", page).group(1))

    # A wrong code: clear error, nothing confirmed, no recovery codes.
    wrong = client.post("/account/security/enroll", {"code": "000000"})
    assert wrong.status_code == 400
    assert "That code does not match" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and not StaticToken.objects.exists()
    assert not actions("two_factor.enrolled")

    done = client.post("/account/security/enroll", {"code": code_for(device)})
    assert done.status_code == 200
    shown = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.content.decode())
    assert len(shown) == 10 and len(set(shown)) == 10
    assert "the only time they are shown" in done.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=people.alice.user).count() == 10
    (event,) = actions("two_factor.enrolled")
    assert event.actor_label == "alice" and event.after["recovery_codes"] == 10
    # The codes are never shown again.
    later = client.get("/account/security").content.decode()
    assert not any(code in later for code in shown)
    # The enrolling session proved the factor: it keeps working.
    assert client.get("/tickets/").status_code == 200


# --- the sign-in second step ----------------------------------------------------------------------


def test_password_alone_no_longer_opens_the_console(client, people):
    device, _ = enroll(people.alice)
    response = sign_in_password(client)
    assert response.status_code == 302 and response["Location"] == "/login/verify?next=%2Ftickets%2F"
    assert not actions("auth.login")
    # Every console page, the admin and the API's session authentication wait for the second step.
    for path in ("/", "/tickets/", "/tickets/new", "/account/security"):
        refused = client.get(path)
        assert refused.status_code == 302 and refused["Location"].startswith("/login/verify?next="), path
    assert client.get("/api/v1/tickets").status_code == 401
    htmx = client.get("/tickets/", HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == "/login/verify"

    page = client.get("/login/verify?next=/tickets/")
    assert page.status_code == 200 and "authenticator app" in page.content.decode()
    done = client.post("/login/verify", {"code": code_for(device, 1), "next": "/tickets/"})
    assert done.status_code == 302 and done["Location"] == "/tickets/"
    assert client.get("/tickets/").status_code == 200
    assert client.get("/api/v1/tickets").status_code == 200
    (event,) = actions("auth.login")
    assert event.actor_label == "alice" and event.after == {"second_factor": "totp"}


def test_admin_site_waits_for_the_second_step(client, people):
    enroll(people.admin)
    assert sign_in_password(client, "admin")["Location"].startswith("/login/verify")
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/login/verify?next=%2Fadmin%2F")


def test_wrong_code_is_refused_audited_and_counted_like_a_wrong_password(client, people, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # this test is about SOCdesk's throttle, not django-otp's back-off
    device, _ = enroll(people.alice)
    sign_in_password(client)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        wrong = client.post("/login/verify", {"code": "123456"}, REMOTE_ADDR="10.9.9.9")
        assert wrong.status_code == 400
        assert "That code is not correct" in wrong.content.decode()
    failed = actions("auth.second_step_failed")
    assert len(failed) == settings.LOGIN_FAILURE_LIMIT
    assert failed[0].actor_label == "alice" and failed[0].after["reason"] == "wrong_code"
    # Locked like a password guesser: even the right code is not checked now.
    locked = client.post("/login/verify", {"code": code_for(device, 1)}, REMOTE_ADDR="10.9.9.9")
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0
    assert client.get("/tickets/").status_code == 302
    assert not actions("auth.login")


def test_signing_in_again_with_the_password_does_not_reset_the_count_of_wrong_codes(client, people, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device, _ = enroll(people.alice)
    sign_in_password(client)
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert client.post("/login/verify", {"code": "123456"}).status_code == 400
    # The right password again: it is not a failure, but the wrong codes before it still count.
    assert sign_in_password(client).status_code == 302
    assert client.post("/login/verify", {"code": "123456"}).status_code == 400
    locked = client.post("/login/verify", {"code": code_for(device, 1)})
    assert locked.status_code == 429
    assert not actions("auth.login")


def test_a_code_is_accepted_once(client, people):
    device, _ = enroll(people.alice)
    code = code_for(device, 1)
    sign_in_password(client)
    assert client.post("/login/verify", {"code": code})["Location"] == "/"
    other = client.__class__()
    sign_in_password(other)
    replay = other.post("/login/verify", {"code": code})
    assert replay.status_code == 400


def test_recovery_code_signs_in_once(client, people):
    _, codes = enroll(people.alice)
    sign_in_password(client)
    # Typed with a capital letter and without the dash: still the same code.
    typed = codes[0].replace("-", "").upper()
    response = client.post("/login/verify", {"code": typed, "next": "/tickets/"})
    assert response.status_code == 302 and response["Location"] == "/tickets/"
    assert "9 left" in client.get("/tickets/").content.decode()
    (used,) = actions("auth.recovery_code_used")
    assert used.actor_label == "alice" and used.after == {"recovery_codes_left": 9}
    assert actions("auth.login")[0].after == {"second_factor": "recovery_code"}

    again = client.__class__()
    sign_in_password(again)
    assert again.post("/login/verify", {"code": codes[0]}).status_code == 400
    assert StaticToken.objects.filter(device__user=people.alice.user).count() == 9


def test_agent_without_device_signs_in_with_password_only(client, people):
    response = sign_in_password(client)
    assert response["Location"] == "/tickets/"
    assert client.get("/tickets/").status_code == 200


def test_api_keys_are_unaffected(client, people, settings):
    from socdesk.accounts.services import apikey_create

    settings.SOCDESK_REQUIRE_2FA_FOR_ADMINS = True
    enroll(people.alice)
    _, raw = apikey_create(
        actor=Actor.system("test"), name="tool", scopes=["tickets:read"], agent=people.alice
    )
    assert client.get("/api/v1/tickets", HTTP_X_API_KEY=raw).status_code == 200


# --- enforcement ----------------------------------------------------------------------------------


def test_admins_must_enroll_when_the_setting_says_so(client, people, settings):
    settings.SOCDESK_REQUIRE_2FA_FOR_ADMINS = True
    response = sign_in_password(client, "admin")
    assert response["Location"] == "/tickets/"
    for path in ("/tickets/", "/admin/", "/audit/"):
        refused = client.get(path)
        assert refused.status_code == 302 and refused["Location"].startswith("/account/security?next="), path
    page = client.get("/account/security")
    assert page.status_code == 200 and "must use two-factor sign-in" in page.content.decode()
    assert client.get("/api/v1/tickets").status_code == 401
    # A POST elsewhere does nothing: redirected, not performed.
    assert client.post("/tickets/new", {"subject": "x"})["Location"] == "/account/security"

    started = client.post("/account/security/enroll/start", {"next": "/admin/"})
    assert started["Location"] == "/account/security/enroll?next=%2Fadmin%2F"
    device = totp_device(people.admin.user, confirmed=False)
    done = client.post("/account/security/enroll", {"code": code_for(device), "next": "/admin/"})
    assert 'href="/admin/"' in done.content.decode()
    assert client.get("/admin/").status_code == 200
    assert client.get("/audit/").status_code == 200


def test_admins_are_free_without_the_setting(client, people, settings):
    settings.SOCDESK_REQUIRE_2FA_FOR_ADMINS = False
    sign_in_password(client, "admin")
    assert client.get("/admin/").status_code == 200


def test_a_role_can_require_two_factor_for_its_members(client, people):
    strict = role_create(actor=Actor.system("test"), name="Incident lead", permissions=["view"])
    strict.requires_two_factor = True
    strict.save()
    from socdesk.accounts.services import access_grant

    access_grant(actor=Actor.system("test"), agent=people.bob, department=people.it, role=strict)
    sign_in_password(client, "bob")
    assert client.get("/tickets/")["Location"].startswith("/account/security")
    # alice's roles do not require it.
    other = client.__class__()
    sign_in_password(other, "alice")
    assert other.get("/tickets/").status_code == 200


# --- recovery codes and turning it off ------------------------------------------------------------


def test_regenerating_recovery_codes_needs_password_and_code(client, people):
    device, old = enroll(people.alice)
    client.force_login(people.alice.user)
    from django_otp import DEVICE_ID_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

    refused = client.post(
        "/account/security/recovery-codes", {"password": "wrong-password", "code": code_for(device, 1)}
    )
    assert refused["Location"] == "/account/security"
    assert "The password is not correct" in client.get("/account/security").content.decode()
    assert set(StaticToken.objects.values_list("token", flat=True)) == {c.replace("-", "") for c in old}
    assert not actions("two_factor.recovery_codes_regenerated")

    done = client.post(
        "/account/security/recovery-codes", {"password": PERSONA_PASSWORD, "code": code_for(device, 1)}
    )
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == {c.replace("-", "") for c in new}
    (event,) = actions("two_factor.recovery_codes_regenerated")
    assert event.actor_label == "alice"


def test_turning_two_factor_off(client, people, settings):
    # No back-off between the wrong and the right code here (test_back_off_is_explained covers it).
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0
    _, codes = enroll(people.alice)
    client.force_login(people.alice.user)
    sign_in_password(client)
    client.post("/login/verify", {"code": codes[1]})

    refused = client.post("/account/security/disable", {"password": PERSONA_PASSWORD, "code": "000000"})
    assert refused["Location"] == "/account/security"
    assert "Two-factor sign-in is still on" in client.get("/account/security").content.decode()
    assert TOTPDevice.objects.filter(user=people.alice.user, confirmed=True).exists()

    client.post("/account/security/disable", {"password": PERSONA_PASSWORD, "code": codes[2]})
    assert not TOTPDevice.objects.filter(user=people.alice.user).exists()
    assert not StaticDevice.objects.filter(user=people.alice.user).exists()
    (event,) = actions("two_factor.disabled")
    assert event.actor_label == "alice" and event.after == {"still_required": False}
    assert client.get("/tickets/").status_code == 200
    client.logout()
    assert sign_in_password(client)["Location"] == "/tickets/"


def test_devices_are_not_editable_in_the_admin(client, people):
    client.force_login(people.admin.user)
    page = client.get("/admin/").content.decode()
    assert "TOTP device" not in page and "Static device" not in page
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_back_off_is_explained(client, people):
    """django-otp waits 1, 2, 4, ... seconds after successive wrong codes: the page says so."""
    device, _ = enroll(people.alice)
    sign_in_password(client)
    assert client.post("/login/verify", {"code": "000000"}).status_code == 400
    waiting = client.post("/login/verify", {"code": code_for(device, 1)})
    assert waiting.status_code == 400
    assert "wait a few seconds" in waiting.content.decode()
    assert [e.after["reason"] for e in actions("auth.second_step_failed")] == ["wrong_code", "device_backoff"]


def test_cli_reset_for_a_lost_phone(people, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.SOCDESK_REQUIRE_2FA_FOR_ADMINS = True
    enroll(people.admin)
    out = StringIO()
    call_command("twofactor", "status", "admin", stdout=out)
    assert out.getvalue().strip() == "admin: two-factor sign-in on, 10 recovery codes left, required"
    out = StringIO()
    call_command("twofactor", "reset", "ADMIN", stdout=out)
    assert "must enroll again at their next sign-in" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=people.admin.user).exists()
    assert not StaticDevice.objects.filter(user=people.admin.user).exists()
    (event,) = actions("two_factor.reset")
    assert event.actor_label == "cli:twofactor" and event.target_label == "admin"
    with pytest.raises(CommandError, match="has no two-factor sign-in to reset"):
        call_command("twofactor", "reset", "admin")
    with pytest.raises(CommandError, match="No agent has the username 'nobody'"):
        call_command("twofactor", "reset", "nobody")
