"""The ticket page's "Merge into...": the agent names the ticket that survives, sees what would move,
then confirms (the same form posted again with `confirm`)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from socdesk.accounts.web import agent_view, error_status
from socdesk.core.errors import ServiceError
from socdesk.tickets import services
from socdesk.tickets.forms import MergeForm
from socdesk.tickets.merge_movers import merge_preview
from socdesk.tickets.selectors import ticket_get_for_agent
from socdesk.tickets.views import render_ticket


@agent_view
@require_POST
def ticket_merge_review(request, number):
    """First post: the confirm step (what moves where); second post (`confirm`): merge, then show the
    survivor."""
    ticket = ticket_get_for_agent(request.agent, number)
    form = MergeForm(request.POST, auto_id="merge_%s")
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return render_ticket(request, ticket, bound={"merge": form}, error=str(first), status=400)
    try:
        target = ticket_get_for_agent(request.agent, form.cleaned_data["number"])
        if not form.cleaned_data["confirm"]:
            if target.pk == ticket.pk:
                raise ServiceError(f"A ticket cannot be merged into itself ({ticket.number}).")
            review = {"target": target, "moves": merge_preview(ticket, target)}
            return render_ticket(request, ticket, bound={"merge": form}, merge_review=review)
        services.ticket_merge(actor=request.actor, source=ticket, target=target)
    except ServiceError as exc:
        return render_ticket(
            request, ticket, bound={"merge": form}, error=exc.message, status=error_status(exc)
        )
    messages.success(
        request,
        f"{ticket.number} was merged into {target.number}. You can undo it from its line below until "
        "the end of the day.",
    )
    if request.htmx:
        return HttpResponseClientRedirect(reverse("tickets:detail", kwargs={"number": target.number}))
    return redirect("tickets:detail", number=target.number)
