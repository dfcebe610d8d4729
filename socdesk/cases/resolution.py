"""The tickets' `before_resolve` hook: a playbook that blocks resolution holds the ticket open while
one of its required tasks is open or one of its required custom fields is empty."""

from __future__ import annotations

from socdesk.cases.choices import PENDING_STATUSES
from socdesk.cases.models import PlaybookRun, Task
from socdesk.core.errors import ServiceError
from socdesk.tickets.choices import Status
from socdesk.tickets.models import Ticket


def resolution_blockers(ticket: Ticket) -> tuple[list[Task], list[str]]:
    """The open required tasks and the empty required custom fields of the ticket's blocking playbooks
    (two queries; none at all for a ticket without playbooks is not worth a third)."""
    runs = list(
        PlaybookRun.objects.filter(ticket=ticket, playbook__block_resolution=True).select_related("version")
    )
    if not runs:
        return [], []
    tasks = list(
        Task.objects.filter(ticket=ticket, run__in=runs, required=True, status__in=PENDING_STATUSES).order_by(
            "order", "id"
        )
    )
    values = ticket.custom_fields or {}
    fields = []
    for run in runs:
        for name in run.version.required_fields:
            if values.get(name) in (None, "", []) and name not in fields:
                fields.append(name)
    return tasks, fields


def resolution_blockers_check(ticket: Ticket, status: str) -> None:
    """Refuse resolving or closing with a sentence naming what is still to do (registered in
    CasesConfig.ready; every channel's status change comes through it, auto-close included)."""
    tasks, fields = resolution_blockers(ticket)
    if not tasks and not fields:
        return
    verb = "resolved" if status == Status.RESOLVED else "closed"
    parts = []
    if tasks:
        titles = ", ".join(f"“{task.title}”" for task in tasks)
        parts.append(
            f"the required task{'s' if len(tasks) > 1 else ''} {titles} "
            f"{'are' if len(tasks) > 1 else 'is'} still open"
        )
    if fields:
        parts.append(
            f"the required field{'s' if len(fields) > 1 else ''} {', '.join(fields)} "
            f"{'are' if len(fields) > 1 else 'is'} empty"
        )
    todo = "mark each task done or skip it with a reason" if tasks else ""
    if fields:
        todo += (", and " if todo else "") + "fill in the custom fields"
    raise ServiceError(
        f"{ticket.number} cannot be {verb} yet: {' and '.join(parts)}. First {todo}.",
        fields={"status": "tasks_open"},
    )
