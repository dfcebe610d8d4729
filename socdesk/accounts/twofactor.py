"""Two-factor sign-in (TOTP authenticator apps plus one-time recovery codes), built on django-otp.

Reads (`two_factor_required`, `totp_device`, ...) and writes (enroll, confirm, regenerate, disable, the
sign-in second step). Every write records an audit event; a failed second-step code also counts as a
failed sign-in in the shared throttle (socdesk/accounts/throttle.py).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from socdesk.accounts.models import Agent, DepartmentAccess
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RECOVERY_CODE_COUNT = 10
# Recovery codes: 10 characters from an alphabet without look-alikes (no 0/o, 1/l/i), shown as xxxxx-xxxxx.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_DEVICE_NAME = "Authenticator app"
_BACKOFF_MESSAGE = "Too many wrong codes in a row: wait a few seconds, then type the newest code."
_RECOVERY_NAME = "Recovery codes"


# --- reads ----------------------------------------------------------------------------------------


def totp_device(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    """The user's authenticator-app device (confirmed, or the one being enrolled), if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("id").first()


def has_two_factor(user: User) -> bool:
    """Whether the user has finished enrolling an authenticator app."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    """How many unused recovery codes the user has."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def two_factor_required(agent: Agent) -> bool:
    """Whether this agent must use a second factor: admins (when the setting says so) or a role's flag."""
    if settings.SOCDESK_REQUIRE_2FA_FOR_ADMINS and (agent.is_admin or agent.user.is_superuser):
        return True
    return DepartmentAccess.objects.filter(agent=agent, role__requires_two_factor=True).exists()


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an SVG QR code, markup to inline in the page (no script, no style)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    # Inline in HTML: drop the XML declaration, and let CSS size it (mm units print, but do not scale).
    svg = re.sub(r"^<\?xml[^>]*\?>\s*", "", svg)
    return re.sub(r'\s(width|height)="[^"]*"', "", svg, count=2)


def secret_for_manual_entry(device: TOTPDevice) -> str:
    """The key in base32, grouped by four, for apps that cannot scan a QR code."""
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


# --- writes ---------------------------------------------------------------------------------------


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()[:32]


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT fresh ones; returned for showing once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_RECOVERY_NAME, confirmed=True)
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODE_COUNT)
    ]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _totp_matches(device: TOTPDevice, code: str) -> bool:
    code = _normalise(code)
    return code.isdigit() and len(code) == device.digits and device.verify_token(code)


@transaction.atomic
def totp_enrollment_start(*, actor: Actor, agent: Agent) -> TOTPDevice:
    """Create (or reuse) the agent's unconfirmed authenticator device: a new secret to scan."""
    user = agent.user
    if has_two_factor(user):
        raise ServiceError("Two-factor sign-in is already on for this account.")
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_DEVICE_NAME, confirmed=False)
        record(actor=actor, action="two_factor.enrollment_started", target=agent, target_label=actor.label)
    return device


@transaction.atomic
def totp_enrollment_confirm(*, actor: Actor, agent: Agent, code: str) -> list[str]:
    """Confirm enrollment with a code from the app; returns the new recovery codes (shown only once)."""
    device = totp_device(agent.user, confirmed=False)
    if device is None:
        raise ServiceError("Start the set-up again: there is no authenticator waiting to be confirmed.")
    if not _totp_matches(device, code):
        raise ServiceError(
            "That code does not match. Type the 6-digit code your app shows now "
            "(check that the phone's clock is right).",
            fields={"code": "invalid"},
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(agent.user)
    record(
        actor=actor,
        action="two_factor.enrolled",
        target=agent,
        target_label=actor.label,
        after={"method": "totp", "recovery_codes": len(codes)},
    )
    return codes


def _confirm_identity(agent: Agent, *, password: str, code: str) -> None:
    """Sensitive changes need the password and a current code (from the app, or a recovery code)."""
    if not agent.user.check_password(password or ""):
        raise ServiceError("The password is not correct.", fields={"password": "invalid"})
    device = totp_device(agent.user)
    if device is not None and not device.verify_is_allowed()[0]:
        raise ServiceError(_BACKOFF_MESSAGE, fields={"code": "throttled"})
    typed_app_code = device is not None and len(_normalise(code)) == device.digits
    if device is None or not (
        _totp_matches(device, code) if typed_app_code else _recovery_code_matches(agent.user, code)
    ):
        raise ServiceError(
            "That code does not match: type the code your authenticator app shows now, or a recovery code.",
            fields={"code": "invalid"},
        )


def _recovery_code_matches(user: User, code: str) -> bool:
    static = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return bool(static and static.verify_token(_normalise(code)))


def recovery_codes_regenerate(*, actor: Actor, agent: Agent, password: str, code: str) -> list[str]:
    """Replace every recovery code (the old ones stop working); returns the new ones, shown once."""
    # Checked before the transaction: a wrong code's back-off count must stay written.
    _confirm_identity(agent, password=password, code=code)
    with transaction.atomic():
        codes = _new_recovery_codes(agent.user)
        record(
            actor=actor,
            action="two_factor.recovery_codes_regenerated",
            target=agent,
            target_label=actor.label,
            after={"recovery_codes": len(codes)},
        )
    return codes


def two_factor_disable(*, actor: Actor, agent: Agent, password: str, code: str) -> None:
    """Remove the authenticator and the recovery codes (an agent who must use 2FA then re-enrolls)."""
    _confirm_identity(agent, password=password, code=code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=agent.user).delete()
        StaticDevice.objects.filter(user=agent.user).delete()
        _record_disabled(actor, agent)


@transaction.atomic
def two_factor_reset(*, actor: Actor, agent: Agent) -> bool:
    """An administrator's reset for an agent who lost their phone and their recovery codes.

    Removes the agent's authenticator and recovery codes; False when there was nothing to remove.
    """
    had = TOTPDevice.objects.filter(user=agent.user).exists()
    TOTPDevice.objects.filter(user=agent.user).delete()
    StaticDevice.objects.filter(user=agent.user).delete()
    if had:
        _record_disabled(actor, agent, reset=True)
    return had


def _record_disabled(actor: Actor, agent: Agent, *, reset: bool = False) -> None:
    record(
        actor=actor,
        action="two_factor.reset" if reset else "two_factor.disabled",
        target=agent,
        target_label=agent.user.get_username(),
        after={"still_required": two_factor_required(agent)},
    )


@dataclass(frozen=True)
class SecondStep:
    """What a sign-in code turned out to be: the device that accepted it; whether it was a recovery code."""

    device: TOTPDevice | StaticDevice
    recovery_code: bool
    recovery_codes_left: int


def second_step_verify(*, actor: Actor, agent: Agent, code: str) -> SecondStep:
    """Check a sign-in code (authenticator or recovery code); a wrong one is audited and refused.

    Not one transaction on purpose: a refused code raises, and its audit event and the device's back-off
    count must stay written.
    """
    user = agent.user
    device = totp_device(user)
    if device is None:
        raise ServiceError("This account has no authenticator app set up.")
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        # django-otp's own per-device back-off (1, 2, 4, ... seconds after successive wrong codes).
        _second_step_failed(actor, agent, "device_backoff")
        raise ServiceError(_BACKOFF_MESSAGE, fields={"code": "throttled"})
    normalised = _normalise(code)
    if _totp_matches(device, normalised):
        record(actor=actor, action="auth.second_step_passed", target=agent, after={"method": "totp"})
        return SecondStep(device=device, recovery_code=False, recovery_codes_left=recovery_codes_left(user))
    static = StaticDevice.objects.filter(user=user, confirmed=True).first()
    # A recovery code is 10 characters, a TOTP code 6 digits: only try the kind that was typed, so that a
    # mistyped app code does not start the recovery codes' back-off (and an all-digit recovery code works).
    if len(normalised) != device.digits and static is not None and static.verify_token(normalised):
        left = recovery_codes_left(user)
        record(
            actor=actor,
            action="auth.recovery_code_used",
            target=agent,
            target_label=actor.label,
            after={"recovery_codes_left": left},
        )
        return SecondStep(device=static, recovery_code=True, recovery_codes_left=left)
    _second_step_failed(actor, agent, "wrong_code")
    raise ServiceError(
        "That code is not correct. Type the 6-digit code your authenticator app shows now, "
        "or one of your recovery codes.",
        fields={"code": "invalid"},
    )


def _second_step_failed(actor: Actor, agent: Agent, reason: str) -> None:
    record(
        actor=actor,
        action="auth.second_step_failed",
        target=agent,
        target_label=actor.label,
        after={"reason": reason, "ip": actor.ip},
    )
