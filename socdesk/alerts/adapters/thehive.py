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
    web_link,
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
    "filename": "filename",
    "user-agent": "other",
    "user": "user",
    "registry": "other",
    "other": "other",
}


def missing_fields(payload: Any) -> list[str]:
    return missing_keys(payload, "type", "source", "sourceRef", "title")


# field: (lowest, highest) as TheHive itself accepts them
RANGES = {"severity": (1, 4), "tlp": (0, 4), "pap": (0, 3)}
TEXT_FIELDS = ("type", "source", "sourceRef", "title", "description", "externalLink", "summary")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    """Text or a number (ElastAlert2 fills tags from event fields, which may be numbers)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def problems(payload: Any) -> dict[str, str]:
    """What TheHive's own API would refuse in an alert body, as {field or position: sentence}.

    Used by the TheHive-compatible endpoints (clients expect TheHive's strictness and a 400);
    the lenient webhook receiver only needs `missing_fields`.
    """
    if not isinstance(payload, dict):
        return {"body": "The alert must be a JSON object."}
    found = {name: "is required" for name in missing_fields(payload)}
    for name in TEXT_FIELDS:
        if name not in found and payload.get(name) is not None and not isinstance(payload[name], str):
            found[name] = "must be text"
    for name, (low, high) in RANGES.items():
        value = payload.get(name)
        if value is not None and not (_is_int(value) and low <= value <= high):
            found[name] = f"must be a whole number from {low} to {high}"
    date = payload.get("date")
    if date is not None and not (_is_int(date) and 0 <= date < 10**15):
        found["date"] = "must be the time in milliseconds since 1970 (epoch ms)"
    tags = payload.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(_is_scalar(t) for t in tags)):
        found["tags"] = "must be a list of text tags"
    custom = payload.get("customFields")
    if custom is not None and not isinstance(custom, (dict, list)):
        found["customFields"] = "must be an object (or a list of {name, value})"
    for key in ("observables", "artifacts"):
        items = payload.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            found[key] = "must be a list of objects"
            continue
        for index, item in enumerate(items):
            where = f"{key}[{index}]"
            if not isinstance(item, dict):
                found[where] = "must be an object with dataType and data"
                continue
            if not isinstance(item.get("dataType"), str) or not item["dataType"].strip():
                found[f"{where}.dataType"] = "is required (e.g. ip, domain, url, hash)"
            # An empty or odd `data` is dropped, not refused: ElastAlert2 sends "" for a mapped field
            # that a match lacks, and refusing would lose the whole alert.
            for flag in ("ioc", "sighted"):
                if item.get(flag) is not None and not isinstance(item[flag], bool):
                    found[f"{where}.{flag}"] = "must be true or false"
            if item.get("tags") is not None and not (
                isinstance(item["tags"], list) and all(_is_scalar(t) for t in item["tags"])
            ):
                found[f"{where}.tags"] = "must be a list of text tags"
    return found


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
        # TheHive 5 accepts a list of values in one observable (one observable per value).
        values = data if isinstance(data := item.get("data"), list) else [data]
        for value in values:
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                pairs.append((kind, value))
                if item.get("ioc") is True:
                    ioc.append([kind, str(value).strip()])
                if item.get("sighted") is True:
                    sighted.append([kind, str(value).strip()])
    tags = found if isinstance(found := body.get("tags"), list) else []
    tags = [t for t in tags if isinstance(t, (str, int)) and not isinstance(t, bool) and str(t).strip()]
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
        rule=text(type_, 255) or text(body.get("title"), 255),
        fingerprint="thehive:" + digest(type_, source, ref),
        severity=map_severity(body.get("severity"), settings, SEVERITY),
        description=text(body.get("description")),
        occurred_at=parse_time(body.get("date")),
        observables=clean_observables(pairs),
        raw=body,
        source_url=web_link(body.get("externalLink"), body.get("externalUrl")),
        external_id=ref,
        tags=[text(t, 64) for t in tags if isinstance(t, (str, int))][:20],
        extra=extra,
    )
    return [apply_grouping(alert, settings, body)]
