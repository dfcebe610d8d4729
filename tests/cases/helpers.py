"""Builders for the cases tests: playbooks through the real services."""

from __future__ import annotations

from socdesk.cases.services import PlaybookDefinition, TemplateDefinition, playbook_create
from socdesk.core.actor import Actor

SETUP = Actor.system("test-setup")

PHISHING_TASKS = (
    ("Collect the reported message", 30, True),
    ("Check sender authentication", 60, True),
    ("Search for other recipients", 120, False),
)


def make_playbook(name="Phishing triage", tasks=PHISHING_TASKS, **fields):
    templates = [
        TemplateDefinition(title=title, due_minutes=minutes, required=required)
        for title, minutes, required in tasks
    ]
    return playbook_create(
        actor=SETUP, definition=PlaybookDefinition(name=name, templates=templates, **fields)
    )
