"""SLA plans and tickets for the SLA clock and scan tests, built through the services."""

from __future__ import annotations

from dataclasses import dataclass

from socdesk.accounts.testing import Personas
from socdesk.core.actor import Actor
from socdesk.routing.models import SLAPlan, TicketSLA
from socdesk.routing.services.sla import (
    EscalationDefinition,
    PlanDefinition,
    ScheduleDefinition,
    schedule_create,
    sla_plan_create,
)
from socdesk.routing.services.sla_clocks import department_sla_set
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create

SETUP = Actor.system("test-setup")


@dataclass
class Plans:
    """Standard (SOC's department plan, with three escalation levels), Fast and Slow (no escalations)."""

    standard: SLAPlan
    fast: SLAPlan
    slow: SLAPlan


def make_plans(people: Personas, *, soc_plan: bool = True) -> Plans:
    always = schedule_create(actor=SETUP, definition=ScheduleDefinition(name="24/7", always=True))
    standard = sla_plan_create(
        actor=SETUP,
        definition=PlanDefinition(
            name="Standard",
            schedule=always,
            targets={"medium": (120, 480), "high": (60, 240), "critical": (15, 60)},
            escalations=[
                EscalationDefinition(trigger="at_risk", target="response", notify="assignee"),
                EscalationDefinition(trigger="breached", target="response", notify="team_lead"),
                EscalationDefinition(
                    trigger="breached",
                    target="resolution",
                    notify="department_manager",
                    reassign_team=people.tier1,
                    raise_severity=True,
                ),
            ],
        ),
    )
    fast = sla_plan_create(
        actor=SETUP,
        definition=PlanDefinition(
            name="Fast", schedule=always, targets={"medium": (10, 30), "high": (5, 20), "critical": (5, 10)}
        ),
    )
    slow = sla_plan_create(
        actor=SETUP,
        definition=PlanDefinition(
            name="Slow",
            schedule=always,
            targets={"medium": (600, 6000), "high": (600, 6000)},
            is_default=True,
        ),
    )
    if soc_plan:
        department_sla_set(actor=SETUP, department=people.soc, plan=standard, manager=people.bob)
    return Plans(standard=standard, fast=fast, slow=slow)


def open_ticket(
    people: Personas, *, severity: str = "high", department=None, subject="Beaconing from WS-042", **extra
) -> Ticket:
    return ticket_create(
        actor=Actor.for_agent(people.admin),
        subject=subject,
        department=department or people.soc,
        body="Periodic callbacks to a rare domain.",
        requester_email="dana@example.test",
        severity=severity,
        **extra,
    )


def clock_of(ticket: Ticket) -> TicketSLA:
    return TicketSLA.objects.get(ticket_id=ticket.pk)
