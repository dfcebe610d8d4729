"""Reads of tasks and playbooks, scoped to what the asking agent may see, and playbook statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.db.models import F, Prefetch, Q, QuerySet

from socdesk.accounts.models import Agent
from socdesk.accounts.selectors import team_ids
from socdesk.cases.choices import PENDING_STATUSES, TaskStatus
from socdesk.cases.models import Playbook, PlaybookRun, PlaybookVersion, Task, TaskNote, TaskTemplate
from socdesk.core.errors import NotFound
from socdesk.tickets.models import Ticket
from socdesk.tickets.selectors import visibility_q


def ticket_tasks(ticket: Ticket) -> QuerySet[Task]:
    """The ticket's checklist in order, with owners, notes and the playbook each came from (4 queries)."""
    return (
        Task.objects.filter(ticket=ticket)
        .select_related("assignee__user", "team", "run__playbook", "run__version")
        .prefetch_related(Prefetch("notes", queryset=TaskNote.objects.order_by("created_at", "id")))
        .order_by("order", "id")
    )


def ticket_playbook_runs(ticket: Ticket) -> QuerySet[PlaybookRun]:
    """The playbooks applied to the ticket, first applied first."""
    return PlaybookRun.objects.filter(ticket=ticket).select_related("playbook", "version")


def task_get_on_ticket(ticket: Ticket, task_id: int) -> Task:
    """A task of this (already visible) ticket; NotFound for any other id."""
    task = Task.objects.select_related("ticket__department").filter(ticket=ticket, pk=task_id).first()
    if task is None:
        raise NotFound(f"{ticket.number} has no task {task_id}.")
    return task


def tasks_visible_to(agent: Agent) -> QuerySet[Task]:
    """Every task on a ticket the agent may see."""
    q = visibility_q(agent, via="ticket__")
    return Task.objects.all() if q is None else Task.objects.filter(q)


def tasks_given_to(agent: Agent) -> QuerySet[Task]:
    """Tasks given to the agent or one of their teams, on tickets they may see, soonest due first (no due
    time last), whatever their status."""
    mine = Q(assignee=agent)
    teams = team_ids(agent)
    if teams:
        mine |= Q(team_id__in=teams)
    return (
        tasks_visible_to(agent)
        .filter(mine)
        .select_related("ticket", "assignee__user", "team", "run__playbook")
        .order_by(F("due_at").asc(nulls_last=True), "ticket_id", "order", "id")
    )


def tasks_mine(agent: Agent) -> QuerySet[Task]:
    """The "My tasks" queue: the agent's and their teams' tasks still to do, soonest due first (one query)."""
    return tasks_given_to(agent).filter(status__in=PENDING_STATUSES)


def playbooks_all() -> QuerySet[Playbook]:
    """Every playbook by name (playbooks are configuration: every agent may apply one)."""
    return Playbook.objects.order_by("name")


def playbook_versions(playbook: Playbook) -> QuerySet[PlaybookVersion]:
    """A playbook's versions, newest first, with their task templates."""
    return playbook.versions.prefetch_related(
        Prefetch("templates", queryset=TaskTemplate.objects.select_related("team").order_by("order", "id"))
    ).order_by("-number")


@dataclass(frozen=True)
class TaskDuration:
    """How long one task of a playbook takes: the median from the task's creation to done."""

    position: int
    title: str
    done: int
    median: timedelta | None


def playbook_task_durations(
    playbook: Playbook,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    department_ids: list[int] | None = None,
) -> list[TaskDuration]:
    """Median time per task of a playbook (done_at - created_at over tasks done), for the dashboard.

    Tasks are grouped by their title in the playbook's templates (so a task keeps its figures across
    versions), in the current version's order; `since`/`until` bound when the task was done and
    `department_ids` scopes to those departments' tickets (None: all). Skipped and open tasks do not count.
    One query for the durations; the median is taken in Python, the same on SQLite and PostgreSQL.
    """
    done = Task.objects.filter(run__playbook=playbook, status=TaskStatus.DONE, done_at__isnull=False)
    if since is not None:
        done = done.filter(done_at__gte=since)
    if until is not None:
        done = done.filter(done_at__lt=until)
    if department_ids is not None:
        done = done.filter(ticket__department_id__in=department_ids)
    # Seconds, not timedeltas: statistics.median wants numbers.
    spans: dict[str, list[float]] = {}
    for title, created_at, done_at in done.values_list("template__title", "created_at", "done_at"):
        if title is not None and done_at is not None:
            spans.setdefault(title, []).append((done_at - created_at).total_seconds())
    current = playbook.current
    titles = [t.title for t in current.templates.order_by("order", "id")] if current else []
    titles += sorted(set(spans) - set(titles))
    return [
        TaskDuration(
            position=index,
            title=title,
            done=len(spans.get(title, [])),
            median=timedelta(seconds=median(spans[title])) if spans.get(title) else None,
        )
        for index, title in enumerate(titles, start=1)
    ]
