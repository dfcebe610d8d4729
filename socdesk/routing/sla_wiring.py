"""Where the SLA joins the ticket path and the console (called once from RoutingConfig.ready).

Tickets imports nothing from routing: the SLA registers its hooks (clocks start with the ticket and
follow its changes), its two queues (At risk, Overdue) and its two queue columns (SLA due, SLA state)
through the seams tickets offers.
"""

from __future__ import annotations

from django.db.models import Q

from socdesk.routing.choices import ClockState
from socdesk.tickets.choices import OPEN_STATUSES


def register() -> None:
    """Register the SLA's hooks, queues and columns with the tickets app."""
    from socdesk.routing.services.sla_clocks import sla_clock_follow, sla_clocks_start
    from socdesk.routing.sla_display import (
        CELL_FIELDS,
        describe_escalation,
        describe_sla_change,
        sla_cell,
    )
    from socdesk.tickets.filters import queue_register, sla_condition_register
    from socdesk.tickets.history import event_describer_register
    from socdesk.tickets.hooks import hook_register
    from socdesk.tickets.rows import RowColumn, row_column_register

    hook_register(created=sla_clocks_start, changed=sla_clock_follow)
    event_describer_register("ticket.escalated", describe_escalation)
    event_describer_register("ticket.sla_changed", describe_sla_change)
    # `sla` is the clock's reverse name on Ticket (routing.TicketSLA): the condition is routing's to write.
    # The dashboard's SLA compliance drills down to the tickets whose target was met (or missed).
    sla_condition_register(lambda target, outcomes: Q(**{f"sla__{target}_state__in": outcomes}))
    queue_register(
        "at_risk", "At risk", lambda agent: Q(sla__state=ClockState.AT_RISK, status__in=OPEN_STATUSES)
    )
    queue_register(
        "overdue", "Overdue", lambda agent: Q(sla__state=ClockState.BREACHED, status__in=OPEN_STATUSES)
    )
    row_column_register(
        RowColumn(
            key="sla",
            label="SLA due",
            title="When the running SLA target (response, then resolution) is due; amber: at risk, "
            "red: overdue",
            fields=CELL_FIELDS,
            cell=sla_cell,
        )
    )
