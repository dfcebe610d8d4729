"""The ticket page's alert pieces: the alerts panel and each alert's raw payload, loaded on demand.

Every read starts from the ticket through the agent's selector, so another department's ticket (and
any alert on it) is a 404 like a missing one.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from socdesk.accounts.web import agent_view
from socdesk.alerts.payload_view import payload_download, payload_text
from socdesk.alerts.selectors import MISSING_PAYLOAD, ticket_alert_raw, ticket_alert_rows
from socdesk.core.errors import NotFound
from socdesk.tickets.selectors import ticket_get_for_agent

NO_PAYLOAD = "No payload is stored for this alert any more: retention removed it after its set period."


@agent_view
@require_GET
def alerts_panel(request: HttpRequest, number: str) -> HttpResponse:
    """GET /tickets/<number>/alerts: the ticket's alerts (htmx swaps it into the ticket page)."""
    ticket = ticket_get_for_agent(request.agent, number)  # type: ignore[attr-defined]  # agent_view
    alerts, total = ticket_alert_rows(ticket)
    return render(request, "alerts/alerts_panel.html", {"ticket": ticket, "alerts": alerts, "total": total})


@agent_view
@require_GET
def alert_raw(request: HttpRequest, number: str, alert_id: int) -> HttpResponse:
    """GET /tickets/<number>/alerts/<id>/raw: the payload pretty-printed, cut past the page limit."""
    ticket = ticket_get_for_agent(request.agent, number)  # type: ignore[attr-defined]  # agent_view
    alert, payload = ticket_alert_raw(ticket, alert_id)
    shown = None if payload is MISSING_PAYLOAD else payload_text(payload)
    context = {"ticket": ticket, "alert": alert, "payload": shown, "no_payload": NO_PAYLOAD}
    return render(request, "alerts/alert_raw.html", context)


@agent_view
@require_GET
def alert_raw_download(request: HttpRequest, number: str, alert_id: int) -> HttpResponse:
    """GET /tickets/<number>/alerts/<id>/raw/download: the whole payload as a file, never rendered."""
    ticket = ticket_get_for_agent(request.agent, number)  # type: ignore[attr-defined]  # agent_view
    alert, payload = ticket_alert_raw(ticket, alert_id)
    if payload is MISSING_PAYLOAD:
        raise NotFound(NO_PAYLOAD)
    body, content_type, extension = payload_download(payload)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{ticket.number}-alert-{alert.pk}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
