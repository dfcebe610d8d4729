"""Grafana unified alerting webhook contact point (Alertmanager-like body; HMAC checked by the pipeline)."""

from __future__ import annotations

from typing import Any

from socdesk.alerts.adapters.alertmanager import parse_prometheus_style
from socdesk.alerts.adapters.base import AdapterSettings, NormalisedAlert, load_json, missing_keys

load = load_json


def missing_fields(payload: Any) -> list[str]:
    return missing_keys(payload, "alerts")


def parse(payload: Any, settings: AdapterSettings) -> list[NormalisedAlert]:
    return parse_prometheus_style(payload, settings, source="grafana")
