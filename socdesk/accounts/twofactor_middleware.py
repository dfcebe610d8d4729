"""Keeps a half-signed-in session out of everything until two-factor sign-in is complete.

Two states stop a signed-in session (after django_otp's OTPMiddleware has set `is_verified`):
- the agent has an authenticator but this session has not passed the second step: only the second-step
  page and sign-out answer; everything else redirects there;
- the agent must use two-factor sign-in (admin with SOCDESK_REQUIRE_2FA_FOR_ADMINS, or a role's flag) but
  has not enrolled: only the security page (enrollment) and sign-out answer.
The console, the Django admin and the API's console-session authentication are all behind this one check.
Requests without a session cookie (API keys, webhooks) are not touched, and cost nothing here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from socdesk.accounts import twofactor
from socdesk.accounts.models import Agent

# Always reachable: sign-out, static files and the health check.
_ALWAYS_OPEN = ("/logout", "/healthz")


class TwoFactorMiddleware:
    """Redirect a session that still owes the second step (or an enrollment) to the page that takes it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        path = request.path_info
        if path.startswith(settings.STATIC_URL) or path in _ALWAYS_OPEN:
            return self.get_response(request)
        owed = self._owed_step(request)
        if owed is None:
            return self.get_response(request)
        if path.startswith("/api/"):
            # For the API an unfinished sign-in is no session at all: API keys still work, the
            # session answers 401 like any unauthenticated call.
            request.user = AnonymousUser()
            return self.get_response(request)
        target = reverse(owed)
        if path == target or (owed == "account-security" and path.startswith(target)):
            return self.get_response(request)
        return self._send_to(request, target)

    @staticmethod
    def _owed_step(request: HttpRequest) -> str | None:
        """The URL name of the step this session still owes, or None when it may go anywhere."""
        user: Any = request.user  # OTPMiddleware's wrapper: a User with is_verified(), or AnonymousUser
        if not user.is_authenticated or user.is_verified():
            return None
        if twofactor.has_two_factor(user):
            return "login-verify"
        try:
            agent = user.agent
        except Agent.DoesNotExist:
            return None  # no agent profile: the console refuses such a login on its own
        if twofactor.two_factor_required(agent):
            return "account-security"
        return None

    @staticmethod
    def _send_to(request: HttpRequest, target: str) -> HttpResponse:
        if request.headers.get("HX-Request"):
            # htmx would swap a redirected page into a fragment: ask it to load the whole page instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        if request.method == "GET":
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return redirect(target)  # a form posted from a stale page: nothing is done with it
