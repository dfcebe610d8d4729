"""Splunk webhook alert action: the search name and only the first result row; no severity field."""

from __future__ import annotations

from typing import Any

from socdesk.alerts.adapters.base import (
    AdapterSettings,
    NormalisedAlert,
    apply_grouping,
    clean_observables,
    digest,
    first,
    load_json,
    map_severity,
    missing_keys,
    parse_time,
    require_object,
    text,
    web_link,
)

load = load_json

# Result fields that change on every run of the same search, so they never identify "the same alert".
VOLATILE = {
    "count",
    "sid",
    "_time",
    "_indextime",
    "_serial",
    "_si",
    "_cd",
    "_bkt",
    "_raw",
    "firstTime",
    "lastTime",
}

OBSERVABLE_FIELDS = {
    "ip": ("src", "src_ip", "dest", "dest_ip", "dst", "dst_ip", "ip", "clientip"),
    "host": ("host", "dest_host", "src_host", "hostname", "dvc", "ComputerName"),
    "user": ("user", "src_user", "dest_user", "username", "account"),
    "url": ("url", "uri", "http_referrer"),
    "domain": ("domain", "query", "dest_domain"),
    "email": ("sender", "recipient", "src_user_email"),
    "hash": ("file_hash", "hash", "md5", "sha1", "sha256"),
}

SEVERITY = {"1": "info", "2": "low", "3": "medium", "4": "high", "5": "critical", "informational": "info"}


def missing_fields(payload: Any) -> list[str]:
    return missing_keys(payload, "search_name")


def parse(payload: Any, settings: AdapterSettings) -> list[NormalisedAlert]:
    body = require_object(payload)
    search = text(body.get("search_name"), 200) or "Splunk alert"
    result = found if isinstance(found := body.get("result"), dict) else {}
    stable = sorted(
        (k, text(v, 500)) for k, v in result.items() if k not in VOLATILE and not k.startswith("_")
    )
    fingerprint = digest("splunk", search, stable)
    lines = [f"{k}: {text(v, 500)}" for k, v in result.items()]
    if text(body.get("results_link")):
        lines.append(f"Results: {text(body.get('results_link'), 2000)}")
    subject_bits = [text(first(result.get("src"), result.get("src_ip"), result.get("host")), 100)]
    observables = []
    for kind, names in OBSERVABLE_FIELDS.items():
        for name in names:
            if name in result:
                observables.append((kind, result[name]))
    alert = NormalisedAlert(
        rule=search,
        title=search + (f" ({subject_bits[0]})" if subject_bits[0] else ""),
        fingerprint=fingerprint,
        severity=map_severity(first(result.get("severity"), result.get("urgency")), settings, SEVERITY),
        description="\n".join(lines),
        occurred_at=parse_time(first(result.get("_time"), result.get("time"))),
        status="firing",
        observables=clean_observables(observables),
        raw=body,
        source_url=web_link(body.get("results_link")),
        external_id=text(body.get("sid"), 255),
        extra={"app": text(body.get("app"), 100), "owner": text(body.get("owner"), 100)},
    )
    return [apply_grouping(alert, settings, body)]
