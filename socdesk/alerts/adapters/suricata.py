"""Suricata EVE alerts, forwarded by a log shipper: one object, a JSON array, or NDJSON lines."""

from __future__ import annotations

import json
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
)
from socdesk.core import json_input

# EVE alert.severity: 1 is the highest.
SEVERITY = {"1": "high", "2": "medium", "3": "low", "4": "info"}


def load(body: bytes | str) -> Any:
    """One JSON document (object or array), else NDJSON: one object per non-empty line."""
    try:
        return load_json(body)
    except AdapterError as first_error:
        if not first_error.position:  # not a syntax error (e.g. an unstorable number): not NDJSON either
            raise
        raw = body.decode("utf-8-sig", "replace") if isinstance(body, bytes) else body
        lines = [(n, line) for n, line in enumerate(raw.splitlines(), start=1) if line.strip()]
        if len(lines) < 2 or not _parses(lines[0][1]):
            # Not NDJSON (its first line is no document of its own): the whole-body error helps more.
            raise first_error from None
        events = []
        for number, line in lines:
            try:
                events.append(json_input.loads(line))
            except json.JSONDecodeError as exc:
                raise AdapterError(
                    f"Line {number} of the NDJSON body is not valid JSON: {exc.msg} at column {exc.colno}.",
                    position=f"line {number}, column {exc.colno}",
                ) from None
            except json_input.UnstorableNumber as exc:
                raise AdapterError(f"Line {number} of the NDJSON body: {exc.message}") from None
            except RecursionError:
                raise AdapterError(f"Line {number} of the NDJSON body is nested too deeply.") from None
        return events


def _parses(line: str) -> bool:
    try:
        json_input.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def _events(payload: Any) -> list[Any]:
    return payload if isinstance(payload, list) else [payload]


def _is_alert(event: Any) -> bool:
    return isinstance(event, dict) and (
        event.get("event_type") == "alert" or isinstance(event.get("alert"), dict)
    )


def missing_fields(payload: Any) -> list[str]:
    events = _events(payload)
    if not events or not all(isinstance(e, dict) for e in events):
        return ["event objects"]
    if len(events) == 1 and not isinstance(events[0].get("alert"), dict):
        return ["alert"]
    return []


def parse(payload: Any, settings: AdapterSettings) -> list[NormalisedAlert]:
    """Every EVE `alert` event becomes an alert; other event types (flow, dns, ...) are skipped."""
    events = _events(payload)
    if not all(isinstance(e, dict) for e in events):
        raise AdapterError("Every EVE event must be a JSON object.")
    return [_one(event, settings) for event in events if _is_alert(event)]


def _one(event: dict, settings: AdapterSettings) -> NormalisedAlert:
    alert = found if isinstance(found := event.get("alert"), dict) else {}
    signature = text(alert.get("signature"), 240) or f"Suricata signature {text(alert.get('signature_id'))}"
    sid = text(alert.get("signature_id"), 20)
    flow = text(first(event.get("community_id"), event.get("flow_id")), 100)
    src, dst = text(event.get("src_ip"), 100), text(event.get("dest_ip"), 100)
    sig_severity = lookup(alert, "metadata.signature_severity")
    severity = map_severity(alert.get("severity"), settings, SEVERITY)
    if isinstance(sig_severity, list) and "Critical" in sig_severity and not settings.severity_map:
        severity = "critical"
    http_host = text(lookup(event, "http.hostname"), 300)
    http_url = text(lookup(event, "http.url"), 1500)
    observables = [("ip", src), ("ip", dst), ("host", http_host), ("domain", lookup(event, "tls.sni"))]
    observables.append(("domain", lookup(event, "dns.query.0.rrname") or lookup(event, "dns.rrname")))
    if http_host and http_url.startswith("/"):
        observables.append(("url", f"http://{http_host}{http_url}"))
    for kind in ("md5", "sha1", "sha256"):
        observables.append((kind, lookup(event, f"fileinfo.{kind}")))
    lines = [
        f"{text(alert.get('category'), 200)}".strip(),
        f"{src}:{text(event.get('src_port'))} → {dst}:{text(event.get('dest_port'))} "
        f"{text(event.get('proto'))} {text(event.get('app_proto'))}".strip(),
        f"Signature {text(alert.get('gid'))}:{sid}:{text(alert.get('rev'))}, "
        f"action {text(alert.get('action'))}",
    ]
    if http_host or http_url:
        lines.append(f"HTTP {text(lookup(event, 'http.http_method'))} {http_host}{http_url}")
    result = NormalisedAlert(
        title=signature,
        rule=signature,
        fingerprint=f"suricata:{flow}:{sid}"
        if flow
        else digest("suricata", sid, src, dst, event.get("timestamp")),
        severity=severity,
        description="\n".join(line for line in lines if line),
        occurred_at=parse_time(event.get("timestamp")),
        observables=clean_observables(observables),
        raw=event,
        external_id=text(event.get("flow_id"), 100),
    )
    return apply_grouping(result, settings, event)
