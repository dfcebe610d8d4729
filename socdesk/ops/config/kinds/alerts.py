"""Integrations (alert sources), without their URL tokens and HMAC secrets."""

from __future__ import annotations

from typing import Any

from socdesk.alerts.choices import Adapter, GroupBy
from socdesk.alerts.integrations import (
    EDITABLE,
    SECRET_FIELDS,
    integration_create,
    integration_remove,
    integration_update,
)
from socdesk.alerts.models import Integration
from socdesk.ops.config.kinds.base import Entry, Kind, Writer, by_name
from socdesk.ops.config.schema import Boolean, Choice, Field, ListOf, MapOf, Nullable, Record, Ref, Text
from socdesk.tickets.choices import Severity

# The settings a file carries besides the name: what the services let a caller set, less the secrets (the
# URL token is not settable at all), which a file never holds and apply leaves as they are.
SETTINGS = tuple(name for name in EDITABLE if name != "name" and name not in SECRET_FIELDS)


def _integration_entry(integration: Integration) -> Entry:
    return {
        "name": integration.name,
        "adapter": integration.adapter,
        "enabled": integration.enabled,
        "department": integration.department.name if integration.department else None,
        "team": integration.team.name if integration.team else None,
        "default_severity": integration.default_severity,
        "default_tags": list(integration.default_tags),
        # Sorted: PostgreSQL's jsonb and SQLite keep a mapping's keys in different orders.
        "severity_map": dict(sorted(integration.severity_map.items())),
        "grouping_key": integration.grouping_key,
        "group_by": integration.group_by,
        "field_map": dict(sorted(integration.field_map.items())),
        "auto_resolve": integration.auto_resolve,
        "hmac_header": integration.hmac_header,
        "hmac_timestamp_header": integration.hmac_timestamp_header,
    }


def _write_integration(writer: Writer, entry: Entry, existing: Integration | None) -> Integration:
    values: dict[str, Any] = {name: entry[name] for name in SETTINGS}
    values["department"] = writer.resolve("departments", entry["department"])
    values["team"] = writer.resolve("teams", entry["team"])
    if existing is None:
        return integration_create(actor=writer.actor, name=entry["name"], **values)
    current = _integration_entry(existing)
    # Only what differs: the service records exactly the changed settings.
    changes = {name: values[name] for name in SETTINGS if current[name] != entry[name]}
    return integration_update(actor=writer.actor, integration=existing, **changes)


def _remove_integration(writer: Writer, integration: Integration) -> str:
    # One that brought alerts is only disabled, so that they keep saying where they came from.
    was_enabled = integration.enabled
    if integration_remove(actor=writer.actor, integration=integration):
        return "deleted"
    return "disabled" if was_enabled else "unchanged"


INTEGRATIONS = Kind(
    key="integrations",
    label="integration",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "adapter": Field(Choice(Adapter.values)),
            "enabled": Field(Boolean(), True),
            "department": Field(Nullable(Ref("departments")), None),
            "team": Field(Nullable(Ref("teams")), None),
            "default_severity": Field(Choice(Severity.values), Severity.MEDIUM.value),
            "default_tags": Field(ListOf(Text(required=True)), []),
            "severity_map": Field(MapOf(Text(), Choice(Severity.values)), {}),
            "grouping_key": Field(Text(max_length=500), ""),
            "group_by": Field(Choice(GroupBy.values), GroupBy.GROUP.value),
            "field_map": Field(MapOf(Text(), Text()), {}),
            "auto_resolve": Field(Boolean(), False),
            "hmac_header": Field(Text(max_length=100), Integration._meta.get_field("hmac_header").default),
            "hmac_timestamp_header": Field(Text(max_length=100), ""),
        }
    ),
    read=lambda: by_name(
        [(i, _integration_entry(i)) for i in Integration.objects.select_related("department", "team")]
    ),
    find=lambda name: Integration.objects.filter(name=name).first(),
    write=_write_integration,
    remove=_remove_integration,
    comment="URL tokens and HMAC secrets are never exported, and applying a file never changes them: a new\n"
    "integration gets a new token (shown in the admin area), and a secret is set there by hand.",
)
