"""Prometheus Alertmanager webhook (payload version 4): one alert per entry of `alerts`.

Alertmanager sends the alerts of one notification group together, named by the body's `groupKey`. By
default (the integration's `group_by` = "group") that group is one ticket, and each alert of it (its own
fingerprint) is an alert row inside it, with its own status and count; "fingerprint" makes each alert
its own ticket. An integration's grouping key (JMESPath) still overrides both.
"""

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
    map_severity,
    missing_keys,
    parse_time,
    require_object,
    text,
    web_link,
)

load = load_json

SEVERITY = {
    "critical": "critical",
    "page": "critical",
    "error": "high",
    "high": "high",
    "warning": "medium",
    "warn": "medium",
    "medium": "medium",
    "low": "low",
    "info": "info",
    "informational": "info",
    "none": "info",
}

# The lines of the description that quote a field of the alert, when it has one: (field, heading).
URL_LINES = (
    ("generatorURL", "generatorURL"),
    ("dashboardURL", "dashboardURL"),
    ("panelURL", "panelURL"),
    ("silenceURL", "silenceURL"),
    ("valueString", "Values"),
)

# Labels that commonly carry a host or address worth pivoting on.
HOST_LABELS = ("instance", "host", "hostname", "node", "nodename", "pod_ip", "ip", "src_ip", "source_ip")


def missing_fields(payload: Any) -> list[str]:
    return missing_keys(payload, "alerts")


def parse(payload: Any, settings: AdapterSettings) -> list[NormalisedAlert]:
    alerts = parse_prometheus_style(payload, settings, source="alertmanager")
    group = group_key_of(payload, settings)
    for alert in alerts:
        if group and not alert.group_key:  # a configured grouping key was applied already and wins
            alert.group_key = group
    return alerts


def group_key_of(payload: Any, settings: AdapterSettings) -> str:
    """The de-dup key of the body's notification group ('' when grouping by fingerprint or none is sent).

    Alertmanager's groupKey names the route and the group labels, e.g.
    `{}/{severity="critical"}:{alertname="SSHBruteForce"}`; it is the same on every notification of
    the group (firing, repeat, resolved), which is what makes it a ticket's key.
    """
    if settings.group_by == "fingerprint" or not isinstance(payload, dict):
        return ""
    group_key = text(payload.get("groupKey"), 5000)
    return f"amgroup:{digest(group_key)}" if group_key else ""


def parse_prometheus_style(payload: Any, settings: AdapterSettings, *, source: str) -> list[NormalisedAlert]:
    """Alertmanager and Grafana share this shape: a group with common labels and a list of alerts."""
    body = require_object(payload)
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise AdapterError("The payload has no `alerts` list.", missing=["alerts"])
    common_labels = _mapping(body.get("commonLabels"))
    common_annotations = _mapping(body.get("commonAnnotations"))
    group_status = text(body.get("status")).lower()
    result = []
    for index, entry in enumerate(alerts):
        if not isinstance(entry, dict):
            raise AdapterError(f"alerts[{index}] must be a JSON object.")
        labels = common_labels | _mapping(entry.get("labels"))
        annotations = common_annotations | _mapping(entry.get("annotations"))
        name = text(first(labels.get("alertname"), body.get("title"), "Alert"), 200)
        title = text(first(annotations.get("summary"), annotations.get("title"), name), 255)
        fingerprint = text(entry.get("fingerprint"), 200) or digest(
            sorted((str(k), text(v)) for k, v in labels.items())
        )
        status = text(first(entry.get("status"), group_status)).lower()
        # Each label's text once, at the longest length kept (extra); the description line cuts it shorter.
        label_texts = {k: text(v, 500) for k, v in labels.items()}
        lines = [text(first(annotations.get("description"), annotations.get("message")))]
        lines.append("Labels: " + ", ".join(f"{k}={label_texts[k][:200]}" for k in sorted(labels)))
        for key, heading in URL_LINES:
            if line := text(entry.get(key), 2000):
                lines.append(f"{heading}: {line}")
        observables = []
        for label in HOST_LABELS:
            if label in labels and (value := label_texts[label][:300]):
                observables.append(("host", _strip_port(value)))
        alert = NormalisedAlert(
            title=title,
            rule=name,
            fingerprint=fingerprint,
            severity=map_severity(first(labels.get("severity"), labels.get("priority")), settings, SEVERITY),
            description="\n".join(line for line in lines if line),
            occurred_at=parse_time(entry.get("startsAt")),
            status="resolved" if status == "resolved" else "firing",
            observables=clean_observables(observables),
            raw=entry,
            external_id=fingerprint,
            # Grafana's generatorURL opens the alert rule; Alertmanager's the expression in Prometheus.
            source_url=web_link(
                entry.get("generatorURL"),
                entry.get("panelURL"),
                entry.get("dashboardURL"),
                body.get("externalURL"),
            ),
            extra={"labels": {str(k): value for k, value in label_texts.items()}, "source": source},
        )
        result.append(apply_grouping(alert, settings, entry))
    return result


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _strip_port(value: str) -> str:
    """'web01:9100' → 'web01'; '[2001:db8::1]:9100' → '2001:db8::1'; a bare IPv6 stays as is."""
    if value.startswith("[") and "]" in value:
        return value[1 : value.index("]")]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value
