"""The adapter registry: one module per source, each pure (payload in, normalised alerts out).

Each module offers `load(body) -> payload` (parse the bytes, AdapterError naming the position),
`missing_fields(payload) -> list[str]` (the required fields a caller must be told about), and
`parse(payload, settings) -> list[NormalisedAlert]`.
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

from socdesk.alerts.adapters import (
    alertmanager,
    azure_monitor,
    elastic,
    generic,
    grafana,
    splunk,
    suricata,
    thehive,
    wazuh,
)
from socdesk.alerts.adapters.base import AdapterError, AdapterSettings, NormalisedAlert

log = logging.getLogger(__name__)

ADAPTERS: dict[str, ModuleType] = {
    "alertmanager": alertmanager,
    "grafana": grafana,
    "splunk": splunk,
    "elastic": elastic,
    "wazuh": wazuh,
    "suricata": suricata,
    "azure-monitor": azure_monitor,
    "generic": generic,
    "thehive": thehive,
}

__all__ = ["ADAPTERS", "AdapterError", "AdapterSettings", "NormalisedAlert", "check", "get", "normalise"]


def get(name: str) -> ModuleType:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise AdapterError(
            f"There is no adapter called {name!r}; use one of: {', '.join(ADAPTERS)}."
        ) from None


def check(name: str, body: bytes, settings: AdapterSettings) -> Any:
    """Parse the body and check required fields (what the webhook does before it accepts a delivery)."""
    adapter = get(name)
    payload = adapter.load(body)
    if name == "generic":
        missing = adapter.missing_fields(payload, settings)
    else:
        missing = adapter.missing_fields(payload)
    if missing:
        raise AdapterError("Required fields are missing: " + ", ".join(missing) + ".", missing=missing)
    return payload


def normalise(name: str, payload: Any, settings: AdapterSettings) -> list[NormalisedAlert]:
    """Run an adapter; any unexpected exception inside it surfaces as AdapterError, never a crash.

    The bytes are kept in the delivery whatever happens, so the safety net loses nothing.
    """
    adapter = get(name)
    if isinstance(payload, (bytes, str)):
        payload = adapter.load(payload)
    try:
        return [_scrub_alert(alert) for alert in adapter.parse(payload, settings)]
    except AdapterError:
        raise
    except RecursionError:
        raise AdapterError("The payload is nested too deeply to read.") from None
    except Exception as exc:
        log.exception("adapter %s failed on a payload", name)
        raise AdapterError(
            f"The {name} adapter could not read this payload ({type(exc).__name__}: {exc})."
        ) from None


def _scrub(value: Any) -> Any:
    """Make text storable: drop NUL (JSON allows \\u0000, PostgreSQL text and jsonb do not) and replace
    lone surrogates (JSON allows \\ud800, UTF-8 cannot encode it) with U+FFFD."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in value)
        return value
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_scrub(item) for item in value)
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    return value


def _scrub_alert(alert: NormalisedAlert) -> NormalisedAlert:
    for name in (
        "title",
        "rule",
        "fingerprint",
        "description",
        "external_id",
        "group_key",
        "status",
        "severity",
    ):
        setattr(alert, name, _scrub(getattr(alert, name)))
    alert.observables = _scrub(alert.observables)
    alert.tags = _scrub(alert.tags)
    alert.raw = _scrub(alert.raw)
    alert.extra = _scrub(alert.extra)
    return alert
