"""Ticket filters, with the objects their actions set (and the integration they listen to) named."""

from __future__ import annotations

from typing import Any

from socdesk.accounts.models import Agent, Department, Team
from socdesk.alerts.models import Integration
from socdesk.mail.models import CannedResponse
from socdesk.ops.config.document import Path
from socdesk.ops.config.kinds.base import Entry, Kind, Writer, deleted
from socdesk.ops.config.kinds.base import definition as make
from socdesk.ops.config.kinds.canned_kb import canned_name
from socdesk.ops.config.kinds.routing import topic_paths
from socdesk.ops.config.schema import (
    MISSING,
    Boolean,
    Check,
    Choice,
    Field,
    Integer,
    ListOf,
    Nullable,
    Plain,
    Record,
    Ref,
    Schema,
    Text,
)
from socdesk.routing.choices import FilterEvent
from socdesk.routing.models import FilterRule, SLAPlan
from socdesk.routing.services.filters import FilterDefinition, filter_create, filter_delete, filter_update
from socdesk.routing.vocabulary import ActionType, Channel

# The actions whose stored value is an object's id; in the file it is the object's name.
REFERENCE_KINDS = {
    ActionType.SET_DEPARTMENT.value: "departments",
    ActionType.SET_TEAM.value: "teams",
    ActionType.SET_AGENT.value: "agents",
    ActionType.SET_SLA_PLAN.value: "sla_plans",
    ActionType.SET_HELP_TOPIC.value: "help_topics",
    ActionType.REPLY_CANNED.value: "canned_responses",
}


class ActionEntry(Schema):
    """`{type: set_team, value: Tier 1}`; `value` is left out for actions that take none (stop, reject)."""

    def check(self, value: Any, path: Path, check: Check) -> Any:
        record = Record(
            {"type": Field(Choice(t.value for t in ActionType)), "value": Field(Plain(), None)}
        ).check(value, path, check)
        if record is MISSING:
            return MISSING
        kind = REFERENCE_KINDS.get(record["type"])
        if kind is not None:
            record["value"] = Ref(kind).check(record["value"], (*path, "value"), check)
            if record["value"] is MISSING:
                return MISSING
        return record if record["value"] is not None else {"type": record["type"]}


CONDITION = Record(
    {
        "field": Field(Text(required=True)),
        "operator": Field(Text(required=True)),
        "value": Field(Plain(), None),
    }
)


def _name_maps() -> dict[str, dict[int, str]]:
    return {
        "departments": dict(Department.objects.values_list("id", "name")),
        "teams": dict(Team.objects.values_list("id", "name")),
        "agents": dict(Agent.objects.values_list("id", "user__username")),
        "sla_plans": dict(SLAPlan.objects.values_list("id", "name")),
        "help_topics": topic_paths(),
        "canned_responses": {
            c.pk: canned_name(c) for c in CannedResponse.objects.select_related("department")
        },
    }


def _read_filters() -> list[tuple[Any, Entry]]:
    names = _name_maps()
    integrations = dict(Integration.objects.values_list("id", "name"))
    rows = []
    for rule in FilterRule.objects.order_by("order", "id"):
        actions = []
        for action in rule.actions:
            value = action.get("value")
            kind = REFERENCE_KINDS.get(action.get("type"))
            if kind is not None:
                # An object deleted behind the filter's back stays an id, which apply then refuses.
                value = names[kind].get(value, value)
            actions.append(
                {"type": action.get("type")}
                if value is None
                else {"type": action.get("type"), "value": value}
            )
        by_integration = rule.channel == Channel.ALERT and rule.channel_id in integrations
        rows.append(
            (
                rule,
                {
                    "name": rule.name,
                    "order": rule.order,
                    "enabled": rule.enabled,
                    "channel": rule.channel,
                    "integration": integrations.get(rule.channel_id or 0) if by_integration else None,
                    "channel_id": None if by_integration else rule.channel_id,
                    "match_all": rule.match_all,
                    "stop_on_match": rule.stop_on_match,
                    "time_zone": rule.time_zone,
                    "conditions": [
                        {"field": c.get("field"), "operator": c.get("operator"), "value": c.get("value")}
                        for c in rule.conditions
                    ],
                    "actions": actions,
                    "on_events": list(rule.on_events),
                },
            )
        )
    return rows


def _write_filter(writer: Writer, entry: Entry, existing: FilterRule | None) -> FilterRule:
    integration = writer.resolve("integrations", entry["integration"])
    actions = []
    for action in entry["actions"]:
        kind = REFERENCE_KINDS.get(action["type"])
        value = writer.resolve(kind, action["value"]).pk if kind else action.get("value")
        actions.append({"type": action["type"], "value": value})
    definition = make(
        FilterDefinition,
        existing,
        name=entry["name"],
        conditions=entry["conditions"],
        actions=actions,
        order=entry["order"],
        enabled=entry["enabled"],
        channel=entry["channel"],
        channel_id=integration.pk if integration is not None else entry["channel_id"],
        match_all=entry["match_all"],
        stop_on_match=entry["stop_on_match"],
        time_zone=entry["time_zone"],
        on_events=entry["on_events"],
        # webhook_secret is not given: `make` keeps the stored one (a new filter has none).
    )
    if existing is None:
        return filter_create(actor=writer.actor, definition=definition)
    return filter_update(actor=writer.actor, rule=existing, definition=definition)


def _check_filter(record: Entry, path: Path, check: Check) -> None:
    # Each event once, in the documented order (as the service stores them), whatever the file's order.
    record["on_events"] = [event for event in FilterEvent.values if event in record["on_events"]]
    if record["integration"] is not None and record["channel"] != Channel.ALERT:
        check.fail((*path, "integration"), "only a filter on the alert channel listens to one integration.")
    if record["integration"] is not None and record["channel_id"] is not None:
        check.fail((*path, "channel_id"), "give the integration by name, or a channel_id, not both.")


FILTERS = Kind(
    key="filters",
    label="ticket filter",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "order": Field(Integer(), 0),
            "enabled": Field(Boolean(), True),
            "channel": Field(Choice(c.value for c in Channel), Channel.ANY.value),
            "integration": Field(Nullable(Ref("integrations")), None),
            # A mailbox's id (channel email): mailboxes have no name to give yet.
            "channel_id": Field(Nullable(Integer(minimum=1)), None),
            "match_all": Field(Boolean(), True),
            "stop_on_match": Field(Boolean(), False),
            "time_zone": Field(Text(required=True), "UTC"),
            "conditions": Field(ListOf(CONDITION)),
            "actions": Field(ListOf(ActionEntry())),
            # Ticket events it also runs on, besides a ticket's creation.
            "on_events": Field(ListOf(Choice(FilterEvent.values)), []),
        },
        validate=_check_filter,
    ),
    read=_read_filters,
    find=lambda name: FilterRule.objects.filter(name=name).first(),
    write=_write_filter,
    remove=lambda writer, rule: deleted(filter_delete(actor=writer.actor, rule=rule)),
    comment="Filters run lowest order first (equal orders: in the order they were created).\n"
    "Actions name the department, team, agent (username), SLA plan or help topic (path) they set.\n"
    "on_events: " + " | ".join(FilterEvent.values) + " (besides a ticket's creation).\n"
    "Webhook secrets are never exported, and applying a file never changes them: set them in the admin area.",
)
