"""How the ticket's history words the task and playbook events recorded on it (registered at start-up)."""

from __future__ import annotations

from socdesk.audit.models import AuditEvent
from socdesk.cases.choices import TaskStatus
from socdesk.tickets.history import event_describer_register


def _title(event: AuditEvent) -> str:
    details = event.after or event.before or {}
    return f"“{details.get('title', '')}”"


def _status(event: AuditEvent) -> str:
    after = event.after or {}
    value = str(after.get("status"))
    words = {
        TaskStatus.DONE: "ticked the task {} done",
        TaskStatus.SKIPPED: "skipped the task {}",
        TaskStatus.IN_PROGRESS: "started the task {}",
        TaskStatus.OPEN: "opened the task {} again",
    }
    text = (
        words.get(TaskStatus(value), "changed the task {}")
        if value in TaskStatus.values
        else "changed the task {}"
    )
    text = text.format(_title(event))
    return f"{text}: {after['reason']}" if after.get("reason") else text


def _applied(event: AuditEvent) -> str:
    after = event.after or {}
    name, version, tasks = after.get("name", ""), after.get("version"), after.get("tasks")
    text = f"applied the playbook {name} (version {version}, {tasks} tasks)"
    return f"{text}, as {after['why']} asked" if after.get("why") else text


def register() -> None:
    """Called once when the cases app loads (CasesConfig.ready)."""
    event_describer_register("task.created", lambda e: f"added the task {_title(e)}")
    event_describer_register("task.updated", lambda e: f"edited the task {_title(e)}")
    event_describer_register("task.status_changed", _status)
    event_describer_register("task.reordered", lambda e: "reordered the tasks")
    event_describer_register("task.note_added", lambda e: f"added a note to the task {_title(e)}")
    event_describer_register("task.deleted", lambda e: f"deleted the task {_title(e)}")
    event_describer_register("playbook.applied", _applied)
