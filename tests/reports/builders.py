"""Tickets in SOC and IT made through the real services, folded into the roll-ups the figures read."""

from __future__ import annotations

from dataclasses import dataclass

from socdesk.core.actor import Actor
from socdesk.reports.fold import fold
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_change_status, ticket_claim, ticket_create


@dataclass
class Worked:
    soc: list[Ticket]
    it: list[Ticket]


def worked_tickets(people) -> Worked:
    """SOC today: three opened (high, high, low), alice claimed the first (acknowledged) and resolved it as
    a false positive; the second is unassigned in Tier 1. IT today: two opened by carol, none resolved."""
    alice, carol = Actor.for_agent(people.alice), Actor.for_agent(people.carol)
    soc = [
        ticket_create(actor=alice, subject=f"SOC {severity} {n}", department=people.soc, severity=severity)
        for n, severity in enumerate(("high", "high", "low"))
    ]
    first = ticket_claim(actor=alice, ticket=soc[0])
    ticket_change_status(actor=alice, ticket=first, status="resolved", resolution="false_positive")
    it = [
        ticket_create(actor=carol, subject=f"IT {n}", department=people.it, severity="medium")
        for n in range(2)
    ]
    fold()
    return Worked(soc=soc, it=it)
