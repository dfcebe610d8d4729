"""TheHive alert API bodies: v1 (`observables`) and legacy (`artifacts`, customFields by type)."""

from __future__ import annotations

from typing import Any

from socdesk.alerts.adapters.base import (
    AdapterError,
    AdapterSettings,
    NormalisedAlert,
    apply_grouping,
    clean_observables,
    digest,
    load_json,
    map_severity,
    missing_keys,
    parse_time,
    require_object,
    text,
)

load = load_json

SEVERITY = {"1": "low", "2": "medium", "3": "high", "4": "critical"}

DATA_TYPES = {
    "ip": "ip",
    "domain": "domain",
    "fqdn": "hostname",
    "hostname": "hostname",
    "url": "url",
    "uri_path": "other",
    "mail": "email",
    "email": "email",
    "mail_subject": "other",
    "hash": "hash",
    "filename": "other",
    "user-agent": "other",
    "user": "user",
    "registry": "other",
    "other": "other",
}


def missing_fields(payload: Any) -> list[str]:
    return missing_keys(payload, "type", "source", "sourceRef", "title")


def custom_fields(value: Any) -> dict[str, Any]:
    """{"rule": {"order": 0, "string": "x"}} (legacy) and {"rule": "x"} (v1) → {"rule": "x"}."""
    if isinstance(value, list):  # v1 also allows [{"name": ..., "value": ...}]
        return {text(item.get("name"), 100): item.get("value") for item in value if isinstance(item, dict)}
    if not isinstance(value, dict):
        return {}
    flat = {}
    for name, field in value.items():
        if isinstance(field, dict):
            typed = [v for k, v in field.items() if k != "order"]
            flat[str(name)] = typed[0] if typed else None
        else:
            flat[str(name)] = field
    return flat


def parse(payload: Any, settings: AdapterSettings) -> list[NormalisedAlert]:
    body = require_object(payload)
    missing = missing_fields(body)
    if missing:
        raise AdapterError("The alert lacks " + ", ".join(missing) + ".", missing=missing)
    items = body.get("observables") if body.get("observables") is not None else body.get("artifacts")
    items = items if isinstance(items, list) else []
    pairs, ioc, sighted = [], [], []
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = DATA_TYPES.get(text(item.get("dataType")).lower(), "other")
        value = item.get("data")
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            pairs.append((kind, value))
            if item.get("ioc") is True:
                ioc.append([kind, str(value).strip()])
            if item.get("sighted") is True:
                sighted.append([kind, str(value).strip()])
    tags = body.get("tags") if isinstance(body.get("tags"), list) else []
    type_, source, ref = (
        text(body.get("type"), 100),
        text(body.get("source"), 100),
        text(body.get("sourceRef"), 255),
    )
    extra = {
        "thehive": {
            "type": type_,
            "source": source,
            "sourceRef": ref,
            "tlp": body.get("tlp") if isinstance(body.get("tlp"), int) else None,
            "pap": body.get("pap") if isinstance(body.get("pap"), int) else None,
            "externalLink": text(body.get("externalLink"), 2000),
            "customFields": {k: text(v, 1000) for k, v in custom_fields(body.get("customFields")).items()},
        },
        "ioc": ioc,
        "sighted": sighted,
    }
    alert = NormalisedAlert(
        title=text(body.get("title"), 255),
        fingerprint="thehive:" + digest(type_, source, ref),
        severity=map_severity(body.get("severity"), settings, SEVERITY),
        description=text(body.get("description")),
        occurred_at=parse_time(body.get("date")),
        observables=clean_observables(pairs),
        raw=body,
        external_id=ref,
        tags=[text(t, 64) for t in tags if isinstance(t, (str, int))][:20],
        extra=extra,
    )
    return [apply_grouping(alert, settings, body)]
