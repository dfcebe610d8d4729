"""The console's export of a queue, saved search or search as CSV or JSON (docs/console.md#export)."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from socdesk.accounts.web import agent_view
from socdesk.tickets.export import FORMATS, export_queryset, export_response
from socdesk.tickets.filters import TicketFilter
from socdesk.tickets.selectors import tickets_visible_to

# The queue's own parameters that are not filters.
NOT_FILTERS = ("format", "page")


@agent_view
@require_GET
def queue_export(request):
    """GET ?<the queue's filters>&format=csv|json: every ticket of that queue the agent may see, streamed
    as a download, in the queue's order."""
    export_format = request.GET.get("format", "csv")
    if export_format not in FORMATS:
        return HttpResponse(
            f"There is no export format {export_format!r}; use csv or json.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    query = request.GET.copy()
    for name in NOT_FILTERS:
        query.pop(name, None)
    ticket_filter = TicketFilter.from_querydict(query)
    if ticket_filter.errors:
        return HttpResponse(
            "The export was not made: " + " ".join(ticket_filter.errors.values()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    qs = export_queryset(tickets_visible_to(request.agent), ticket_filter, request.agent)
    return export_response(
        qs, actor=request.actor, export_format=export_format, query=query.urlencode(), via="console"
    )
