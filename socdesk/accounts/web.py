"""Pieces every console view shares: the signed-in agent, their time zone, service errors as pages."""

from __future__ import annotations

from functools import wraps
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from socdesk.accounts.models import Agent
from socdesk.accounts.services import agent_for_user
from socdesk.core.actor import Actor, client_ip
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError, StaleVersion


def agent_zone(agent: Agent):
    """The agent's time zone; an unknown name falls back to the server's zone instead of failing."""
    try:
        return ZoneInfo(agent.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def agent_view(view):
    """Require a signed-in agent, activate their time zone, and turn NotFound into a 404 page.

    Sets `request.agent` and `request.actor` for the view.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            agent = agent_for_user(request.user)
        except Agent.DoesNotExist:
            return render(
                request,
                "403.html",
                {"message": "Your login has no agent profile; ask an administrator to create one."},
                status=403,
            )
        request.agent = agent
        request.actor = Actor.for_agent(agent, ip=client_ip(request))
        with timezone.override(agent_zone(agent)):
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from None

    return wrapper


def admin_view(view):
    """An agent view that exists only for admins: everyone else gets the same 404 as a missing page."""

    @wraps(view)
    def inner(request, *args, **kwargs):
        if not request.agent.is_admin:
            raise Http404("Page not found.")
        return view(request, *args, **kwargs)

    return agent_view(inner)


def error_status(exc: ServiceError) -> int:
    """The HTTP status a refused change answers with on a plain (non-htmx) request."""
    if isinstance(exc, StaleVersion):
        return 409
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, NotFound):
        return 404
    return 400
