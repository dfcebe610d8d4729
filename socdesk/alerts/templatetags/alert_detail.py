"""Alert pieces of the ticket page that the tickets app cannot build itself (it sits below alerts).

`{% ticket_alert_summary ticket as summary %}`: the ticket's alerts in one aggregate (None without any);
`{% include "alerts/_ticket_alert_header.html" %}` with it writes "Alert x37 — first seen ..., last seen ...,
firing" in the header.
`{{ url|http_link }}`: the URL when it is http(s), else '' (the adapters' rule again, for older links).
"""

from __future__ import annotations

from django import template

from socdesk.alerts.adapters.base import web_link
from socdesk.alerts.selectors import TicketAlertSummary, ticket_alert_summary
from socdesk.tickets.models import Ticket

register = template.Library()


@register.simple_tag(name="ticket_alert_summary")
def ticket_alert_summary_tag(ticket: Ticket) -> TicketAlertSummary | None:
    return ticket_alert_summary(ticket)


@register.filter
def http_link(url: str | None) -> str:
    """The stored link when it is one the console may render (the adapters' own rule), else ''."""
    return web_link(url)
