"""The adapter registry: one module per source, each pure (payload in, normalised alerts out).

Each module offers `load(body) -> payload` (parse the bytes as JSON with socdesk.core.json_input,
AdapterError naming the position),
`missing_fields(payload) -> list[str]` (the required fields a caller must be told about), and
`parse(payload, settings) -> list[NormalisedAlert]`.
"""

from __future__ import annotations

import logging
import re
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
    storable = False
    if isinstance(payload, (bytes, str)):
        field_map = getattr(settings, "field_map", None)  # settings of another shape: walk
        storable = (
            isinstance(field_map, dict)
            and _storable_text(payload)
            and all(_storable_text(str(expression)) for expression in field_map.values())
        )
        payload = adapter.load(payload)
    try:
        alerts = adapter.parse(payload, settings)
        # Everything in an alert comes from the payload or the integration's settings: when neither
        # can hold what `_scrub` changes, the walk over every string would find nothing.
        return alerts if storable else [_scrub_alert(alert) for alert in alerts]
    except AdapterError:
        raise
    except RecursionError:
        raise AdapterError("The payload is nested too deeply to read.") from None
    except Exception as exc:
        log.exception("adapter %s failed on a payload", name)
        raise AdapterError(
            f"The {name} adapter could not read this payload ({type(exc).__name__}: {exc})."
        ) from None


# What `_scrub` changes can only come from JSON text as the escapes \u0000 and \ud800-\udfff: a raw
# control character in a string is a syntax error, and UTF-8 (strictly decoded, or with U+FFFD for a bad
# byte) has no lone surrogates. A text given as str may hold either character itself. An escaped
# backslash before a "u0000" matches too, which only costs the walk.
_UNSTORABLE_TEXT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|[\x00\ud800-\udfff]")
_UNSTORABLE_BYTES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00")


def _storable_text(body: bytes | str) -> bool:
    """False when JSON read from `body` may hold a NUL or a lone surrogate (see `_scrub`)."""
    if isinstance(body, bytes):
        return _UNSTORABLE_BYTES.search(body) is None
    return _UNSTORABLE_TEXT.search(body) is None


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
