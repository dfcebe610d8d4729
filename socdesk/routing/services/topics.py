"""Writes for help topics: create, update, delete; each validates its defaults and is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from socdesk.accounts.models import Agent, Department, DepartmentAccess, Team
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_text
from socdesk.routing.models import CustomForm, HelpTopic, SLAPlan
from socdesk.routing.services._common import filters_using
from socdesk.tickets.choices import Severity


@dataclass(frozen=True)
class TopicDefinition:
    """A help topic: what new tickets on it get by default."""

    name: str
    parent: HelpTopic | None = None
    department: Department | None = None
    team: Team | None = None
    agent: Agent | None = None
    severity: str = ""
    sla_plan: SLAPlan | None = None
    portal_visible: bool = True
    auto_response: bool = True
    form: CustomForm | None = None


def _validate(definition: TopicDefinition, instance: HelpTopic | None = None) -> str:
    name = clean_text(definition.name).strip()
    if not name or len(name) > 100:
        raise ServiceError("A help topic needs a name of 1 to 100 characters.", fields={"name": "invalid"})
    if definition.severity and definition.severity not in Severity.values:
        raise ServiceError(
            f"Help topic {name!r}: unknown severity {definition.severity!r} "
            f"(use {', '.join(Severity.values)}).",
            fields={"severity": "invalid"},
        )
    parent = definition.parent
    while parent is not None and instance is not None:
        if parent.pk == instance.pk:
            raise ServiceError(
                f"Help topic {name!r} cannot sit under itself or one of its own sub-topics.",
                fields={"parent": "cycle"},
            )
        parent = parent.parent
    team, department, agent = definition.team, definition.department, definition.agent
    if team is not None and department is not None and team.department_id not in (None, department.pk):
        raise ServiceError(
            f"Help topic {name!r}: team {team.name!r} belongs to another department "
            f"than {department.name!r}.",
            fields={"team": "other_department"},
        )
    if (
        agent is not None
        and department is not None
        and not agent.is_admin
        and not DepartmentAccess.objects.filter(agent=agent, department=department).exists()
    ):
        raise ServiceError(
            f"Help topic {name!r}: agent {agent} has no access to department {department.name!r}.",
            fields={"agent": "no_access"},
        )
    siblings = HelpTopic.objects.filter(name__iexact=name, parent=definition.parent)
    if instance is not None:
        siblings = siblings.exclude(pk=instance.pk)
    if siblings.exists():
        raise ServiceError(f"A help topic named {name!r} already exists there.", fields={"name": "taken"})
    return name


def _snapshot(topic: HelpTopic) -> dict[str, Any]:
    return {
        "name": topic.name,
        "parent_id": topic.parent_id,
        "department_id": topic.department_id,
        "team_id": topic.team_id,
        "agent_id": topic.agent_id,
        "severity": topic.severity,
        "sla_plan_id": topic.sla_plan_id,
        "portal_visible": topic.portal_visible,
        "auto_response": topic.auto_response,
        "form_id": topic.form_id,
    }


def _apply(topic: HelpTopic, name: str, definition: TopicDefinition) -> None:
    topic.name = name
    topic.parent = definition.parent
    topic.department = definition.department
    topic.team = definition.team
    topic.agent = definition.agent
    topic.severity = definition.severity
    topic.sla_plan = definition.sla_plan
    topic.portal_visible = definition.portal_visible
    topic.auto_response = definition.auto_response
    topic.form = definition.form
    topic.save()


@transaction.atomic
def help_topic_create(*, actor: Actor, definition: TopicDefinition) -> HelpTopic:
    """Create a help topic."""
    name = _validate(definition)
    topic = HelpTopic()
    _apply(topic, name, definition)
    record(actor=actor, action="help_topic.created", target=topic, after=_snapshot(topic))
    return topic


@transaction.atomic
def help_topic_update(*, actor: Actor, topic: HelpTopic, definition: TopicDefinition) -> HelpTopic:
    """Replace a help topic's settings."""
    topic = HelpTopic.objects.select_for_update().get(pk=topic.pk)
    name = _validate(definition, topic)
    before = _snapshot(topic)
    _apply(topic, name, definition)
    record(actor=actor, action="help_topic.updated", target=topic, before=before, after=_snapshot(topic))
    return topic


@transaction.atomic
def help_topic_delete(*, actor: Actor, topic: HelpTopic) -> None:
    """Delete a help topic without sub-topics that no ticket filter uses."""
    children = list(topic.children.values_list("name", flat=True))
    if children:
        raise ServiceError(
            f"Help topic {topic.name!r} has sub-topics ({', '.join(children)}); move them first."
        )
    tickets = topic.ticket_links.count()
    if tickets:
        raise ServiceError(
            f"Help topic {topic.name!r} is the topic of {tickets} ticket(s); it stays so their history "
            "keeps it (hide it from the portal instead)."
        )
    filters = filters_using("set_help_topic", topic.pk)
    if filters:
        raise ServiceError(f"Help topic {topic.name!r} is used by ticket filter(s) {', '.join(filters)}.")
    record(actor=actor, action="help_topic.deleted", target=topic, before=_snapshot(topic))
    topic.delete()
