"""Integrations: validation, writes (create, update, rotate token, disable or delete) and the sample preview.

The admin form and the REST API both validate with `integration_problems` and preview with
`integration_preview`, so an integration accepted in one is accepted in the other.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from socdesk.alerts import adapters
from socdesk.alerts import observables as obs
from socdesk.alerts.adapters import AdapterError
from socdesk.alerts.adapters.base import group_key_from
from socdesk.alerts.adapters.generic import FIELDS as GENERIC_FIELDS
from socdesk.alerts.adapters.generic import compile_map
from socdesk.alerts.choices import Adapter, GroupBy
from socdesk.alerts.ingest import integration_settings
from socdesk.alerts.models import Alert, Integration, WebhookDelivery, new_url_token
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.tickets.choices import Severity

# What a caller may set; the token is generated (and rotated) by the server, never chosen.
EDITABLE = (
    "adapter",
    "name",
    "enabled",
    "department",
    "team",
    "default_severity",
    "default_tags",
    "severity_map",
    "grouping_key",
    "group_by",
    "field_map",
    "auto_resolve",
    "hmac_secret",
    "hmac_header",
    "hmac_timestamp_header",
)
# Never written to the audit trail in clear.
SECRET_FIELDS = ("hmac_secret",)


# --- validation (pure) -------------------------------------------------------------------------------


def severity_map_problem(value: Any) -> str:
    if not isinstance(value, dict):
        return 'Use a JSON object, e.g. {"warning": "low"}.'
    bad = {k: v for k, v in value.items() if v not in Severity.values}
    if bad:
        return f"These map to unknown severities: {bad}; use one of {', '.join(Severity.values)}."
    return ""


def default_tags_problem(value: Any) -> str:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        return 'Use a JSON list of words, e.g. ["prometheus", "infra"].'
    return ""


def field_map_problem(value: Any) -> str:
    if not isinstance(value, dict):
        return 'Use a JSON object, e.g. {"title": "alert.name"}.'
    unknown = sorted(str(k) for k in value if k not in GENERIC_FIELDS)
    if unknown:
        return f"Unknown field {', '.join(unknown)}; the field map knows: {', '.join(GENERIC_FIELDS)}."
    if not all(isinstance(v, str) for v in value.values()):
        return "Each field map entry must be a JMESPath expression written as text."
    try:
        compile_map(value)
    except AdapterError as exc:
        return exc.message
    return ""


def grouping_key_problem(value: Any) -> str:
    if not isinstance(value, str):
        return "Give the grouping key as text: comma-separated JMESPath expressions."
    try:
        group_key_from(value, {})
    except AdapterError as exc:
        return exc.message
    return ""


CHECKS = {
    "severity_map": severity_map_problem,
    "default_tags": default_tags_problem,
    "field_map": field_map_problem,
    "grouping_key": grouping_key_problem,
}


def integration_problems(values: dict[str, Any]) -> dict[str, str]:
    """{field: sentence} for each value that cannot be stored (only the fields given are checked)."""
    problems = {}
    for name, check in CHECKS.items():
        if name in values:
            problem = check(values[name])
            if problem:
                problems[name] = problem
    if "adapter" in values and values["adapter"] not in Adapter.values:
        problems["adapter"] = (
            f"Unknown adapter {values['adapter']!r}; use one of: {', '.join(Adapter.values)}."
        )
    if "default_severity" in values and values["default_severity"] not in Severity.values:
        problems["default_severity"] = f"Use one of: {', '.join(Severity.values)}."
    if "group_by" in values and values["group_by"] not in GroupBy.values:
        problems["group_by"] = f"Use one of: {', '.join(GroupBy.values)}."
    if "name" in values and not str(values["name"] or "").strip():
        problems["name"] = "Give the integration a name."
    return problems


# --- writes ------------------------------------------------------------------------------------------


def _snapshot(integration: Integration) -> dict[str, Any]:
    data = {name: getattr(integration, name) for name in EDITABLE if name not in ("department", "team")}
    data["department"] = integration.department_id
    data["team"] = integration.team_id
    for name in SECRET_FIELDS:
        data[name] = "(set)" if data[name] else ""
    return data


def _check(values: dict[str, Any], integration: Integration | None = None) -> None:
    problems = integration_problems(values)
    name = str(values.get("name", "")).strip()
    if name and "name" not in problems:
        clash = Integration.objects.filter(name=name)
        if integration is not None:
            clash = clash.exclude(pk=integration.pk)
        if clash.exists():
            problems["name"] = f"Another integration is already called {name!r}; choose another name."
    team, department = values.get("team"), values.get("department")
    if department is None and integration is not None and "department" not in values:
        department = integration.department
    if team is not None and department is not None and team.department_id != department.pk:
        problems["team"] = f"The team {team.name} is not in the department {department.name}."
    if problems:
        raise ServiceError(
            "Check these fields: " + "; ".join(f"{k}: {v}" for k, v in problems.items()), fields=problems
        )


@transaction.atomic
def integration_create(*, actor: Actor, adapter: str, name: str, **values: Any) -> Integration:
    """Add an alert source; its URL token is generated here and shown to the caller once in the reply."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ServiceError(f"Unknown integration fields: {', '.join(sorted(unknown))}.")
    values = {"adapter": adapter, "name": str(name).strip(), **values}
    _check(values)
    integration = Integration.objects.create(**values)
    record(actor=actor, action="integration.created", target=integration, after=_snapshot(integration))
    return integration


@transaction.atomic
def integration_update(*, actor: Actor, integration: Integration, **changes: Any) -> Integration:
    """Change an integration's settings (all or nothing)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ServiceError(f"Unknown integration fields: {', '.join(sorted(unknown))}.")
    if "name" in changes:
        changes["name"] = str(changes["name"]).strip()
    _check(changes, integration)
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    before = _snapshot(integration)
    for name, value in changes.items():
        setattr(integration, name, value)
    integration.save()
    after = _snapshot(integration)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        record(
            actor=actor,
            action="integration.updated",
            target=integration,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return integration


@transaction.atomic
def integration_rotate_token(*, actor: Actor, integration: Integration) -> Integration:
    """Give the integration a new URL token; the old webhook URL stops working at once."""
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    integration.token = new_url_token()
    integration.save(update_fields=["token"])
    # The token is a secret: the audit says it changed, not what it is.
    record(actor=actor, action="integration.token_rotated", target=integration)
    return integration


@transaction.atomic
def integration_remove(*, actor: Actor, integration: Integration) -> bool:
    """Delete an integration that never received anything; otherwise disable it, so that the alerts and
    deliveries it brought keep saying where they came from. Returns True when it was deleted."""
    integration = Integration.objects.select_for_update().get(pk=integration.pk)
    used = (
        Alert.objects.filter(integration=integration).exists()
        or WebhookDelivery.objects.filter(integration=integration).exists()
    )
    if used:
        if integration.enabled:
            integration.enabled = False
            integration.save(update_fields=["enabled"])
            record(
                actor=actor,
                action="integration.disabled",
                target=integration,
                before={"enabled": True},
                after={"enabled": False},
            )
        return False
    snapshot, pk, label = _snapshot(integration), integration.pk, str(integration)
    integration.delete()
    record(
        actor=actor,
        action="integration.deleted",
        target_type="integration",
        target_id=str(pk),
        target_label=label,
        before=snapshot,
    )
    return True


# --- preview (reads nothing, writes nothing) -----------------------------------------------------------


def integration_preview(integration: Integration, body: bytes | str) -> list[dict[str, Any]]:
    """The normalised alerts (with the observables the pipeline would extract) this integration would make
    from a sample payload; nothing is stored. AdapterError for a payload it cannot read."""
    settings = integration_settings(integration)
    raw = body.encode() if isinstance(body, str) else body
    payload = adapters.check(integration.adapter, raw, settings)
    return [
        {"alert": alert, "observables": obs.extract(alert.observables, f"{alert.title}\n{alert.description}")}
        for alert in adapters.normalise(integration.adapter, payload, settings)
    ]
