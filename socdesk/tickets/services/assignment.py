"""Who works a ticket and where it lives: assign, claim, release, transfer to another department."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Department, Team
from socdesk.accounts.selectors import agent_can
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.tickets.choices import Status
from socdesk.tickets.models import Ticket
from socdesk.tickets.services.steps import (
    add_event_entry,
    agent_department_ids,
    check_assignment,
    check_version,
    key_department,
    lock_ticket,
    record_ticket_event,
    require_perm,
    touch,
)


@transaction.atomic
def ticket_assign(
    *,
    actor: Actor,
    ticket: Ticket,
    agent: Agent | None = None,
    team: Team | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Give the ticket to an agent and/or a team (None clears that side)."""
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.ASSIGN, ticket)
    check_version(ticket, expected_version)
    check_assignment(ticket.department, agent, team)
    in_team = team is not None and agent is not None and team.members.filter(pk=agent.pk).exists()
    if agent is not None and not (
        agent.is_admin or ticket.department_id in agent_department_ids(agent) or in_team
    ):
        raise ServiceError(
            f"{agent.name} holds no role in {ticket.department.name}; "
            "grant one or transfer the ticket first.",
            fields={"assignee": "no_access"},
        )
    before = {"assignee": ticket.assignee_id, "team": ticket.team_id}
    if before == {"assignee": agent.pk if agent else None, "team": team.pk if team else None}:
        raise ServiceError("The ticket is already assigned that way.")
    now = timezone.now()
    ticket.assignee, ticket.team = agent, team
    touch(ticket, actor, now)
    ticket.save(update_fields=["assignee", "team", "version", "last_activity_at", "acknowledged_at"])
    who = (
        ", ".join(filter(None, [agent.name if agent else "", f"team {team.name}" if team else ""]))
        or "nobody"
    )
    add_event_entry(ticket, actor, f"{actor.label} assigned the ticket to {who}.", now)
    record_ticket_event(
        actor,
        "ticket.assigned",
        ticket,
        before=before,
        after={"assignee": ticket.assignee_id, "team": ticket.team_id},
    )
    return ticket


@transaction.atomic
def ticket_claim(*, actor: Actor, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """The acting agent takes the ticket; a new ticket moves to in progress."""
    if actor.agent is None:
        raise ServiceError("Only an agent can claim a ticket.")
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.VIEW, ticket)
    check_version(ticket, expected_version)
    if ticket.assignee_id == actor.agent.pk:
        raise ServiceError("You already own this ticket.")
    if ticket.assignee_id is not None and not agent_can(actor.agent, Perm.ASSIGN, ticket):
        raise PermissionDenied(f"The ticket belongs to {ticket.assignee}; ask them or a lead to reassign it.")
    if not ticket.is_open:
        raise ServiceError("Reopen the ticket before claiming it.")
    before = {"assignee": ticket.assignee_id, "status": ticket.status}
    now = timezone.now()
    ticket.assignee = actor.agent
    if ticket.status == Status.NEW:
        ticket.status = Status.IN_PROGRESS
    touch(ticket, actor, now)
    ticket.save(update_fields=["assignee", "status", "version", "last_activity_at", "acknowledged_at"])
    add_event_entry(ticket, actor, f"{actor.label} claimed the ticket.", now)
    record_ticket_event(
        actor,
        "ticket.claimed",
        ticket,
        before=before,
        after={"assignee": actor.agent.pk, "status": ticket.status},
    )
    return ticket


@transaction.atomic
def ticket_release(*, actor: Actor, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """Drop the ticket's assignee, putting it back in the unassigned queue."""
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.VIEW, ticket)
    check_version(ticket, expected_version)
    if ticket.assignee_id is None:
        raise ServiceError("The ticket is not assigned to anyone.")
    if (
        actor.agent is not None
        and ticket.assignee_id != actor.agent.pk
        and not agent_can(actor.agent, Perm.ASSIGN, ticket)
    ):
        raise PermissionDenied("Only the owner or an agent who may assign can release this ticket.")
    before = {"assignee": ticket.assignee_id}
    now = timezone.now()
    ticket.assignee = None
    touch(ticket, actor, now)
    ticket.save(update_fields=["assignee", "version", "last_activity_at", "acknowledged_at"])
    add_event_entry(ticket, actor, f"{actor.label} released the ticket.", now)
    record_ticket_event(actor, "ticket.released", ticket, before=before, after={"assignee": None})
    return ticket


@transaction.atomic
def ticket_transfer(
    *, actor: Actor, ticket: Ticket, department: Department, expected_version: int | None = None
) -> Ticket:
    """Move the ticket to another department; assignee and team are cleared unless they still fit."""
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.TRANSFER, ticket)
    bound = key_department(actor)
    if bound is not None and department.pk != bound.pk:
        raise PermissionDenied(
            f"This API key is limited to the {bound.name} department; it may not move tickets to "
            f"{department.name}.",
            fields={"department": "forbidden"},
        )
    check_version(ticket, expected_version)
    if department.pk == ticket.department_id:
        raise ServiceError(f"The ticket is already in {department.name}.")
    before = {"department": ticket.department_id, "assignee": ticket.assignee_id, "team": ticket.team_id}
    old_name = ticket.department.name
    now = timezone.now()
    ticket.department = department
    if ticket.team and ticket.team.department_id not in (None, department.pk):
        ticket.team = None
    if (
        ticket.assignee
        and not ticket.assignee.is_admin
        and department.pk not in agent_department_ids(ticket.assignee)
    ):
        ticket.assignee = None
    touch(ticket, actor, now)
    ticket.save(
        update_fields=["department", "team", "assignee", "version", "last_activity_at", "acknowledged_at"]
    )
    add_event_entry(
        ticket, actor, f"{actor.label} transferred the ticket from {old_name} to {department.name}.", now
    )
    record_ticket_event(
        actor,
        "ticket.transferred",
        ticket,
        before=before,
        after={"department": department.pk, "assignee": ticket.assignee_id, "team": ticket.team_id},
    )
    return ticket
