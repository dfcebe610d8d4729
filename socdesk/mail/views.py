"""The console's mail actions: sending a failed reply e-mail again."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from socdesk.accounts.web import agent_view
from socdesk.core.errors import NotFound, ServiceError
from socdesk.mail.outbound import outbound_get_for_agent, outbound_retry


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
