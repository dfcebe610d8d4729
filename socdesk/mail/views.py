"""The console's mail pages: sending a failed reply e-mail again; a received e-mail's HTML version; the
composer's canned-response picker."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from socdesk.accounts.web import agent_view
from socdesk.core.errors import NotFound, ServiceError
from socdesk.mail.canned import (
    canned_render,
    canned_response_get_from,
    canned_responses_for_ticket,
)
from socdesk.mail.inbound_html import html_policy, inbound_html_drawn, inbound_html_get_for_agent
from socdesk.mail.outbound import outbound_get_for_agent, outbound_retry
from socdesk.tickets.selectors import ticket_get_for_agent

PICKER_ROWS = 20  # the picker shows the first matches; typing narrows them


@agent_view
@require_POST
def outbound_retry_view(request, message_id: int) -> HttpResponse:
    """Retry a failed reply e-mail, then back to its ticket where its line says what happened."""
    message = outbound_get_for_agent(request.agent, message_id)
    try:
        message = outbound_retry(actor=request.actor, message=message)
    except NotFound:
        raise
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        message.refresh_from_db()  # the worker may have sent it already
        if message.status == "sent":
            messages.success(request, f"E-mail sent to {message.to_display}.")
        else:
            messages.success(request, f"E-mail to {message.to_display} queued again.")
    return redirect("tickets:detail", message.ticket.number)


@agent_view
@require_GET
def inbound_html(request, message_id: int) -> HttpResponse:
    """GET: the HTML version of a received e-mail, as its own sandboxed page with its inline images drawn
    (`?images=1`: with its remote images too); 404 for an agent who cannot see its ticket."""
    message = inbound_html_get_for_agent(request.agent, message_id)
    remote_images = request.GET.get("images") == "1"
    response = render(
        request,
        "mail/inbound_html.html",
        {
            "message": message,
            "ticket": message.ticket,
            "remote_images": remote_images,
            "drawn": inbound_html_drawn(message),
        },
    )
    # Set here, so the console's own policy (socdesk.settings CONTENT_SECURITY_POLICY) does not replace it.
    response["Content-Security-Policy"] = html_policy(remote_images)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Frame-Options"] = "DENY"
    return response


# --- canned responses in the composer (socdesk.mail.canned) --------------------------------------------


@agent_view
@require_GET
def canned_picker(request, number: str) -> HttpResponse:
    """GET (htmx): the canned responses the agent may insert on this ticket, filtered by `?q=`; 404 when
    the agent cannot see the ticket."""
    ticket = ticket_get_for_agent(request.agent, number)
    search = request.GET.get("q", "")[:200]
    rows = list(canned_responses_for_ticket(request.agent, ticket, search)[:PICKER_ROWS])
    return render(request, "mail/_canned_picker.html", {"rows": rows, "ticket": ticket, "search": search})


@agent_view
@require_GET
def canned_insert(request, number: str, pk: int) -> HttpResponse:
    """GET (htmx): one canned response rendered for this ticket (its variables filled with the ticket's
    values) with the files it attaches to the reply; 404 for a ticket or a response out of sight."""
    ticket = ticket_get_for_agent(request.agent, number)
    canned = canned_response_get_from(canned_responses_for_ticket(request.agent, ticket), pk)
    text = canned_render(canned, ticket, agent=request.agent)
    return render(request, "mail/_canned_insert.html", {"canned": canned, "text": text})
