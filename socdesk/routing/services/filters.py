"""Writes for ticket filters: create, update, delete; each validates the whole filter and is audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Model

from socdesk.accounts.models import Agent, Department, Team
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_json, clean_text
from socdesk.routing.choices import FilterEvent
from socdesk.routing.matching import compile_filter
from socdesk.routing.models import FilterRule, HelpTopic, SLAPlan
from socdesk.routing.vocabulary import ActionSpec, ActionType, ConditionSpec, FilterSpec, RuleError

REFERENCED_MODELS: dict[ActionType, tuple[type[Model], str]] = {
    ActionType.SET_DEPARTMENT: (Department, "department"),
    ActionType.SET_TEAM: (Team, "team"),
    ActionType.SET_AGENT: (Agent, "agent"),
    ActionType.SET_SLA_PLAN: (SLAPlan, "SLA plan"),
    ActionType.SET_HELP_TOPIC: (HelpTopic, "help topic"),
}


def filter_reference_register(action: ActionType, model: type[Model], label: str) -> None:
    """An app above routing names the model an action's id points at (the mail app: canned responses),
    so a filter pointing at one that does not exist is refused at save like the others."""
    REFERENCED_MODELS[action] = (model, label)


@dataclass(frozen=True)
class FilterDefinition:
    """Everything a ticket filter is, as an editor, the API or a configuration file gives it."""

    name: str
    conditions: Sequence[Mapping[str, Any]]
    actions: Sequence[Mapping[str, Any]]
    order: int = 0
    enabled: bool = True
    channel: str = "any"
    channel_id: int | None = None
    match_all: bool = True
    stop_on_match: bool = False
    time_zone: str = "UTC"
    on_events: Sequence[str] = ()
    webhook_secret: str = ""


# What a filter may still do to a ticket that exists (on events): reject, status, SLA plan, help topic
# and the auto-response belong to a ticket's opening.
EVENT_ACTIONS = frozenset(
    {
        ActionType.ADD_TAGS,
        ActionType.ADD_NOTE,
        ActionType.NOTIFY,
        ActionType.WEBHOOK,
        ActionType.SET_SEVERITY,
        ActionType.SET_AGENT,
        ActionType.SET_TEAM,
        ActionType.SET_DEPARTMENT,
        ActionType.STOP,
    }
)


def _check_events(definition: FilterDefinition, name: str, actions: Sequence[ActionType]) -> list[str]:
    """The filter's events, in the documented order; refuses an unknown one or an action of creation."""
    events = []
    for event in definition.on_events:
        if event not in FilterEvent.values:
            raise ServiceError(
                f"Filter {name!r}: unknown event {event!r} (use one of {', '.join(FilterEvent.values)}).",
                fields={"on_events": "invalid"},
            )
        if event not in events:
            events.append(event)
    if events:
        for index, kind in enumerate(actions):
            if kind not in EVENT_ACTIONS:
                raise ServiceError(
                    f"Filter {name!r}, action {index + 1} ({kind.value}) only applies when a ticket is "
                    "opened; a filter that also runs on events may add tags or a note, notify, call a "
                    "webhook, set the severity, the assignee, the team or the department.",
                    fields={"on_events": "creation_action"},
                )
    return [e for e in FilterEvent.values if e in events]


def _parse(definition: FilterDefinition) -> tuple[list[dict[str, Any]], list[dict[str, Any]], FilterSpec]:
    """The stored JSON and the pure spec, or a `ServiceError` naming the condition or action at fault."""
    name = clean_text(definition.name).strip()
    if not name:
        raise ServiceError("A ticket filter needs a name.", fields={"name": "required"})
    if len(name) > 100:
        raise ServiceError("A ticket filter's name has at most 100 characters.", fields={"name": "too_long"})
    conditions: list[dict[str, Any]] = []
    for index, condition in enumerate(definition.conditions):
        if not isinstance(condition, Mapping) or not {"field", "operator"} <= condition.keys():
            raise ServiceError(
                f"Filter {name!r}, condition {index + 1}: give its field, operator and value.",
                fields={"conditions": "invalid"},
            )
        conditions.append(
            {
                "field": str(condition["field"]),
                "operator": str(condition["operator"]),
                "value": clean_json(condition.get("value")),
            }
        )
    actions: list[dict[str, Any]] = []
    for index, action in enumerate(definition.actions):
        if not isinstance(action, Mapping) or "type" not in action:
            raise ServiceError(
                f"Filter {name!r}, action {index + 1}: give its type (and value).",
                fields={"actions": "invalid"},
            )
        actions.append({"type": str(action["type"]), "value": clean_json(action.get("value"))})
    spec = FilterSpec(
        id=0,
        name=name,
        conditions=tuple(ConditionSpec(c["field"], c["operator"], c["value"]) for c in conditions),
        actions=tuple(ActionSpec(a["type"], a["value"]) for a in actions),
        order=definition.order,
        enabled=definition.enabled,
        channel=definition.channel,
        channel_id=definition.channel_id,
        match_all=definition.match_all,
        stop_on_match=definition.stop_on_match,
        time_zone=definition.time_zone,
    )
    return conditions, actions, spec


def _validate(
    definition: FilterDefinition, *, instance: FilterRule | None = None
) -> tuple[FilterSpec, dict[str, Any]]:
    conditions, actions, spec = _parse(definition)
    try:
        compiled = compile_filter(spec)
    except RuleError as error:
        raise ServiceError(str(error), fields={"conditions": "invalid"}) from None
    for index, action in enumerate(compiled.actions):
        if action.type in REFERENCED_MODELS:
            model, label = REFERENCED_MODELS[action.type]
            if not model._default_manager.filter(pk=action.value).exists():
                raise ServiceError(
                    f"Filter {spec.name!r}, action {index + 1} ({action.type.value}): there is no {label} "
                    f"with id {action.value}; pick an existing one.",
                    fields={"actions": "missing_target"},
                )
    on_events = _check_events(definition, spec.name, [action.type for action in compiled.actions])
    secret = clean_text(definition.webhook_secret or "").strip()
    if len(secret) > 200:
        raise ServiceError(
            f"Filter {spec.name!r}: the webhook secret has at most 200 characters.",
            fields={"webhook_secret": "too_long"},
        )
    if definition.channel_id is not None and definition.channel_id < 1:
        raise ServiceError("A filter's integration or mailbox id must be a positive number.")
    taken = FilterRule.objects.filter(name__iexact=spec.name)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ServiceError(f"A ticket filter named {spec.name!r} already exists.", fields={"name": "taken"})
    values = {
        "name": spec.name,
        "order": definition.order,
        "enabled": definition.enabled,
        "channel": compiled.channel.value,
        "channel_id": definition.channel_id,
        "match_all": definition.match_all,
        "stop_on_match": definition.stop_on_match,
        "time_zone": definition.time_zone,
        "conditions": conditions,
        "actions": actions,
        "on_events": on_events,
        "webhook_secret": secret,
    }
    return spec, values


def _snapshot(rule: FilterRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "order": rule.order,
        "enabled": rule.enabled,
        "channel": rule.channel,
        "channel_id": rule.channel_id,
        "match_all": rule.match_all,
        "stop_on_match": rule.stop_on_match,
        "time_zone": rule.time_zone,
        "conditions": rule.conditions,
        "actions": rule.actions,
        "on_events": rule.on_events,
        # Whether a secret is set, never the secret itself (the audit trail is read by many).
        "webhook_secret": bool(rule.webhook_secret),
    }


@transaction.atomic
def filter_create(*, actor: Actor, definition: FilterDefinition) -> FilterRule:
    """Create a ticket filter after checking every condition and action (nothing is written if one fails)."""
    _spec, values = _validate(definition)
    rule = FilterRule.objects.create(**values)
    record(actor=actor, action="ticket_filter.created", target=rule, after=_snapshot(rule))
    return rule


@transaction.atomic
def filter_update(*, actor: Actor, rule: FilterRule, definition: FilterDefinition) -> FilterRule:
    """Replace a ticket filter's definition (validated as at creation); clears a warning that disabled it."""
    rule = FilterRule.objects.select_for_update().get(pk=rule.pk)
    _spec, values = _validate(definition, instance=rule)
    before = _snapshot(rule)
    secret_changed = values["webhook_secret"] != rule.webhook_secret
    for name, value in values.items():
        setattr(rule, name, value)
    rule.disabled_reason = ""
    rule.save()
    after = _snapshot(rule)
    if secret_changed:
        # The snapshot only says whether a secret is set; replacing one secret by another must show too.
        after["webhook_secret_changed"] = True
    record(actor=actor, action="ticket_filter.updated", target=rule, before=before, after=after)
    return rule


@transaction.atomic
def filter_delete(*, actor: Actor, rule: FilterRule) -> None:
    """Delete a ticket filter."""
    rule = FilterRule.objects.select_for_update().get(pk=rule.pk)
    before = _snapshot(rule)
    record(actor=actor, action="ticket_filter.deleted", target=rule, before=before)
    rule.delete()
