"""Reads of tasks and playbooks, scoped to what the asking agent may see, and playbook statistics."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection
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


def tickets_with_playbooks(playbook_ids: list[int]) -> Q:
    """The condition on Ticket of the queue's `?playbook=`: one of these playbooks was applied to it."""
    return Q(pk__in=PlaybookRun.objects.filter(playbook_id__in=playbook_ids).values("ticket_id"))


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


@dataclass(frozen=True)
class PlaybookTaskStats:
    """One task of one playbook over a period: how many were done and skipped, and how long the done ones
    took from the playbook's application (the task's creation) to done, in seconds."""

    playbook_id: int
    playbook: str
    position: int
    title: str
    done: int
    skipped: int
    median: float | None
    p90: float | None


def _nearest_rank(ordered: list[float], q: float) -> float | None:
    """The q-quantile of sorted values by nearest rank (the value at rank ceil(q * n)); None if empty."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def playbook_task_statistics(
    *, since: datetime, until: datetime, department_ids: Collection[int], team_id: int | None = None
) -> list[PlaybookTaskStats]:
    """Per playbook and task: done and skipped counts, median and p90 of applied-to-done, for the SOC
    dashboard's period and scope.

    A done task counts on its `done_at`, a skipped one on its last change (`updated_at`: the skip, unless
    the task was edited since), both in [since, until); tickets of `department_ids` (and of the team
    `team_id` when given). Tasks are grouped by their template's title (so a task keeps its figures across
    versions; a task added by hand to a playbook's ticket is not the playbook's), in the current version's
    order, then by title. Two queries: the tasks, and the playbooks' templates.
    """
    tasks = Task.objects.filter(
        Q(status=TaskStatus.DONE, done_at__gte=since, done_at__lt=until)
        | Q(status=TaskStatus.SKIPPED, updated_at__gte=since, updated_at__lt=until),
        run__isnull=False,
        template__isnull=False,
        ticket__department_id__in=sorted(department_ids),
    )
    if team_id is not None:
        tasks = tasks.filter(ticket__team_id=team_id)
    spans: dict[tuple[int, str], list[float]] = defaultdict(list)
    skipped: dict[tuple[int, str], int] = defaultdict(int)
    rows = tasks.order_by().values_list(
        "run__playbook_id", "template__title", "status", "created_at", "done_at"
    )
    for playbook_id, title, status, created_at, done_at in rows:
        if status == TaskStatus.DONE and done_at is not None:  # always set on a done task
            # A done time before the creation (clocks set back) counts as no time at all.
            spans[(playbook_id, title)].append(max(0.0, (done_at - created_at).total_seconds()))
        elif status == TaskStatus.SKIPPED:
            skipped[(playbook_id, title)] += 1
    keys = set(spans) | set(skipped)
    if not keys:
        return []
    names: dict[int, str] = {}
    current: dict[int, int] = {}
    order: dict[tuple[int, str], int] = {}
    templates = TaskTemplate.objects.filter(version__playbook_id__in={p for p, _ in keys}).values_list(
        "version__playbook_id", "version__playbook__name", "version__number", "order", "id", "title"
    )
    # Newest version first, each in its order: the first version seen is the playbook's current one.
    for playbook_id, name, number, _order, _pk, title in sorted(templates, key=lambda t: (-t[2], t[3], t[4])):
        names[playbook_id] = name
        current.setdefault(playbook_id, number)
        if number == current[playbook_id]:
            order.setdefault((playbook_id, title), len(order))

    def place(key: tuple[int, str]) -> tuple[str, int, int, str]:
        playbook_id, title = key
        return (names.get(playbook_id, ""), playbook_id, order.get(key, len(order)), title)

    lines = []
    position = 0
    previous = None
    for key in sorted(keys, key=place):
        position = position + 1 if key[0] == previous else 1
        previous = key[0]
        durations = sorted(spans.get(key, []))
        lines.append(
            PlaybookTaskStats(
                playbook_id=key[0],
                playbook=names.get(key[0], f"Playbook {key[0]}"),
                position=position,
                title=key[1],
                done=len(durations),
                skipped=skipped.get(key, 0),
                median=_nearest_rank(durations, 0.5),
                p90=_nearest_rank(durations, 0.9),
            )
        )
    return lines
