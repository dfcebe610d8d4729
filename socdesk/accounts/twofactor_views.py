"""The agent's Security page (authenticator set-up, recovery codes, turning it off) and the second step."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from socdesk.accounts import throttle, twofactor
from socdesk.accounts.services import agent_for_user
from socdesk.accounts.web import agent_view
from socdesk.audit.services import record
from socdesk.core.actor import Actor, client_ip
from socdesk.core.errors import ServiceError


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return "/"


def second_step_url(next_url: str) -> str:
    """Where the password step sends an agent who has an authenticator (called by the login view)."""
    return f"{reverse('login-verify')}?{urlencode({'next': next_url})}"


@sensitive_post_parameters("code")
@never_cache
def verify_view(request):
    """Second sign-in step: a code from the authenticator app, or a one-time recovery code."""
    # Not agent_view: request.agent stays unset, so the page shows no console navigation yet.
    if not request.user.is_authenticated:
        return redirect("login")
    if request.user.is_verified() or not twofactor.has_two_factor(request.user):
        return redirect(_next_url(request))
    agent = agent_for_user(request.user)
    actor = Actor.for_agent(agent, ip=client_ip(request))
    context = {"next": _next_url(request)}
    if request.method != "POST":
        return render(request, "accounts/verify.html", context)
    username = request.user.get_username()
    ip = actor.ip
    # Counted before the code is checked, like a password (socdesk/accounts/throttle.py).
    attempt = throttle.login_attempt(username, ip)
    lockout = attempt.lockout
    if lockout:
        record(
            actor=actor,
            action="auth.second_step_failed",
            target=agent,
            target_label=username,
            after={"reason": "throttled", "ip": ip},
        )
        response = render(request, "accounts/verify.html", {**context, "error": lockout.message}, status=429)
        response["Retry-After"] = str(lockout.retry_after)
        return response
    try:
        step = twofactor.second_step_verify(actor=actor, agent=agent, code=request.POST.get("code", ""))
    except ServiceError as exc:
        # A wrong code counts against the same limit as a wrong password.
        attempt.failed()
        return render(request, "accounts/verify.html", {**context, "error": exc.message}, status=400)
    otp_login(request, step.device)
    attempt.succeeded()
    record(
        actor=actor,
        action="auth.login",
        target=agent,
        target_label=username,
        after={"second_factor": "recovery_code" if step.recovery_code else "totp"},
    )
    if step.recovery_code:
        messages.warning(
            request,
            f"You signed in with a recovery code; {step.recovery_codes_left} left. "
            "Generate new ones on your Security page if you are running low or lost your phone.",
        )
    return redirect(_next_url(request))


@never_cache
@agent_view
def security_view(request):
    """The agent's Security page: two-factor status, set-up, recovery codes, turning it off."""
    user = request.user
    return render(
        request,
        "accounts/security.html",
        {
            "enrolled": twofactor.has_two_factor(user),
            "required": twofactor.two_factor_required(request.agent),
            "codes_left": twofactor.recovery_codes_left(user),
            "next": _next_url(request),
        },
    )


@require_POST
@agent_view
def enroll_start_view(request):
    """Make a new authenticator secret and show it (POST, so that no page load creates one)."""
    try:
        twofactor.totp_enrollment_start(actor=request.actor, agent=request.agent)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("account-security")
    # Keep where the agent was going (an agent sent here to enroll continues there afterwards).
    return redirect(f"{reverse('account-security-enroll')}?{urlencode({'next': _next_url(request)})}")


@sensitive_post_parameters("code")
@never_cache
@agent_view
def enroll_view(request):
    """Scan the QR code (or type the key), then confirm with a code; success shows the recovery codes."""
    device = twofactor.totp_device(request.user, confirmed=False)
    if device is None:
        return redirect("account-security")
    context = {
        "qr_svg": twofactor.qr_svg(device),
        "secret": twofactor.secret_for_manual_entry(device),
        "next": _next_url(request),
    }
    if request.method != "POST":
        return render(request, "accounts/enroll.html", context)
    try:
        codes = twofactor.totp_enrollment_confirm(
            actor=request.actor, agent=request.agent, code=request.POST.get("code", "")
        )
    except ServiceError as exc:
        return render(request, "accounts/enroll.html", {**context, "error": exc.message}, status=400)
    # The agent just proved the second factor: this session counts as verified.
    otp_login(request, twofactor.totp_device(request.user))
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "just_enrolled": True, "next": _next_url(request)},
    )


@sensitive_post_parameters("password", "code")
@require_POST
@never_cache
@agent_view
def recovery_codes_view(request):
    """New recovery codes (the old ones stop working), after the password and a current code."""
    try:
        codes = twofactor.recovery_codes_regenerate(
            actor=request.actor,
            agent=request.agent,
            password=request.POST.get("password", ""),
            code=request.POST.get("code", ""),
        )
    except ServiceError as exc:
        messages.error(request, f"Recovery codes were not changed. {exc.message}")
        return redirect("account-security")
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "just_enrolled": False})


@sensitive_post_parameters("password", "code")
@require_POST
@agent_view
def disable_view(request):
    """Turn two-factor sign-in off, after the password and a current code."""
    try:
        twofactor.two_factor_disable(
            actor=request.actor,
            agent=request.agent,
            password=request.POST.get("password", ""),
            code=request.POST.get("code", ""),
        )
    except ServiceError as exc:
        messages.error(request, f"Two-factor sign-in is still on. {exc.message}")
        return redirect("account-security")
    messages.success(request, "Two-factor sign-in is off for your account.")
    return redirect("account-security")
