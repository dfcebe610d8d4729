"""Any JSON: the integration's field map names, in JMESPath, where each alert field is found."""

from __future__ import annotations

from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from socdesk.alerts.adapters.base import (
    AdapterError,
    AdapterSettings,
    NormalisedAlert,
    apply_grouping,
    clean_observables,
    digest,
    load_json,
    map_severity,
    parse_time,
    text,
    web_link,
)

load = load_json

# Used for every field the integration does not map.
DEFAULT_MAP = {
    "alerts": "",  # empty: the body is one alert, or a list of alerts when it is an array
    "title": "title || name || summary || subject || message",
    "description": "description || details || message || body",
    "severity": "severity || level || priority",
    "fingerprint": "fingerprint || id || uuid",
    "occurred_at": 'occurred_at || timestamp || time || date || "@timestamp"',
    "status": "status || state",
    "external_id": "id || uuid",
    "observables": "observables",
    "source_url": "source_url || generatorURL || externalLink || results_link",
}
FIELDS = tuple(DEFAULT_MAP)


def compile_map(field_map: dict[str, str]) -> dict[str, Any]:
    """Compile the expressions once; a bad one is an AdapterError naming the field (shown in the admin)."""
    compiled: dict[str, Any] = {}
    for name in FIELDS:
        expression = (field_map or {}).get(name) or DEFAULT_MAP[name]
        if not expression:
            compiled[name] = None
            continue
        try:
            compiled[name] = jmespath.compile(str(expression))
        except JMESPathError as exc:
            raise AdapterError(f"The {name} expression {expression!r} is not valid JMESPath: {exc}") from None
    return compiled


def _search(compiled, obj: Any) -> Any:
    if compiled is None:
        return None
    try:
        return compiled.search(obj)
    except Exception:  # odd types in the payload (e.g. a number where a list is expected) mean "no value"
        return None


def _alert_objects(compiled: dict, payload: Any) -> list[Any]:
    if compiled["alerts"] is not None:
        found = _search(compiled["alerts"], payload)
        return found if isinstance(found, list) else ([found] if found is not None else [])
    return payload if isinstance(payload, list) else [payload]


def missing_fields(payload: Any, settings: AdapterSettings | None = None) -> list[str]:
    compiled = compile_map((settings or AdapterSettings()).field_map)
    objects = _alert_objects(compiled, payload)
    if not objects:
        return ["alerts"]
    if not all(text(_search(compiled["title"], obj)) for obj in objects):
        return ["title"]
    return []


def parse(payload: Any, settings: AdapterSettings) -> list[NormalisedAlert]:
    compiled = compile_map(settings.field_map)
    result = []
    for index, obj in enumerate(_alert_objects(compiled, payload)):
        values = {name: _search(expr, obj) for name, expr in compiled.items() if name != "alerts"}
        title = text(values["title"], 255)
        if not title:
            raise AdapterError(
                f"Alert {index} has no title (the title expression found nothing).", missing=["title"]
            )
        fingerprint = text(values["fingerprint"], 255) or digest("generic", title, obj)
        status = text(values["status"]).lower()
        alert = NormalisedAlert(
            title=title,
            rule=title,
            fingerprint=fingerprint,
            severity=map_severity(values["severity"], settings),
            description=text(values["description"]),
            occurred_at=parse_time(values["occurred_at"]),
            status="resolved" if status in ("resolved", "ok", "closed", "recovered", "cleared") else "firing",
            observables=clean_observables(_observable_pairs(values["observables"])),
            raw=obj,
            external_id=text(values["external_id"], 255),
            source_url=web_link(values["source_url"]),
        )
        result.append(apply_grouping(alert, settings, obj))
    return result


def _observable_pairs(value: Any) -> list[tuple[str, Any]]:
    """Accept [{"type": "ip", "value": "..."}], [["ip", "..."]] or {"ip": "..." | [...]}."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for kind, items in value.items():
            for item in items if isinstance(items, list) else [items]:
                pairs.append((str(kind), item))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                pairs.append(
                    (text(item.get("type") or item.get("dataType"), 20), item.get("value", item.get("data")))
                )
            elif isinstance(item, list) and len(item) == 2:
                pairs.append((text(item[0], 20), item[1]))
            elif isinstance(item, str):
                pairs.append(("auto", item))
    return pairs
