"""Auto-assignment: new tickets left without an assignee get an on-duty agent, by the owner's policy.

Registered as a before-create hook (socdesk.tickets.hooks), after ticket filters and help topics, so it
sees each draft as they left it: a draft that still has no assignee gets one from its team's policy (when
that is not `none`), else from its department's. Setting `draft.assignee` before the write means the
ticket is opened assigned: one `ticket.created` event names the assignee, the same ticket row for every
channel, and a batch of alerts costs a handful of queries rather than one assignment per ticket. The
after-create hook then records, in one insert, a `ticket.auto_assigned` event per ticket with the
"system" actor, so the audit trail says the assignment was automatic and by which policy.

On duty means: available (not away), an active login, and a role in the ticket's department that lets
them view its tickets; for a team's policy, a member of the team as well.

Round-robin is safe across processes: the batch locks the policy rows it uses (`FOR UPDATE` on
PostgreSQL; SQLite's IMMEDIATE transactions already serialise writers) before reading the pointer, and
writes the new pointer in the same transaction, so a second process opening tickets at the same moment
waits and then reads the moved pointer. Fewest-open reads, after that same lock, the open ticket counts of
every candidate in one query, and counts the tickets it hands out as it goes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Prefetch, Q

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, DepartmentAccess, Team
from socdesk.audit.services import audit_event, record_many
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.routing import snapshot
from socdesk.routing.choices import AssignmentMode
from socdesk.routing.models import AssignmentPolicy
from socdesk.tickets.choices import OPEN_STATUSES
from socdesk.tickets.models import Ticket

if TYPE_CHECKING:
    from socdesk.tickets.services import TicketDraft

AUTO_ASSIGNMENT = Actor.system("auto-assignment")
# The key in TicketDraft.hints under which the before-create hook tells the after-create one what it did.
HINT = "auto_assigned"


# --- the pure part: who is next ------------------------------------------------------------------------


def round_robin_picks(candidates: Sequence[int], last: int | None, count: int) -> list[int]:
    """The next `count` agents after `last`, in id order, wrapping round; empty without candidates.

    Agents who join or come back slot in by id, and one who left or went away is simply passed over,
    so no one is skipped twice or served twice in a row while others wait.
    """
    ordered = sorted(set(candidates))
    if not ordered:
        return []
    start = next((i for i, agent in enumerate(ordered) if last is not None and agent > last), 0)
    return [ordered[(start + i) % len(ordered)] for i in range(count)]


def fewest_open_picks(open_counts: dict[int, int], count: int) -> list[int]:
    """`count` picks, each the agent with the fewest open tickets so far (lowest id on a tie), counting
    each pick as one more open ticket; empty without candidates."""
    load = dict(open_counts)
    picks: list[int] = []
    if not load:
        return picks
    for _ in range(count):
        agent = min(load, key=lambda a: (load[a], a))
        load[agent] += 1
        picks.append(agent)
    return picks


# --- the hooks ---------------------------------------------------------------------------------------


def assign_drafts(drafts: list[TicketDraft]) -> None:
    """Before-create hook: give each draft without an assignee an on-duty agent, by policy."""
    waiting = [draft for draft in drafts if draft.assignee is None]
    if not waiting:
        return
    policy_departments, policy_teams = snapshot.current().piece("assigning", _assigning_read)
    department_ids = {draft.department.pk for draft in waiting} & policy_departments
    team_ids = {draft.team.pk for draft in waiting if draft.team is not None} & policy_teams
    if not department_ids and not team_ids:
        return
    # Outside a caller's transaction the lock would end with the statement; this keeps it to the end
    # of the pointer's update at least (inside one, to the caller's commit, with no savepoint to pay).
    with transaction.atomic(savepoint=False):
        policies = list(
            sql.for_update(
                AssignmentPolicy.objects.filter(Q(department_id__in=department_ids) | Q(team_id__in=team_ids))
                .exclude(mode=AssignmentMode.NONE)
                .order_by("pk")  # one lock order for every process: no deadlock between two batches
            )
        )
        if not policies:
            return
        by_team = {p.team_id: p for p in policies if p.team_id is not None}
        by_department = {p.department_id: p for p in policies if p.department_id is not None}
        groups: dict[tuple[AssignmentPolicy, int], list[TicketDraft]] = defaultdict(list)
        for draft in waiting:
            policy = (by_team.get(draft.team.pk) if draft.team is not None else None) or by_department.get(
                draft.department.pk
            )
            if policy is not None:
                groups[(policy, draft.department.pk)].append(draft)
        if groups:
            _assign_groups(groups)


def _assigning_read() -> tuple[frozenset[int], frozenset[int]]:
    """The departments and the teams with an auto-assignment policy other than `none`."""
    rows = AssignmentPolicy.objects.exclude(mode=AssignmentMode.NONE).values_list("department_id", "team_id")
    return (
        frozenset(department for department, _ in rows if department is not None),
        frozenset(team for _, team in rows if team is not None),
    )


def record_auto_assignments(tickets: list[Ticket], drafts: list[TicketDraft], now: datetime) -> None:
    """After-create hook: one `ticket.auto_assigned` event (actor: system) per auto-assigned ticket."""
    record_many(
        [
            audit_event(
                actor=AUTO_ASSIGNMENT,
                action="ticket.auto_assigned",
                target=ticket,
                after={"assignee": ticket.assignee_id, **draft.hints[HINT]},
            )
            for ticket, draft in zip(tickets, drafts, strict=True)
            if HINT in draft.hints and ticket.assignee_id is not None
        ]
    )


# --- the queries -------------------------------------------------------------------------------------


def _assign_groups(groups: dict[tuple[AssignmentPolicy, int], list[TicketDraft]]) -> None:
    department_ids = {department_id for _policy, department_id in groups}
    on_duty = _on_duty_by_department(department_ids)
    team_ids = {policy.team_id for policy, _ in groups if policy.team_id is not None}
    members = _team_members(team_ids)
    candidates: dict[tuple[AssignmentPolicy, int], list[int]] = {}
    for policy, department_id in groups:
        eligible = set(on_duty.get(department_id, {}))
        if policy.team_id is not None:
            eligible &= members.get(policy.team_id, set())
        candidates[(policy, department_id)] = sorted(eligible)
    fewest = {
        agent_id
        for (policy, _), ids in candidates.items()
        if policy.mode == AssignmentMode.FEWEST_OPEN
        for agent_id in ids
    }
    open_counts = _open_counts(fewest) if fewest else {}
    agents = {agent.pk: agent for by_id in on_duty.values() for agent in by_id.values()}
    moved: dict[int, tuple[AssignmentPolicy, int]] = {}
    for (policy, department_id), drafts in groups.items():
        ids = candidates[(policy, department_id)]
        if policy.mode == AssignmentMode.ROUND_ROBIN:
            last = moved[policy.pk][1] if policy.pk in moved else policy.last_agent_id
            picks = round_robin_picks(ids, last, len(drafts))
            if picks:
                moved[policy.pk] = (policy, picks[-1])
        else:
            picks = fewest_open_picks({a: open_counts.get(a, 0) for a in ids}, len(drafts))
            for agent_id in picks:  # the next group sharing an agent sees these tickets too
                open_counts[agent_id] = open_counts.get(agent_id, 0) + 1
        owner = "team" if policy.team_id is not None else "department"
        for draft, agent_id in zip(drafts, picks, strict=False):
            draft.assignee = agents[agent_id]
            draft.hints[HINT] = {"policy": policy.pk, "mode": policy.mode, "by": owner}
    for policy, last_agent_id in moved.values():
        AssignmentPolicy.objects.filter(pk=policy.pk).update(last_agent_id=last_agent_id)
        policy.last_agent_id = last_agent_id


def _on_duty_by_department(department_ids: Iterable[int]) -> dict[int, dict[int, Agent]]:
    """{department id: {agent id: agent}} of the available, active agents whose role there lets them
    view tickets; two queries. The agents carry their accesses, so checking the assignment again
    (tickets' `check_assignment`) costs no query per ticket."""
    department_ids = set(department_ids)
    agents = (
        Agent.objects.filter(available=True, user__is_active=True, accesses__department_id__in=department_ids)
        .distinct()
        .select_related("user")
        .prefetch_related(Prefetch("accesses", queryset=DepartmentAccess.objects.select_related("role")))
    )
    found: dict[int, dict[int, Agent]] = defaultdict(dict)
    for agent in agents:
        for access in agent.accesses.all():
            if access.department_id in department_ids and Perm.VIEW in access.role.perm_set:
                found[access.department_id][agent.pk] = agent
    return found


def _team_members(team_ids: set[int]) -> dict[int, set[int]]:
    """{team id: member agent ids}, one query."""
    members: dict[int, set[int]] = defaultdict(set)
    if team_ids:
        rows = Team.members.through.objects.filter(team_id__in=team_ids).values_list("team_id", "agent_id")
        for team_id, agent_id in rows:
            members[team_id].add(agent_id)
    return members


def _open_counts(agent_ids: set[int]) -> dict[int, int]:
    """{agent id: open tickets assigned to them, in every department}, one query."""
    rows = (
        Ticket.objects.filter(assignee_id__in=agent_ids, status__in=OPEN_STATUSES)
        .order_by()
        .values_list("assignee_id")
        .annotate(n=Count("id"))
    )
    return {agent_id: n for agent_id, n in rows}
