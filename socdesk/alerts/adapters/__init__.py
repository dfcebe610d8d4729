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
        return adapter.parse(payload, settings)
    except AdapterError:
        raise
    except RecursionError:
        raise AdapterError("The payload is nested too deeply to read.") from None
    except Exception as exc:
        log.exception("adapter %s failed on a payload", name)
        raise AdapterError(
            f"The {name} adapter could not read this payload ({type(exc).__name__}: {exc})."
        ) from None
