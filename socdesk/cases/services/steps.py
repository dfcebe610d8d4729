"""Steps every task service takes: lock the ticket, check the actor may edit it, check an owner, record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Team
from socdesk.accounts.selectors import agent_can
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.tickets.models import Ticket
from socdesk.tickets.services.activity import ticket_activity_touch


def lock_ticket(ticket: Ticket) -> Ticket:
    """The ticket re-read under a row lock: two changes to one ticket's tasks queue (orders stay whole)."""
    return Ticket.objects.select_for_update().select_related("department").get(pk=ticket.pk)


def require_edit(actor: Actor, ticket: Ticket) -> None:
    """Tasks are worked like the ticket is edited: agents need the edit permission, and one who may
    not see the ticket is told it does not exist. Keys and system jobs are checked by their channel."""
    if actor.agent is None:
        return
    if not agent_can(actor.agent, Perm.VIEW, ticket):
        raise NotFound(f"Ticket {ticket.number} was not found.")
    if not agent_can(actor.agent, Perm.EDIT, ticket):
        raise PermissionDenied(f"You do not have the edit tickets permission in {ticket.department.name}.")


def check_owner(ticket: Ticket, assignee: Agent | None, team: Team | None) -> None:
    """A task's assignee is an active agent who can see the ticket; its team is of the ticket's department."""
    if assignee is not None:
        if not assignee.user.is_active:
            raise ServiceError(f"{assignee.name} is not an active agent.", fields={"assignee": "inactive"})
        if not agent_can(assignee, Perm.VIEW, ticket):
            raise ServiceError(
                f"{assignee.name} cannot see tickets of {ticket.department.name}, so cannot be given this "
                "task; choose another agent.",
                fields={"assignee": "no_access"},
            )
    if team is not None and team.department_id not in (None, ticket.department_id):
        raise ServiceError(
            f"The team {team.name} belongs to another department than {ticket.department.name}.",
            fields={"team": "other_department"},
        )


def record_task_event(
    actor: Actor,
    action: str,
    ticket: Ticket,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """The audit event of one task change, on the ticket (so its history shows it), and the ticket's
    last activity moved."""
    record(
        actor=actor,
        action=action,
        target=ticket,
        target_label=f"{ticket.number} {ticket.subject}"[:200],
        before=before,
        after=after,
    )
    ticket_activity_touch(ticket=ticket, now=now)
