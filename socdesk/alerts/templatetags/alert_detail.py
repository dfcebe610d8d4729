"""Alert pieces of the ticket page that the tickets app cannot build itself (it sits below alerts).

`{% ticket_alert_summary ticket as summary %}`: the ticket's alerts in one aggregate (None without any);
`{% include "alerts/_ticket_alert_header.html" %}` with it writes "Alert x37 — first seen ..., last seen ...,
firing" in the header.
`{{ url|http_link }}`: the URL when it is http(s), else '' (a second guard after the adapters').
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

from socdesk.alerts.selectors import TicketAlertSummary, ticket_alert_summary
from socdesk.tickets.models import Ticket

register = template.Library()


@register.simple_tag(name="ticket_alert_summary")
def ticket_alert_summary_tag(ticket: Ticket) -> TicketAlertSummary | None:
    return ticket_alert_summary(ticket)


@register.filter
def http_link(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(str(url).strip())
    return str(url).strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else ""
