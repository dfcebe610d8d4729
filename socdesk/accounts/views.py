"""Sign-in and sign-out for the agent console, throttled and audited."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from socdesk.accounts import throttle
from socdesk.accounts.models import Agent
from socdesk.accounts.services import agent_for_user
from socdesk.accounts.twofactor import has_two_factor
from socdesk.accounts.twofactor_views import second_step_url
from socdesk.audit.services import record
from socdesk.core.actor import Actor, client_ip


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return "/"


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    """Username and password sign-in; failures are counted and audited, too many lock the sign-in."""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    if request.method == "POST" and not settings.SOCDESK_PASSWORD_LOGIN:
        return render(
            request,
            "accounts/login.html",
            {
                "error": "Password sign-in is turned off here: use the single sign-on button.",
                "next": _next_url(request),
            },
            status=403,
        )
    form = AuthenticationForm(request, data=request.POST or None)
    status = 200
    if request.method == "POST":
        username = (request.POST.get("username") or "").strip()[:150]
        ip = client_ip(request)
        # Counted before the password hash, atomically: parallel guesses cannot all slip under the limit.
        attempt = throttle.login_attempt(username, ip)
        lockout = attempt.lockout
        if lockout:
            form = AuthenticationForm(request)
            form.initial["username"] = username
            _record_failure(username, ip, "throttled")
            response = render(
                request, "accounts/login.html", {"form": form, "error": lockout.message}, status=429
            )
            response["Retry-After"] = str(lockout.retry_after)
            return response
        if form.is_valid():
            user = form.get_user()
            try:
                agent = agent_for_user(user)
            except Agent.DoesNotExist:
                attempt.withdrawn()
                _record_failure(username, ip, "no_agent_profile")
                return render(
                    request,
                    "accounts/login.html",
                    {"form": form, "error": "This login has no agent profile; ask an administrator."},
                    status=403,
                )
            login(request, user)
            if has_two_factor(user):
                # Password accepted; the second step (twofactor_views.verify_view) finishes the sign-in,
                # clears the failure count and records auth.login. Until then earlier failures stand, so
                # signing in again with the password never resets the count of wrong codes.
                attempt.withdrawn()
                return redirect(second_step_url(_next_url(request)))
            attempt.succeeded()
            record(
                actor=Actor.for_agent(agent, ip=ip),
                action="auth.login",
                target=agent,
                target_label=user.get_username(),
            )
            return redirect(_next_url(request))
        refusal = getattr(request, "sso_refusal", None)
        if refusal is not None:
            # LDAP accepted the password but SOCdesk refuses the person (no mapped group...): a page that
            # says why, already audited by socdesk.accounts.directory, and not a guess to throttle.
            form = AuthenticationForm(request)
            form.initial["username"] = username
            attempt.withdrawn()
            return render(
                request, "accounts/login.html", {"form": form, "error": refusal.message}, status=403
            )
        attempt.failed()
        _record_failure(username, ip, "bad_credentials")
        status = 400
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)}, status=status)


def _record_failure(username: str, ip: str | None, reason: str) -> None:
    record(
        actor=Actor.anonymous(username or "(blank)", ip=ip),
        action="auth.login_failed",
        target_type="user",
        target_label=username[:200],
        after={"username": username, "ip": ip, "reason": reason},
    )


@csrf_protect
@never_cache
def logout_view(request):
    """POST signs out (audited); GET shows a button, so a link can never sign someone out."""
    if request.method == "POST":
        if request.user.is_authenticated:
            try:
                agent = request.user.agent
            except Agent.DoesNotExist:
                agent = None
            actor = (
                Actor.for_agent(agent, ip=client_ip(request))
                if agent
                else Actor.anonymous(request.user.get_username(), ip=client_ip(request))
            )
            record(actor=actor, action="auth.logout", target=agent, target_label=actor.label)
        logout(request)
        return redirect("login")
    if not request.user.is_authenticated:
        return redirect("login")
    return render(request, "accounts/logout.html")
