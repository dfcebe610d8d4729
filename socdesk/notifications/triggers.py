"""Who is told of what: the ticket hooks and the SLA escalation listener of the notifications app.

Each runs in the transaction of the change it reports and reads what it needs in a fixed number of
queries, whatever the size of the batch (an alert flood opens hundreds of tickets at once). Nobody is
ever told of their own action.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, DepartmentAccess, Team
from socdesk.accounts.selectors import agent_can
from socdesk.core.actor import Actor
from socdesk.notifications.choices import Kind
from socdesk.notifications.mentions import mentioned_usernames
from socdesk.notifications.selectors import agents_asking_for
from socdesk.notifications.services import NotificationDraft, notifications_create
from socdesk.notifications.tasks import send_after_commit
from socdesk.routing.events import Escalation, escalation_listen
from socdesk.tickets.hooks import TicketChange, hook_register
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import TicketDraft

# (recipient id, kind, ticket, text, actor label): what a hook decided, before the agents are read.
Pending = tuple[int, str, Ticket, str, str]

ASSIGNING = ("ticket.assigned", "ticket.claimed", "ticket.transferred")


def register() -> None:
    """Called once when the app loads (NotificationsConfig.ready)."""
    hook_register(created=tickets_created, changed=ticket_changed)
    escalation_listen(escalations_reached)


def _notify(pending: list[Pending], now: datetime | None = None) -> None:
    if not pending:
        return
    agents = Agent.objects.select_related("user").in_bulk({p[0] for p in pending})
    drafts = [
        NotificationDraft(agents[agent_id], kind, ticket, text, actor_label)
        for agent_id, kind, ticket, text, actor_label in pending
        if agent_id in agents
    ]
    send_after_commit(notifications_create(drafts, now=now).email_ids)


def _actor_agent_id(actor: Actor) -> int | None:
    return actor.agent.pk if actor.agent is not None else None


def _team_members(team_ids: Iterable[int]) -> dict[int, tuple[str, list[int]]]:
    """{team id: (team name, member ids)} in one query."""
    ids = set(team_ids)
    if not ids:
        return {}
    found: dict[int, tuple[str, list[int]]] = {}
    rows = Team.members.through.objects.filter(team_id__in=ids).select_related("team")
    for row in rows:
        found.setdefault(row.team_id, (row.team.name, []))[1].append(row.agent_id)
    return found


def _department_watchers(department_ids: set[int]) -> dict[int, list[int]]:
    """{department id: agents who asked to hear of its new tickets and may see them} (two queries)."""
    asking = agents_asking_for(Kind.NEW_TICKET)
    if not asking or not department_ids:
        return {}
    watchers: dict[int, list[int]] = defaultdict(list)
    accesses = DepartmentAccess.objects.filter(
        agent_id__in=asking, department_id__in=department_ids, agent__limit_to_assigned=False
    ).select_related("role")
    for access in accesses:
        if Perm.VIEW in access.role.perm_set:
            watchers[access.department_id].append(access.agent_id)
    return watchers


def _assigned(
    ticket: Ticket,
    *,
    actor: Actor,
    assignee_id: int | None,
    team_id: int | None,
    teams: dict[int, tuple[str, list[int]]],
) -> list[Pending]:
    """The new assignee, and the members of a new team, unless they did it or own the ticket."""
    found: list[Pending] = []
    skip = {_actor_agent_id(actor)}
    if assignee_id is not None and assignee_id not in skip:
        found.append(
            (assignee_id, Kind.ASSIGNED, ticket, f"{actor.label} assigned the ticket to you.", actor.label)
        )
    # The ticket's owner (new or kept) hears nothing more for its team: the ticket is theirs already.
    skip |= {assignee_id, ticket.assignee_id}
    if team_id is not None and team_id in teams:
        name, members = teams[team_id]
        text = f"{actor.label} assigned the ticket to your team {name}."
        found += [(m, Kind.ASSIGNED, ticket, text, actor.label) for m in members if m not in skip]
    return found


def tickets_created(tickets: list[Ticket], drafts: list[TicketDraft], now: datetime) -> None:
    """New tickets: their assignee and team (as chosen by the opener or the rules), and the agents who
    watch the department's new tickets; one notification per ticket and person."""
    teams = _team_members(t.team_id for t in tickets if t.team_id)
    watchers = _department_watchers({t.department_id for t in tickets})
    pending: list[Pending] = []
    for ticket, draft in zip(tickets, drafts, strict=True):
        actor = draft.actor
        assigned = _assigned(
            ticket, actor=actor, assignee_id=ticket.assignee_id, team_id=ticket.team_id, teams=teams
        )
        pending += assigned
        told = {p[0] for p in assigned} | {_actor_agent_id(actor)}
        text = f"New {ticket.severity} ticket in {draft.department.name}, from {actor.label}."
        pending += [
            (w, Kind.NEW_TICKET, ticket, text, actor.label)
            for w in watchers.get(ticket.department_id, ())
            if w not in told
        ]
    _notify(pending, now)


def ticket_changed(change: TicketChange) -> None:
    """Assignment (assign, claim, transfer), a requester's message, and mentions in a note."""
    if change.action in ASSIGNING:
        _on_assignment(change)
    elif change.action == "ticket.message_added":
        _on_requester_message(change)
    elif change.action == "ticket.noted":
        _on_note(change)


def _changed(change: TicketChange, field: str) -> int | None:
    """The new value of an id field, when the change set it to another one."""
    new = change.after.get(field)
    return new if new is not None and new != change.before.get(field) else None


def _on_assignment(change: TicketChange) -> None:
    ticket, actor = change.ticket, change.actor
    team_id = _changed(change, "team")
    teams = _team_members([team_id] if team_id else [])
    pending = _assigned(
        ticket, actor=actor, assignee_id=_changed(change, "assignee"), team_id=team_id, teams=teams
    )
    if change.action == "ticket.transferred":
        # Moved into a department: its watchers hear of it as of a new ticket there.
        watchers = _department_watchers({ticket.department_id}).get(ticket.department_id, [])
        told = {p[0] for p in pending} | {_actor_agent_id(actor)}
        text = f"{actor.label} transferred the ticket to {ticket.department.name}."
        pending += [(w, Kind.NEW_TICKET, ticket, text, actor.label) for w in watchers if w not in told]
    _notify(pending)


def _on_requester_message(change: TicketChange) -> None:
    """The assignee hears of it; a ticket without one tells its team."""
    ticket, actor = change.ticket, change.actor
    if ticket.assignee_id is not None:
        recipients = [ticket.assignee_id]
    elif ticket.team_id is not None:
        recipients = _team_members([ticket.team_id]).get(ticket.team_id, ("", []))[1]
    else:
        return
    skip = _actor_agent_id(actor)
    text = f"{actor.label} replied."
    _notify([(r, Kind.REQUESTER_REPLIED, ticket, text, actor.label) for r in recipients if r != skip])


def _on_note(change: TicketChange) -> None:
    """Agents named as `@username` in the note who may see the ticket; other names are ignored."""
    entry_id = change.after.get("entry")
    entry = ThreadEntry.objects.filter(pk=entry_id).only("body").first() if entry_id else None
    names = mentioned_usernames(entry.body if entry else "")
    if not names:
        return
    ticket, actor = change.ticket, change.actor
    skip = _actor_agent_id(actor)
    agents = Agent.objects.filter(user__username__in=names, user__is_active=True).select_related("user")
    text = f"{actor.label} mentioned you in a note."
    _notify(
        [
            (agent.pk, Kind.MENTIONED, ticket, text, actor.label)
            for agent in agents
            if agent.pk != skip and agent_can(agent, Perm.VIEW, ticket)
        ]
    )


def escalations_reached(escalations: list[Escalation]) -> None:
    """SLA targets at risk or breached (a scan's batch): the agents each escalation level names, in one
    write for the batch."""
    pending: list[Pending] = []
    for escalation in escalations:
        kind = Kind.SLA_BREACHED if escalation.state == "breached" else Kind.SLA_AT_RISK
        state = "breached" if escalation.state == "breached" else "at risk"
        text = f"The {escalation.target} target is {state} (escalation level {escalation.level})."
        pending += [(agent.pk, kind, escalation.ticket, text, "") for agent in escalation.recipients]
    _notify(pending, escalations[0].at if escalations else None)
