"""Playbooks (socdesk/cases): their settings, the help topics they are the default of, and their tasks.

An entry holds the playbook's current version. Applying an entry whose tasks or required fields differ
from the stored current version saves a new version (tickets keep the one they got); one that changes
only settings (description, block_resolution, help topics) saves no version.
"""

from __future__ import annotations

from django.db.models import Model

from socdesk.cases.models import Playbook
from socdesk.cases.services import (
    PlaybookDefinition,
    TemplateDefinition,
    playbook_create,
    playbook_delete,
    playbook_update,
)
from socdesk.ops.config.kinds.base import Entry, Kind, Writer, by_name, deleted
from socdesk.ops.config.kinds.routing import topic_paths
from socdesk.ops.config.schema import Boolean, Field, Integer, ListOf, Nullable, Record, Ref, Text

TASK = Record(
    {
        "title": Field(Text(required=True, max_length=200)),
        "description": Field(Text(max_length=10000), ""),
        # Minutes after the playbook is applied (null: no due time).
        "due_minutes": Field(Nullable(Integer(minimum=1)), None),
        "required": Field(Boolean(), True),
        "team": Field(Nullable(Ref("teams")), None),
    }
)


def _read_playbooks() -> list[tuple[Model, Entry]]:
    paths = topic_paths()
    rows: list[tuple[Model, Entry]] = []
    for playbook in Playbook.objects.prefetch_related("topic_links", "versions__templates__team"):
        versions = sorted(playbook.versions.all(), key=lambda v: v.number)
        current = versions[-1] if versions else None
        templates = sorted(current.templates.all(), key=lambda t: (t.order, t.pk)) if current else []
        rows.append(
            (
                playbook,
                {
                    "name": playbook.name,
                    "description": playbook.description,
                    "block_resolution": playbook.block_resolution,
                    "required_fields": list(current.required_fields) if current else [],
                    "help_topics": sorted(paths[link.topic_id] for link in playbook.topic_links.all()),
                    "tasks": [
                        {
                            "title": t.title,
                            "description": t.description,
                            "due_minutes": t.due_minutes,
                            "required": t.required,
                            "team": t.team.name if t.team else None,
                        }
                        for t in templates
                    ],
                },
            )
        )
    return by_name(rows)


def _write_playbook(writer: Writer, entry: Entry, existing: Playbook | None) -> Playbook:
    definition = PlaybookDefinition(
        name=entry["name"],
        description=entry["description"],
        block_resolution=entry["block_resolution"],
        required_fields=entry["required_fields"],
        topic_ids=[writer.resolve("help_topics", path).pk for path in entry["help_topics"]],
        templates=[
            TemplateDefinition(
                title=task["title"],
                description=task["description"],
                due_minutes=task["due_minutes"],
                required=task["required"],
                team_id=writer.resolve("teams", task["team"]).pk if task["team"] else None,
            )
            for task in entry["tasks"]
        ],
    )
    if existing is None:
        return playbook_create(actor=writer.actor, definition=definition)
    return playbook_update(actor=writer.actor, playbook=existing, definition=definition)


PLAYBOOKS = Kind(
    key="playbooks",
    label="playbook",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "description": Field(Text(max_length=10000), ""),
            "block_resolution": Field(Boolean(), True),
            # Custom fields (machine names) that must hold a value before a ticket is resolved.
            "required_fields": Field(ListOf(Text(required=True, max_length=64)), []),
            # The help topics (paths) whose new tickets get this playbook.
            "help_topics": Field(ListOf(Ref("help_topics")), []),
            "tasks": Field(ListOf(TASK)),
        }
    ),
    read=_read_playbooks,
    find=lambda name: Playbook.objects.filter(name=name).first(),
    write=_write_playbook,
    remove=lambda writer, playbook: deleted(playbook_delete(actor=writer.actor, playbook=playbook)),
    comment="The tasks are the current version's, in order; changing them saves a new version (tickets keep\n"
    "theirs). Filters name a playbook in an apply_playbook action by its name.",
)
