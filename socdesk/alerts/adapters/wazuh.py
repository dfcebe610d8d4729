"""Wazuh alerts posted by a custom integration script (the alert JSON exactly as Wazuh wrote it)."""

from __future__ import annotations

from typing import Any

from socdesk.alerts.adapters.base import (
    AdapterError,
    AdapterSettings,
    NormalisedAlert,
    apply_grouping,
    clean_observables,
    digest,
    first,
    load_json,
    lookup,
    map_severity,
    parse_time,
    require_object,
    text,
)

load = load_json

DATA_OBSERVABLES = (
    ("ip", "data.srcip"),
    ("ip", "data.dstip"),
    ("user", "data.srcuser"),
    ("user", "data.dstuser"),
    ("url", "data.url"),
    ("md5", "syscheck.md5_after"),
    ("sha1", "syscheck.sha1_after"),
    ("sha256", "syscheck.sha256_after"),
    ("ip", "data.win.eventdata.ipAddress"),
    ("user", "data.win.eventdata.targetUserName"),
    ("host", "agent.name"),
    ("ip", "agent.ip"),
)


def level_severity(level: Any) -> str | None:
    """Wazuh rule levels 0-15 → SOCdesk severity (None when the level is not a number)."""
    try:
        value = int(str(level).strip())
    except (TypeError, ValueError):
        return None
    if value <= 2:
        return "info"
    if value <= 6:
        return "low"
    if value <= 9:
        return "medium"
    if value <= 12:
        return "high"
    return "critical"


def missing_fields(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["rule"]
    rule = payload.get("rule")
    if not isinstance(rule, dict):
        return ["rule"]
    return [f"rule.{name}" for name in ("id", "description") if rule.get(name) in (None, "")]


def parse(payload: Any, settings: AdapterSettings) -> list[NormalisedAlert]:
    body = require_object(payload)
    rule = body.get("rule")
    if not isinstance(rule, dict):
        raise AdapterError("The Wazuh alert has no `rule` object.", missing=["rule"])
    rule_id = text(rule.get("id"), 50)
    agent_name = text(lookup(body, "agent.name"), 200)
    agent_id = text(lookup(body, "agent.id"), 50)
    src_ip = text(lookup(body, "data.srcip"), 100)
    description = text(rule.get("description"), 200) or f"Wazuh rule {rule_id}"
    level = rule.get("level")
    mapped = settings.severity_map.get(text(level)) if settings.severity_map else None
    severity = mapped if mapped else (level_severity(level) or map_severity(level, settings))
    lines = [text(body.get("full_log"))]
    lines.append(f"Rule {rule_id} (level {text(level, 10)}): {description}")
    mitre = found if isinstance(found := rule.get("mitre"), dict) else {}
    if mitre.get("id"):
        lines.append("MITRE ATT&CK: " + text(mitre.get("id"), 300))
    if text(body.get("location")):
        lines.append(f"Location: {text(body.get('location'), 500)}")
    event_id = text(body.get("id"), 100)
    manager = text(lookup(body, "manager.name"), 100)
    alert = NormalisedAlert(
        title=(f"{description} on {agent_name}" if agent_name else description)[:255],
        rule=description,
        fingerprint=f"wazuh:{manager}:{event_id}" if event_id else digest("wazuh", body),
        severity=severity if severity in ("info", "low", "medium", "high", "critical") else "medium",
        description="\n".join(line for line in lines if line),
        occurred_at=parse_time(first(body.get("timestamp"), body.get("@timestamp"))),
        status="firing",
        observables=clean_observables((kind, lookup(body, path)) for kind, path in DATA_OBSERVABLES),
        raw=body,
        external_id=event_id,
        # Every Wazuh event has its own id: group repeats of a rule on an agent from one source IP.
        group_key="wazuh:" + digest(rule_id, agent_id, src_ip),
        tags=[text(g, 64) for g in rule.get("groups", []) if isinstance(g, str)][:10]
        if isinstance(rule.get("groups"), list)
        else [],
    )
    return [apply_grouping(alert, settings, body)]
