"""Writes for tasks and playbooks: each validates, writes, and records one audit event."""

from socdesk.cases.services.playbooks import (
    PlaybookDefinition,
    TemplateDefinition,
    playbook_apply,
    playbook_create,
    playbook_delete,
    playbook_update,
)
from socdesk.cases.services.tasks import (
    task_create,
    task_delete,
    task_note_add,
    task_reorder,
    task_set_status,
    task_update,
)

__all__ = [
    "PlaybookDefinition",
    "TemplateDefinition",
    "playbook_apply",
    "playbook_create",
    "playbook_delete",
    "playbook_update",
    "task_create",
    "task_delete",
    "task_note_add",
    "task_reorder",
    "task_set_status",
    "task_update",
]
