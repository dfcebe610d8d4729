"""The console's notifications: the bell's list (htmx), the full page, marking read, preferences."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.onboarding import outbound_mail_configured
from socdesk.accounts.web import agent_view
from socdesk.notifications import services
from socdesk.notifications.choices import Kind
from socdesk.notifications.selectors import (
    notification_get_for_agent,
    notifications_for_agent,
    preferences_for,
    unread_count,
)

# The bell's list: the newest few; the full page has the rest.
DROPDOWN_SIZE = 10
PAGE_SIZE = 50


def _back(request, default: str) -> str:
    """Where to go after a POST: the page it came from (same host only), else `default`."""
    back = request.POST.get("next") or ""
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return default


@agent_view
@require_GET
def dropdown(request) -> HttpResponse:
    """The bell's list (loaded by htmx when the bell is opened)."""
    rows = list(notifications_for_agent(request.agent)[:DROPDOWN_SIZE])
    return render(
        request,
        "notifications/_dropdown.html",
        {"notifications": rows, "unread": unread_count(request.agent), "next": request.GET.get("next", "")},
    )


@agent_view
@require_GET
def notification_list(request) -> HttpResponse:
    """Every notification of the agent, newest first, 50 a page; `?unread=1` only the unread ones."""
    unread_only = request.GET.get("unread") == "1"
    rows = notifications_for_agent(request.agent, unread_only=unread_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread_only": unread_only, "unread": unread_count(request.agent)},
    )


@agent_view
@require_POST
def notification_open(request, notification_id: int) -> HttpResponse:
    """Mark a notification read and go to its ticket."""
    notification = notification_get_for_agent(request.agent, notification_id)
    services.notification_mark_read(actor=request.actor, notification=notification)
    return redirect("tickets:detail", number=notification.ticket.number)


@agent_view
@require_POST
def notification_read(request, notification_id: int) -> HttpResponse:
    """Mark a notification read and stay where the agent was."""
    notification = notification_get_for_agent(request.agent, notification_id)
    services.notification_mark_read(actor=request.actor, notification=notification)
    return redirect(_back(request, reverse("notifications:list")))


@agent_view
@require_POST
def notifications_read_all(request) -> HttpResponse:
    """Mark every notification of the agent read."""
    count = services.notifications_mark_all_read(actor=request.actor)
    messages.success(request, f"Marked {count} notification{'' if count == 1 else 's'} read.")
    return redirect(_back(request, reverse("notifications:list")))


@agent_view
@require_http_methods(["GET", "POST"])
def preferences(request) -> HttpResponse:
    """What the agent is told of, in the app and by email: one row per kind, two boxes each."""
    if request.method == "POST":
        choices = {
            kind: (request.POST.get(f"{kind}-in_app") == "on", request.POST.get(f"{kind}-email") == "on")
            for kind in Kind.values
        }
        services.notification_preferences_set(actor=request.actor, choices=choices)
        messages.success(request, "Your notification preferences are saved.")
        return redirect("notifications:preferences")
    current = preferences_for(request.agent)
    rows = [
        {"kind": kind, "label": label, "in_app": current[kind][0], "email": current[kind][1]}
        for kind, label in Kind.choices
    ]
    return render(
        request,
        "notifications/preferences.html",
        {
            "rows": rows,
            "mail_configured": outbound_mail_configured(),
            "has_address": bool(request.agent.user.email),
        },
    )
