"""Playbooks: create, edit (a new version when the tasks or required fields change), delete, apply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from socdesk.accounts.models import Team
from socdesk.audit.services import record
from socdesk.cases.models import Playbook, PlaybookRun, PlaybookVersion, Task, TaskTemplate, TopicPlaybook
from socdesk.cases.services.steps import lock_ticket, record_task_event, require_edit
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_text
from socdesk.routing.models import CustomField, FilterRule, HelpTopic
from socdesk.tickets.choices import OPEN_STATUSES
from socdesk.tickets.models import Ticket

# A relative due time up to a year: longer is a typo, not a plan.
DUE_MINUTES_MAX = 366 * 24 * 60


@dataclass(frozen=True)
class TemplateDefinition:
    """One task of a playbook as an editor, the API or a configuration file gives it."""

    title: str
    description: str = ""
    due_minutes: int | None = None
    required: bool = True
    team_id: int | None = None


@dataclass(frozen=True)
class PlaybookDefinition:
    """Everything a playbook is: its settings, the help topics it is the default of, and its content."""

    name: str
    templates: Sequence[TemplateDefinition]
    description: str = ""
    block_resolution: bool = True
    required_fields: Sequence[str] = ()
    topic_ids: Sequence[int] = ()


@dataclass
class _Checked:
    name: str
    description: str
    templates: list[dict[str, Any]]
    required_fields: list[str]
    topics: list[HelpTopic] = field(default_factory=list)


def _check(definition: PlaybookDefinition, instance: Playbook | None) -> _Checked:
    """The definition cleaned, or a ServiceError naming what is wrong (nothing written yet)."""
    name = clean_text(definition.name or "").strip()
    if not name:
        raise ServiceError("A playbook needs a name.", fields={"name": "required"})
    if len(name) > 100:
        raise ServiceError("A playbook's name has at most 100 characters.", fields={"name": "too_long"})
    taken = Playbook.objects.filter(name__iexact=name)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ServiceError(f"A playbook named {name!r} already exists.", fields={"name": "taken"})
    if not definition.templates:
        raise ServiceError(f"Playbook {name!r}: give it at least one task.", fields={"templates": "required"})
    team_ids = {t.team_id for t in definition.templates if t.team_id is not None}
    teams = Team.objects.in_bulk(team_ids)
    templates = []
    for index, template in enumerate(definition.templates, start=1):
        title = clean_text(template.title or "").strip()
        where = f"Playbook {name!r}, task {index}"
        if not title:
            raise ServiceError(f"{where}: give it a title.", fields={f"templates.{index}.title": "required"})
        if len(title) > 200:
            raise ServiceError(
                f"{where}: a title has at most 200 characters.",
                fields={f"templates.{index}.title": "too_long"},
            )
        minutes = template.due_minutes
        if minutes is not None and (isinstance(minutes, bool) or not 0 < minutes <= DUE_MINUTES_MAX):
            raise ServiceError(
                f"{where} ({title}): the due time is a number of minutes from 1 to {DUE_MINUTES_MAX}.",
                fields={f"templates.{index}.due_minutes": "invalid"},
            )
        if template.team_id is not None and template.team_id not in teams:
            raise ServiceError(
                f"{where} ({title}): there is no team with id {template.team_id}.",
                fields={f"templates.{index}.team": "unknown"},
            )
        templates.append(
            {
                "order": index - 1,
                "title": title,
                "description": clean_text(template.description or "").strip(),
                "due_minutes": minutes,
                "required": bool(template.required),
                "team_id": template.team_id,
            }
        )
    wanted = [clean_text(n).strip() for n in definition.required_fields if clean_text(n).strip()]
    known = set(CustomField.objects.filter(name__in=wanted).values_list("name", flat=True))
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ServiceError(
            f"Playbook {name!r}: no custom field is named {', '.join(sorted(unknown))}; use a field's "
            "machine name from a custom form.",
            fields={"required_fields": "unknown"},
        )
    topics = list(HelpTopic.objects.filter(pk__in=set(definition.topic_ids)))
    if len(topics) != len(set(definition.topic_ids)):
        missing = sorted(set(definition.topic_ids) - {t.pk for t in topics})
        raise ServiceError(
            f"Playbook {name!r}: there is no help topic with id {missing[0]}.", fields={"topics": "unknown"}
        )
    return _Checked(
        name, clean_text(definition.description or "").strip(), templates, list(dict.fromkeys(wanted)), topics
    )


def _content(version: PlaybookVersion | None) -> dict[str, Any]:
    """A version's content as the checked definition holds it (to tell whether an edit changed it)."""
    if version is None:
        return {}
    return {
        "templates": [
            {
                "order": t.order,
                "title": t.title,
                "description": t.description,
                "due_minutes": t.due_minutes,
                "required": t.required,
                "team_id": t.team_id,
            }
            for t in version.templates.order_by("order", "id")
        ],
        "required_fields": list(version.required_fields),
    }


def _new_version(playbook: Playbook, checked: _Checked, actor: Actor) -> PlaybookVersion:
    last = playbook.versions.aggregate(last=Max("number"))["last"] or 0
    version = PlaybookVersion.objects.create(
        playbook=playbook,
        number=last + 1,
        required_fields=checked.required_fields,
        created_by=actor.label[:200],
    )
    TaskTemplate.objects.bulk_create(TaskTemplate(version=version, **t) for t in checked.templates)
    return version


def _set_topics(playbook: Playbook, topics: list[HelpTopic]) -> None:
    """The playbook becomes the default of exactly these topics (taking them from another playbook)."""
    TopicPlaybook.objects.filter(playbook=playbook).exclude(topic__in=topics).delete()
    for topic in topics:
        TopicPlaybook.objects.update_or_create(topic=topic, defaults={"playbook": playbook})


def _state(playbook: Playbook, version: PlaybookVersion | None) -> dict[str, Any]:
    return {
        "name": playbook.name,
        "block_resolution": playbook.block_resolution,
        "version": version.number if version else None,
        "topics": sorted(TopicPlaybook.objects.filter(playbook=playbook).values_list("topic_id", flat=True)),
    }


@transaction.atomic
def playbook_create(*, actor: Actor, definition: PlaybookDefinition) -> Playbook:
    """Save a new playbook as its version 1."""
    checked = _check(definition, None)
    playbook = Playbook.objects.create(
        name=checked.name, description=checked.description, block_resolution=definition.block_resolution
    )
    version = _new_version(playbook, checked, actor)
    _set_topics(playbook, checked.topics)
    record(actor=actor, action="playbook.created", target=playbook, after=_state(playbook, version))
    return playbook


@transaction.atomic
def playbook_update(*, actor: Actor, playbook: Playbook, definition: PlaybookDefinition) -> Playbook:
    """Change a playbook: a new version when its tasks or required fields change (tickets keep theirs)."""
    playbook = Playbook.objects.select_for_update().get(pk=playbook.pk)
    checked = _check(definition, playbook)
    current = playbook.current
    before = _state(playbook, current)
    playbook.name = checked.name
    playbook.description = checked.description
    playbook.block_resolution = definition.block_resolution
    playbook.save()
    content = {"templates": checked.templates, "required_fields": checked.required_fields}
    version = _new_version(playbook, checked, actor) if content != _content(current) else current
    _set_topics(playbook, checked.topics)
    after = _state(playbook, version)
    record(actor=actor, action="playbook.updated", target=playbook, before=before, after=after)
    return playbook


@transaction.atomic
def playbook_delete(*, actor: Actor, playbook: Playbook) -> None:
    """Delete a playbook never applied to a ticket (one that was stays: tickets name its version)."""
    applied = PlaybookRun.objects.filter(playbook=playbook).count()
    if applied:
        raise ServiceError(
            f"The playbook {playbook.name!r} was applied to {applied} ticket(s), which keep its tasks and "
            "version; it cannot be deleted.",
            fields={"playbook": "in_use"},
        )
    filters = [
        rule.name
        for rule in FilterRule.objects.only("name", "actions")
        if any(a.get("type") == "apply_playbook" and a.get("value") == playbook.pk for a in rule.actions)
    ]
    if filters:
        raise ServiceError(
            f"The playbook {playbook.name!r} is applied by the ticket filter(s) {', '.join(filters)}; change "
            "them first.",
            fields={"playbook": "in_use"},
        )
    before = _state(playbook, playbook.current)
    record(actor=actor, action="playbook.deleted", target=playbook, before=before)
    playbook.delete()


@transaction.atomic
def playbook_apply(*, actor: Actor, ticket: Ticket, playbook: Playbook, why: str = "") -> PlaybookRun:
    """Add the playbook's current tasks to the ticket, once: applying it again is refused.

    Due times count from now; a template's team is kept only when it belongs to the ticket's department.
    `why` says what asked for it when no agent did (e.g. "the ticket filter 'Phishing reports'"): it is in
    the audit event and the ticket's history, so an analyst sees where the checklist came from.
    """
    ticket = lock_ticket(ticket)
    require_edit(actor, ticket)
    if ticket.status not in OPEN_STATUSES:
        raise ServiceError(
            f"{ticket.number} is {ticket.get_status_display().lower()}: reopen it to apply a playbook.",
            fields={"playbook": "ticket_closed"},
        )
    version = playbook.current
    if version is None:  # only a playbook written around the services has no version
        raise ServiceError(f"The playbook {playbook.name!r} has no tasks yet.", fields={"playbook": "empty"})
    existing = PlaybookRun.objects.filter(ticket=ticket, playbook=playbook).select_related("version").first()
    if existing is not None:
        raise ServiceError(
            f"The playbook {playbook.name!r} was already applied to {ticket.number} (version "
            f"{existing.version.number}, by {existing.applied_by}); its tasks are on the checklist.",
            fields={"playbook": "already_applied"},
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            run = PlaybookRun.objects.create(
                ticket=ticket,
                playbook=playbook,
                version=version,
                applied_at=now,
                applied_by=actor.label[:200],
            )
    except IntegrityError:  # a concurrent apply won: the same refusal
        raise ServiceError(
            f"The playbook {playbook.name!r} was already applied to {ticket.number}.",
            fields={"playbook": "already_applied"},
        ) from None
    last = Task.objects.filter(ticket=ticket).aggregate(last=Max("order"))["last"]
    start = 0 if last is None else last + 1
    templates = list(version.templates.select_related("team").order_by("order", "id"))
    Task.objects.bulk_create(
        Task(
            ticket=ticket,
            run=run,
            template=template,
            title=template.title,
            description=template.description,
            team=template.team
            if template.team and template.team.department_id in (None, ticket.department_id)
            else None,
            due_at=now + timedelta(minutes=template.due_minutes) if template.due_minutes else None,
            required=template.required,
            order=start + index,
            created_at=now,
            updated_at=now,
            created_by=actor.label[:200],
        )
        for index, template in enumerate(templates)
    )
    record_task_event(
        actor,
        "playbook.applied",
        ticket,
        now,
        after={
            "playbook": playbook.pk,
            "name": playbook.name,
            "version": version.number,
            "tasks": len(templates),
            **({"why": why} if why else {}),
        },
    )
    return run
