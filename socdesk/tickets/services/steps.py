"""Steps every ticket service takes: lock the row, check permission and version, touch, record.

Internal to the services package; views and other apps call the services, never these steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Department, Team
from socdesk.accounts.selectors import agent_can
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.tickets import hooks
from socdesk.tickets.choices import EntryKind
from socdesk.tickets.history import stale_version_error
from socdesk.tickets.models import ThreadEntry, Ticket


def lock_ticket(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock so concurrent changes queue instead of overwriting."""
    return Ticket.objects.select_for_update().select_related("department").get(pk=ticket.pk)


def require_perm(actor: Actor, perm: str, ticket: Ticket) -> None:
    """Agents and their personal tokens need the permission; keys and jobs are checked upstream."""
    if actor.agent is None:
        return
    if not agent_can(actor.agent, Perm.VIEW, ticket):
        raise NotFound(f"Ticket {ticket.number} was not found.")
    if not agent_can(actor.agent, perm, ticket):
        raise PermissionDenied(
            f"You do not have the {Perm(perm).label.lower()} permission in {ticket.department.name}."
        )


def key_department(actor: Actor) -> Department | None:
    """The department an API key without an agent is bound to (None for every other actor).

    Such a key sees and opens tickets in its department only, so it may not move a ticket out of it
    either: the ticket would leave the key's sight into a department where it cannot create.
    """
    if actor.kind != "apikey" or actor.agent is not None:
        return None
    department: Department | None = getattr(actor.obj, "department", None)
    return department


def check_version(ticket: Ticket, expected_version: int | None) -> None:
    """Refuse an edit based on another version than the stored one, naming what changed since."""
    if expected_version is not None and expected_version != ticket.version:
        raise stale_version_error(ticket, expected_version)


def check_assignment(department: Department, agent: Agent | None, team: Team | None) -> None:
    """The one assignment rule, for a new ticket and a reassigned one alike, whatever the channel.

    An assignee must be active and may work the department's tickets (see `assignee_fits`); a team
    must belong to the department (or to none).
    """
    if agent is not None and not agent.user.is_active:
        raise ServiceError(f"{agent.name} is not an active agent.", fields={"assignee": "inactive"})
    if team is not None and team.department_id not in (None, department.pk):
        raise ServiceError(
            f"The team {team.name} belongs to another department.", fields={"team": "other_department"}
        )
    if agent is not None and not assignee_fits(department, agent, team):
        raise ServiceError(
            f"{agent.name} holds no role in {department.name}, so cannot be given its tickets; choose "
            "another agent, grant them a role there, or transfer the ticket first.",
            fields={"assignee": "no_access"},
        )


def assignee_fits(department: Department, agent: Agent, team: Team | None) -> bool:
    """An agent may hold a department's ticket when they are an admin, hold a role in the department,
    or belong to the ticket's team (a team is how a department lends a ticket to a specialist)."""
    if agent.is_admin or department.pk in agent_department_ids(agent):
        return True
    return team is not None and team.members.filter(pk=agent.pk).exists()


def agent_department_ids(agent: Agent) -> set[int]:
    """The departments where the agent holds a role (read from the agent's prefetched accesses when the
    caller loaded them, e.g. auto-assignment for a batch, so a batch costs no query per ticket)."""
    return {access.department_id for access in agent.accesses.all()}


def touch(ticket: Ticket, actor: Actor, now: datetime, *, acknowledges: bool = True) -> None:
    """Bump the version and activity time; the first agent action acknowledges the ticket."""
    ticket.version += 1
    ticket.last_activity_at = now
    if acknowledges and actor.agent is not None and ticket.acknowledged_at is None:
        ticket.acknowledged_at = now


def add_event_entry(ticket: Ticket, actor: Actor, text: str, now: datetime) -> ThreadEntry:
    """A system line in the thread saying who changed what."""
    return ThreadEntry.objects.create(
        ticket=ticket,
        kind=EntryKind.EVENT,
        author_agent=actor.agent,
        author_label=actor.label,
        body=text,
        created_at=now,
    )


def record_ticket_event(
    actor: Actor,
    action: str,
    ticket: Ticket,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """The audit event of one ticket change (`after` always carries the version it produced), then the
    after-change hooks (socdesk.tickets.hooks)."""
    after = dict(after or {})
    after["version"] = ticket.version
    record(
        actor=actor,
        action=action,
        target=ticket,
        target_label=ticket_label(ticket),
        before=before,
        after=after,
    )
    hooks.run_after_change(hooks.TicketChange(actor, action, ticket, dict(before or {}), after))


def ticket_label(ticket: Ticket) -> str:
    """How the audit trail names a ticket."""
    return f"{ticket.number} {ticket.subject}"[:200]


def lock_tickets(*tickets: Ticket) -> list[Ticket]:
    """Re-read several tickets under row locks, taken in id order (two services locking the same pair in
    opposite order would deadlock); returned in the order given."""
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update()
        .select_related("department")
        .filter(pk__in=[t.pk for t in tickets])
        .order_by("pk")
    }
    return [locked[t.pk] for t in tickets]
