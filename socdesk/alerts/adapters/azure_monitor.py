"""Azure Monitor action group webhooks in the common alert schema."""

from __future__ import annotations

from typing import Any

from socdesk.alerts.adapters.base import (
    AdapterError,
    AdapterSettings,
    NormalisedAlert,
    apply_grouping,
    first,
    load_json,
    lookup,
    map_severity,
    parse_time,
    text,
)

load = load_json

SEVERITY = {"sev0": "critical", "sev1": "high", "sev2": "medium", "sev3": "low", "sev4": "info"}


def missing_fields(payload: Any) -> list[str]:
    essentials = lookup(payload, "data.essentials") if isinstance(payload, dict) else None
    if not isinstance(essentials, dict):
        return ["data.essentials"]
    return [f"data.essentials.{k}" for k in ("alertId", "alertRule") if essentials.get(k) in (None, "")]


def parse(payload: Any, settings: AdapterSettings) -> list[NormalisedAlert]:
    essentials = lookup(payload, "data.essentials") if isinstance(payload, dict) else None
    if not isinstance(essentials, dict):
        raise AdapterError("The payload is not in the common alert schema (no data.essentials).")
    alert_id = text(essentials.get("alertId"), 255)
    rule = text(essentials.get("alertRule"), 200) or "Azure Monitor alert"
    condition = text(essentials.get("monitorCondition")).lower()
    targets = essentials.get("configurationItems") or essentials.get("alertTargetIDs") or []
    targets = [text(t, 300) for t in targets] if isinstance(targets, list) else [text(targets, 300)]
    lines = [
        text(essentials.get("description")),
        f"{text(essentials.get('monitoringService'), 100)} / {text(essentials.get('signalType'), 50)}",
        "Targets: " + ", ".join(targets) if targets else "",
    ]
    context = lookup(payload, "data.alertContext")
    if context:
        lines.append("Context: " + text(context, 4000))
    alert = NormalisedAlert(
        title=(f"{rule} ({targets[0]})" if targets and len(targets[0]) < 80 else rule)[:255],
        rule=rule,
        fingerprint=alert_id or f"azure:{rule}",
        severity=map_severity(essentials.get("severity"), settings, SEVERITY),
        description="\n".join(line for line in lines if line.strip(" /")),
        occurred_at=parse_time(first(essentials.get("firedDateTime"), essentials.get("resolvedDateTime"))),
        status="resolved" if condition == "resolved" else "firing",
        raw=payload,
        external_id=alert_id,
    )
    return [apply_grouping(alert, settings, payload)]
