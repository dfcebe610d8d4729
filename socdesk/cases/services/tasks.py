"""Tasks on a ticket: create, update, reorder, set the status, add a note, delete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import EllipsisType
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from socdesk.accounts.models import Agent, Team
from socdesk.cases.choices import TaskStatus
from socdesk.cases.models import Task, TaskNote
from socdesk.cases.services.steps import check_owner, lock_ticket, record_task_event, require_edit
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_text
from socdesk.tickets.models import Ticket

TITLE_MAX = 200
REASON_MAX = 500


def _title(title: str) -> str:
    title = clean_text(title or "").strip()
    if not title:
        raise ServiceError("A task needs a title.", fields={"title": "required"})
    if len(title) > TITLE_MAX:
        raise ServiceError(
            f"A task's title has at most {TITLE_MAX} characters.", fields={"title": "too_long"}
        )
    return title


def _summary(task: Task) -> dict[str, Any]:
    """What the audit trail keeps of a task."""
    return {
        "task": task.pk,
        "title": task.title,
        "status": task.status,
        "assignee": task.assignee_id,
        "team": task.team_id,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "required": task.required,
    }


@transaction.atomic
def task_create(
    *,
    actor: Actor,
    ticket: Ticket,
    title: str,
    description: str = "",
    assignee: Agent | None = None,
    team: Team | None = None,
    due_at: datetime | None = None,
    required: bool = False,
) -> Task:
    """Add a task at the end of the ticket's checklist."""
    ticket = lock_ticket(ticket)
    require_edit(actor, ticket)
    title = _title(title)
    check_owner(ticket, assignee, team)
    now = timezone.now()
    last = Task.objects.filter(ticket=ticket).aggregate(last=Max("order"))["last"]
    task = Task.objects.create(
        ticket=ticket,
        title=title,
        description=clean_text(description or "").strip(),
        assignee=assignee,
        team=team,
        due_at=due_at,
        required=required,
        order=0 if last is None else last + 1,
        created_at=now,
        updated_at=now,
        created_by=actor.label[:200],
    )
    record_task_event(actor, "task.created", ticket, now, after=_summary(task))
    return task


@transaction.atomic
def task_update(
    *,
    actor: Actor,
    task: Task,
    title: str | None = None,
    description: str | None = None,
    assignee: Agent | EllipsisType | None = ...,
    team: Team | EllipsisType | None = ...,
    due_at: datetime | EllipsisType | None = ...,
    required: bool | None = None,
) -> Task:
    """Change a task's title, description, owner, due time or required flag (`...`: leave as is)."""
    ticket = lock_ticket(task.ticket)
    require_edit(actor, ticket)
    task = Task.objects.select_for_update().get(pk=task.pk)
    before = _summary(task)
    if title is not None:
        task.title = _title(title)
    if description is not None:
        task.description = clean_text(description).strip()
    if assignee is not ...:
        task.assignee = assignee
    if team is not ...:
        task.team = team
    if due_at is not ...:
        task.due_at = due_at
    if required is not None:
        task.required = required
    check_owner(ticket, task.assignee, task.team)
    after = _summary(task)
    if after == before and description is None:
        raise ServiceError("Nothing to change.")
    now = timezone.now()
    task.updated_at = now
    task.save()
    record_task_event(actor, "task.updated", ticket, now, before=before, after=after)
    return task


@transaction.atomic
def task_set_status(*, actor: Actor, task: Task, status: str, reason: str = "") -> Task:
    """Open, start, finish or skip a task; skipping needs a reason, which the task keeps."""
    if status not in TaskStatus.values:
        raise ServiceError(
            f"A task's status is one of: {', '.join(TaskStatus.values)}.", fields={"status": "invalid"}
        )
    ticket = lock_ticket(task.ticket)
    require_edit(actor, ticket)
    task = Task.objects.select_for_update().get(pk=task.pk)
    reason = clean_text(reason or "").strip()
    if status == TaskStatus.SKIPPED:
        if not reason:
            raise ServiceError(f"Say why the task {task.title!r} is skipped.", fields={"reason": "required"})
        if len(reason) > REASON_MAX:
            raise ServiceError(
                f"A reason has at most {REASON_MAX} characters.", fields={"reason": "too_long"}
            )
    elif reason:
        raise ServiceError("A reason is only given when skipping a task.", fields={"reason": "unexpected"})
    if task.status == status:
        raise ServiceError(f"The task {task.title!r} is already {TaskStatus(status).label.lower()}.")
    before = {"task": task.pk, "title": task.title, "status": task.status}
    now = timezone.now()
    task.status = status
    task.skip_reason = reason
    task.done_at = now if status == TaskStatus.DONE else None
    task.updated_at = now
    task.save(update_fields=["status", "skip_reason", "done_at", "updated_at"])
    after = {"task": task.pk, "title": task.title, "status": status}
    if reason:
        after["reason"] = reason
    record_task_event(actor, "task.status_changed", ticket, now, before=before, after=after)
    return task


@transaction.atomic
def task_reorder(*, actor: Actor, ticket: Ticket, order: Sequence[int]) -> list[Task]:
    """Put the ticket's tasks in this order (every task's id, each once)."""
    ticket = lock_ticket(ticket)
    require_edit(actor, ticket)
    tasks = {task.pk: task for task in Task.objects.filter(ticket=ticket)}
    wanted = list(order)
    if sorted(wanted) != sorted(tasks) or len(set(wanted)) != len(wanted):
        raise ServiceError(
            f"Give every task of {ticket.number} once, in the new order ({len(tasks)} ids).",
            fields={"order": "invalid"},
        )
    before = [task.pk for task in sorted(tasks.values(), key=lambda t: (t.order, t.pk))]
    if before == wanted:
        raise ServiceError("The tasks are already in this order.")
    now = timezone.now()
    for position, pk in enumerate(wanted):
        tasks[pk].order = position
        tasks[pk].updated_at = now
    Task.objects.bulk_update(tasks.values(), ["order", "updated_at"])
    record_task_event(actor, "task.reordered", ticket, now, before={"order": before}, after={"order": wanted})
    return [tasks[pk] for pk in wanted]


@transaction.atomic
def task_note_add(*, actor: Actor, task: Task, body: str) -> TaskNote:
    """Add a note to a task's own thread."""
    ticket = lock_ticket(task.ticket)
    require_edit(actor, ticket)
    body = clean_text(body or "").strip()
    if not body:
        raise ServiceError("Write the note first.", fields={"body": "required"})
    now = timezone.now()
    note = TaskNote.objects.create(
        task=task, author=actor.agent, author_label=actor.label[:200], body=body, created_at=now
    )
    record_task_event(
        actor, "task.note_added", ticket, now, after={"task": task.pk, "title": task.title, "note": note.pk}
    )
    return note


@transaction.atomic
def task_delete(*, actor: Actor, task: Task) -> None:
    """Remove a task and its notes; a playbook's required task is skipped with a reason instead."""
    ticket = lock_ticket(task.ticket)
    require_edit(actor, ticket)
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.required and task.run_id is not None:
        raise ServiceError(
            f"The task {task.title!r} is required by its playbook: skip it with a reason instead.",
            fields={"task": "required"},
        )
    before = _summary(task)
    task.delete()
    record_task_event(actor, "task.deleted", ticket, timezone.now(), before=before)
