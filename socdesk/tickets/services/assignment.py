"""Who works a ticket and where it lives: assign, claim, release, transfer to another department."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Department, Team
from socdesk.accounts.selectors import agent_can
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.core.text import clean_text
from socdesk.tickets.choices import Status
from socdesk.tickets.history import assignment_words, transfer_consequences
from socdesk.tickets.models import Ticket
from socdesk.tickets.services.steps import (
    add_event_entry,
    assignee_fits,
    check_assignment,
    check_version,
    key_department,
    lock_ticket,
    record_ticket_event,
    require_perm,
    touch,
)

# A transfer's reason is a sentence or two for the receiving department, not a report.
TRANSFER_REASON_MAX = 1000


@transaction.atomic
def ticket_assign(
    *,
    actor: Actor,
    ticket: Ticket,
    agent: Agent | None = None,
    team: Team | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Give the ticket to an agent and/or a team (None clears that side); the thread line names only
    the sides that changed."""
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.ASSIGN, ticket)
    check_version(ticket, expected_version)
    # Only the side that changes is checked: keeping an assignee who has since lost their role while
    # setting the team is the agent's choice to leave them, not a new assignment.
    check_assignment(
        ticket.department,
        agent if agent is not None and agent.pk != ticket.assignee_id else None,
        team if team is not None and team.pk != ticket.team_id else None,
    )
    before = {"assignee": ticket.assignee_id, "team": ticket.team_id}
    if before == {"assignee": agent.pk if agent else None, "team": team.pk if team else None}:
        raise ServiceError("The ticket is already assigned that way.")
    words = assignment_words((ticket.assignee, ticket.team), (agent, team))
    now = timezone.now()
    ticket.assignee, ticket.team = agent, team
    touch(ticket, actor, now)
    ticket.save(update_fields=["assignee", "team", "version", "last_activity_at", "acknowledged_at"])
    add_event_entry(ticket, actor, f"{actor.label} {words}.", now)
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
    *,
    actor: Actor,
    ticket: Ticket,
    department: Department,
    reason: str,
    expected_version: int | None = None,
) -> Ticket:
    """Move the ticket to another department, saying why; the assignee and team stay when they still
    fit the new department (see `assignee_fits`) and are cleared otherwise, and the thread line says
    which."""
    reason = clean_text(reason or "").strip()
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
    if not reason:
        raise ServiceError(
            f"Say why the ticket goes to {department.name}: the reason is kept in its thread for the "
            "agents who receive it.",
            fields={"reason": "required"},
        )
    if len(reason) > TRANSFER_REASON_MAX:
        raise ServiceError(
            f"Keep the reason under {TRANSFER_REASON_MAX:,} characters; add details as a note.",
            fields={"reason": "too_long"},
        )
    before = {"department": ticket.department_id, "assignee": ticket.assignee_id, "team": ticket.team_id}
    old_name, was = ticket.department.name, (ticket.assignee, ticket.team)
    now = timezone.now()
    ticket.department = department
    if ticket.team and ticket.team.department_id not in (None, department.pk):
        ticket.team = None
    if ticket.assignee and not assignee_fits(department, ticket.assignee, ticket.team):
        ticket.assignee = None
    touch(ticket, actor, now)
    ticket.save(
        update_fields=["department", "team", "assignee", "version", "last_activity_at", "acknowledged_at"]
    )
    consequences = transfer_consequences(department, was, (ticket.assignee, ticket.team))
    add_event_entry(
        ticket,
        actor,
        f"{actor.label} transferred the ticket from {old_name} to {department.name}. "
        + (f"{consequences} " if consequences else "")
        + f"Reason: {reason}",
        now,
    )
    record_ticket_event(
        actor,
        "ticket.transferred",
        ticket,
        before=before,
        after={
            "department": department.pk,
            "assignee": ticket.assignee_id,
            "team": ticket.team_id,
            "reason": reason,
        },
    )
    return ticket
