"""Elastic Security / Kibana rule actions through a Webhook connector.

Two shapes arrive: the action body the user templated (rule fields plus `alerts: [...]` of alert
documents), or alert documents posted as they are. In alert documents `kibana.alert.*` keys come
flat and dotted while ECS fields (`source.ip`, `host.name`) come nested: `lookup` reads both.
"""

from __future__ import annotations

import re
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
    text,
    web_link,
)
from socdesk.core import json_input

SEVERITY = {"low": "low", "medium": "medium", "high": "high", "critical": "critical"}

ECS_OBSERVABLES = (
    ("ip", "source.ip"),
    ("ip", "destination.ip"),
    ("ip", "client.ip"),
    ("ip", "server.ip"),
    ("host", "host.name"),
    ("host", "host.hostname"),
    ("ip", "host.ip"),
    ("user", "user.name"),
    ("url", "url.full"),
    ("url", "url.original"),
    ("domain", "dns.question.name"),
    ("domain", "url.domain"),
    ("md5", "file.hash.md5"),
    ("sha1", "file.hash.sha1"),
    ("sha256", "file.hash.sha256"),
    ("md5", "process.hash.md5"),
    ("sha256", "process.hash.sha256"),
    ("email", "email.from.address"),
    ("email", "user.email"),
)

_MISSING_COMMA = re.compile(r"}\s*{")


def load(body: bytes | str) -> Any:
    """JSON; also repairs `[{...}{...}]` (what `{{#context.alerts}}{{{.}}}{{/context.alerts}}` renders)."""
    try:
        return load_json(body)
    except AdapterError as original:
        if not original.position:  # not a syntax error (e.g. an unstorable number): no repair helps
            raise
        try:
            raw = body.decode("utf-8-sig") if isinstance(body, bytes) else body
            return json_input.loads(_MISSING_COMMA.sub("},{", raw))
        except (ValueError, RecursionError):
            raise original from None


def _alert_docs(body: dict) -> list[dict]:
    alerts = body.get("alerts")
    if isinstance(alerts, list):
        return [doc for doc in alerts if isinstance(doc, dict)]
    if isinstance(alerts, dict):
        return [alerts]
    if lookup(body, "kibana.alert.uuid") or lookup(body, "kibana.alert.rule.name"):
        return [body]
    return []


def missing_fields(payload: Any) -> list[str]:
    if isinstance(payload, list):
        return [] if any(isinstance(doc, dict) for doc in payload) else ["kibana.alert.uuid"]
    if not isinstance(payload, dict):
        return ["kibana.alert.uuid"]
    if _alert_docs(payload) or first(
        payload.get("rule_name"), payload.get("rule_uuid"), payload.get("alert_id")
    ):
        return []
    return ["alerts or kibana.alert.uuid", "rule_name"]


def parse(payload: Any, settings: AdapterSettings) -> list[NormalisedAlert]:
    if isinstance(payload, list):
        payload = {"alerts": payload}
    if not isinstance(payload, dict):
        raise AdapterError("The body must be a JSON object or an array of alert documents.")
    docs = _alert_docs(payload)
    if not docs:
        # Only the rule-level fields of the template (e.g. the rule had no alert documents in context).
        if not missing_fields(payload) == []:
            raise AdapterError(
                "The payload names neither a rule nor alerts.", missing=missing_fields(payload)
            )
        docs = [{}]
    return [_one(doc, payload, settings) for doc in docs]


def _one(doc: dict, envelope: dict, settings: AdapterSettings) -> NormalisedAlert:
    rule_name = text(
        first(lookup(doc, "kibana.alert.rule.name"), envelope.get("rule_name"), "Elastic alert"), 200
    )
    rule_uuid = text(first(lookup(doc, "kibana.alert.rule.uuid"), envelope.get("rule_uuid")), 200)
    uuid = text(first(lookup(doc, "kibana.alert.uuid"), envelope.get("alert_id")), 200)
    host = text(first(lookup(doc, "host.name"), lookup(doc, "host.hostname")), 200)
    source_ip = text(lookup(doc, "source.ip"), 100)
    fingerprint = uuid or digest("elastic", rule_uuid, host, source_ip, envelope.get("date"))
    reason = text(first(lookup(doc, "kibana.alert.reason"), envelope.get("reason")))
    lines = [reason]
    for label, path in (("Rule", "kibana.alert.rule.rule_id"), ("Risk score", "kibana.alert.risk_score")):
        if text(lookup(doc, path)):
            lines.append(f"{label}: {text(lookup(doc, path), 300)}")
    threats = lookup(doc, "kibana.alert.rule.threat")
    if isinstance(threats, list):
        techniques = []
        for threat in threats:
            listed = lookup(threat, "technique", []) if isinstance(threat, dict) else []
            for technique in listed if isinstance(listed, list) else []:
                if isinstance(technique, dict):
                    techniques.append(f"{text(technique.get('id'), 20)} {text(technique.get('name'), 100)}")
        if techniques:
            lines.append("MITRE ATT&CK: " + ", ".join(techniques))
    link = text(
        first(lookup(doc, "kibana.alert.url"), envelope.get("results_link"), envelope.get("rule_url"))
    )
    if link:
        lines.append(f"Kibana: {link[:2000]}")
    status_raw = text(
        first(lookup(doc, "kibana.alert.status"), lookup(doc, "kibana.alert.workflow_status"))
    ).lower()
    alert = NormalisedAlert(
        title=(f"{rule_name} on {host}" if host else rule_name)[:255],
        rule=rule_name,
        fingerprint=fingerprint,
        severity=map_severity(
            first(lookup(doc, "kibana.alert.severity"), envelope.get("severity")), settings, SEVERITY
        ),
        description="\n".join(line for line in lines if line),
        occurred_at=parse_time(
            first(lookup(doc, "kibana.alert.original_time"), doc.get("@timestamp"), envelope.get("date"))
        ),
        status="resolved" if status_raw in ("recovered", "closed") else "firing",
        observables=clean_observables((kind, lookup(doc, path)) for kind, path in ECS_OBSERVABLES),
        raw=doc or envelope,
        source_url=web_link(
            lookup(doc, "kibana.alert.url"),
            envelope.get("results_link"),
            envelope.get("rule_url"),
            lookup(doc, "kibana.alert.rule.url"),
        ),
        external_id=uuid,
        # Kibana raises one alert per event: group by rule + host + source IP so a burst is one ticket.
        group_key="elastic:" + digest(rule_uuid or rule_name, host, source_ip),
    )
    return apply_grouping(alert, settings, doc or envelope)
