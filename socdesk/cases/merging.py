"""The cases app's part of a ticket merge: the duplicate's tasks and playbook runs join the survivor.

Registered with socdesk.tickets.merge_hooks when the app loads. A playbook run moves with its tasks unless
the survivor already runs that playbook (a playbook runs once per ticket): then that run and its tasks stay
on the merged duplicate, where they are closed with it. Tasks of no playbook always move. Moved tasks come
after the survivor's own in its checklist; undo puts back their ticket and their place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max, Q

from socdesk.cases.models import PlaybookRun, Task
from socdesk.tickets.merge_hooks import MergeMover
from socdesk.tickets.merge_movers import plural
from socdesk.tickets.models import Ticket


def _moving(source: Ticket, target: Ticket) -> tuple[list[int], list[tuple[int, int]]]:
    """The runs that move, and the (task id, its order) of the tasks that move, in checklist order."""
    on_target = PlaybookRun.objects.filter(ticket=target).values("playbook_id")
    runs = list(
        PlaybookRun.objects.filter(ticket=source)
        .exclude(playbook_id__in=on_target)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    tasks = list(
        Task.objects.filter(ticket=source)
        .filter(Q(run__isnull=True) | Q(run_id__in=runs))
        .order_by("order", "pk")
        .values_list("pk", "order")
    )
    return runs, tasks


def describe(source: Ticket, target: Ticket) -> str | None:
    """'3 tasks' (None when none would move)."""
    _, tasks = _moving(source, target)
    return plural(len(tasks), "task") if tasks else None


def move(source: Ticket, target: Ticket, now: datetime) -> dict[str, Any]:
    """Move the runs and tasks (after the survivor's tasks, in their order)."""
    runs, tasks = _moving(source, target)
    if not tasks and not runs:
        return {}
    last = Task.objects.filter(ticket=target).aggregate(last=Max("order"))["last"] or 0
    PlaybookRun.objects.filter(pk__in=runs).update(ticket=target)
    for place, (task_id, _) in enumerate(tasks, start=1):
        Task.objects.filter(pk=task_id).update(ticket=target, order=last + place)
    return {"runs": runs, "tasks": [[task_id, order] for task_id, order in tasks]}


def undo(source: Ticket, target: Ticket, moved: dict[str, Any]) -> None:
    """Put back the runs and tasks still on the survivor, at their old places."""
    PlaybookRun.objects.filter(pk__in=moved.get("runs", []), ticket=target).update(ticket=source)
    for task_id, order in moved.get("tasks", []):
        Task.objects.filter(pk=task_id, ticket=target).update(ticket=source, order=order)


MOVER = MergeMover("tasks", describe, move, undo)
