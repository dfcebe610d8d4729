"""The ticket page's SLA clock, which the tickets app cannot build itself (it sits below routing).

`{% ticket_sla_clock ticket %}` renders routing/_sla_clock.html: the plan, the running target's remaining
working time (computed on the server) and each target's due time and state; nothing without a plan.
"""

from __future__ import annotations

from typing import Any

from django import template

from socdesk.routing.sla_display import ticket_sla_clock
from socdesk.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("routing/_sla_clock.html")
def ticket_sla_clock_panel(ticket: Ticket) -> dict[str, Any]:
    return {"clock": ticket_sla_clock(ticket)}
