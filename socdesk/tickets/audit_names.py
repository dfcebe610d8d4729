"""How the audit browser shows tickets' coded values: statuses, severities, resolutions and sources by
their labels ("in_progress" reads "In progress")."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import models

from socdesk.audit.describe import value_namer_register
from socdesk.tickets.choices import Resolution, Severity, Source, Status

CHOICE_FIELDS: dict[str, type[models.TextChoices]] = {
    "status": Status,
    "severity": Severity,
    "resolution": Resolution,
    "source": Source,
}


def _labels(choices: type[models.TextChoices]):
    known = dict(choices.choices)

    def namer(values: Collection[Any]) -> dict[Any, str]:
        # Other apps use the same field names for their own codes (an alert's "firing"): those stay.
        return {v: str(known[v]) for v in values if isinstance(v, str) and v in known}

    return namer


def register() -> None:
    """Called once when the tickets app loads (TicketsConfig.ready)."""
    for field, choices in CHOICE_FIELDS.items():
        value_namer_register(field, _labels(choices))
