"""Tickets exported as CSV or JSON, streamed: the list's filters, every matching ticket at once.

Mounted before the tickets router, so `/tickets/export` is this endpoint and not a ticket's number.
"""

from __future__ import annotations

from typing import Literal

from ninja import Query, Router
from pydantic import Field

from socdesk.api.v1.schemas import ErrorOut
from socdesk.api.v1.security import Caller, requires
from socdesk.api.v1.tickets import TicketFilterParams
from socdesk.core.errors import ServiceError
from socdesk.tickets.export import export_queryset, export_response
from socdesk.tickets.filters import TicketFilter

router = Router(tags=["tickets"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut}
# What the list takes that an export does not: an export is every matching ticket, in one response.
NOT_FILTERS = ("format", "cursor", "limit", "page")


class ExportParams(TicketFilterParams):
    """The list's filters and sort (the default queue is all), and the format."""

    format: Literal["csv", "json"] = Field(
        "csv", description="csv (a header line, then a line per ticket) or json (an array of objects)."
    )


@router.get(
    "/tickets/export",
    response=ERRORS,
    auth=requires("tickets:read"),
    url_name="ticket_export",
    summary="Export tickets (CSV or JSON, streamed)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The tickets, streamed: CSV with a header line, or a JSON array of objects.",
                "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {}},
            }
        },
    },
)
def ticket_export(request, params: Query[ExportParams]):
    """Every ticket the caller may see that the filters select, as CSV or JSON, streamed (a million rows
    never sit in memory). Columns: number, subject, status, resolution, severity, source, department,
    team, assignee, requester_name, requester_email, alert_occurrences, the times (UTC, ISO 8601),
    custom_fields and tags. The export is recorded in the audit trail. Scope: tickets:read.
    """
    caller: Caller = request.auth
    query = request.GET.copy()
    for name in NOT_FILTERS:
        query.pop(name, None)
    ticket_filter = TicketFilter.from_querydict(query, default_queue="all", rank_by_default=False)
    errors = dict(ticket_filter.errors)
    if ticket_filter.queue == "mine" and caller.agent is None:
        errors["queue"] = "The mine queue needs an agent: use a personal token or filter by assignee."
    if errors:
        raise ServiceError("Check the filters: " + " ".join(errors.values()), fields=errors)
    qs = export_queryset(caller.visible_tickets(), ticket_filter, caller.agent)
    return export_response(
        qs, actor=caller.actor, export_format=params.format, query=query.urlencode(), via="api"
    )
