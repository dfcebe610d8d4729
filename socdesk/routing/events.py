"""What the routing app announces to apps above it: SLA escalations, for notifications to deliver.

The SLA scan (routing) decides who is to be told when a ticket's response or resolution target is at
risk or breached; the notifications app, above routing, registers here (its AppConfig.ready) to tell
them in the app and by email. Listeners run in the scan's transaction; one that reaches outside (mail)
does so after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socdesk.accounts.models import Agent
    from socdesk.tickets.models import Ticket


@dataclass(frozen=True)
class Escalation:
    """One escalation level reached by one ticket: `target` is "response" or "resolution", `state`
    "at_risk" or "breached"; `recipients` are the agents the level names (assignee, team lead,
    department manager), already resolved and without duplicates."""

    ticket: Ticket
    target: str
    state: str
    level: int
    recipients: tuple[Agent, ...]
    at: datetime


# Told of a batch of escalations at once (a scan's batch), so a listener writes them in a few statements.
EscalationListener = Callable[[list[Escalation]], None]
escalation_listeners: list[EscalationListener] = []


def escalation_listen(listener: EscalationListener) -> None:
    """Be told of every escalation, a batch at a time (once per listener)."""
    if listener not in escalation_listeners:
        escalation_listeners.append(listener)


def escalations_announce(escalations: list[Escalation]) -> None:
    """Tell every listener of a batch of escalations (called by the SLA scan, once per batch)."""
    if not escalations:
        return
    for listener in escalation_listeners:
        listener(escalations)
