"""Queue rows as plain dicts with every display string ready.

The queue page is the hottest page of the console. Reading only the shown columns with `.values()`
and formatting in Python costs far less server time than model instances rendered through template
method calls and date filters (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from socdesk.core.durations import duration_label
from socdesk.tickets.choices import Resolution, Severity, Status

ROW_FIELDS = (
    "id",
    "number",
    "subject",
    "severity",
    "status",
    "resolution",
    "department__name",
    "assignee__display_name",
    "assignee__user__username",
    "assignee__user__first_name",
    "assignee__user__last_name",
    "team__name",
    "requester__name",
    "requester__email",
    "last_activity_at",
    "created_at",
    "alert_occurrences",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
)
SEVERITY_LABELS = dict(Severity.choices)
STATUS_LABELS = dict(Status.choices)
RESOLUTION_LABELS = dict(Resolution.choices)


@dataclass(frozen=True)
class RowCell:
    """One cell of an added column: its text, a tooltip and a CSS class."""

    text: str
    title: str = ""
    css: str = ""


@dataclass(frozen=True)
class RowColumn:
    """A queue column added by an app above tickets (the SLA's due time and state): the `fields` it
    reads are lookups on Ticket (a related row of the app, e.g. `sla__state`) read with the row itself,
    so the page stays one query; `cell` words them from the row's values."""

    key: str
    label: str
    title: str
    fields: tuple[str, ...]
    cell: Callable[[dict], RowCell | None]


ROW_COLUMNS: list[RowColumn] = []
EMPTY_CELL = RowCell("")


def row_column_register(column: RowColumn) -> None:
    """Add a column to the queue tables (once, at start-up: the app's AppConfig.ready)."""
    if all(existing.key != column.key for existing in ROW_COLUMNS):
        ROW_COLUMNS.append(column)


def _since_created(row: dict, moment: datetime | None) -> str:
    return duration_label(moment - row["created_at"]) if moment else ""


def ticket_rows(tickets: QuerySet, start: int, stop: int) -> list[dict]:
    """Rows `start`..`stop` of an ordered ticket queryset, ready for tickets/_rows.html."""
    detail = reverse("tickets:detail", args=["NUMBER"])
    rows = []
    extra = list(dict.fromkeys(name for column in ROW_COLUMNS for name in column.fields))
    for r in tickets.values(*ROW_FIELDS, *extra)[start:stop]:
        activity = timezone.localtime(r["last_activity_at"])
        # Without an assignee the joined name columns are None, not "".
        first, last = r["assignee__user__first_name"] or "", r["assignee__user__last_name"] or ""
        full_name = f"{first} {last}".strip()
        rows.append(
            {
                "id": r["id"],
                "number": r["number"],
                "href": detail.replace("NUMBER", r["number"]),
                "subject": r["subject"],
                "severity": r["severity"],
                "severity_label": SEVERITY_LABELS.get(r["severity"], r["severity"]),
                "status": r["status"],
                "status_label": STATUS_LABELS.get(r["status"], r["status"]),
                "resolution_label": RESOLUTION_LABELS.get(r["resolution"], "") if r["resolution"] else "",
                "department": r["department__name"],
                "assignee": r["assignee__display_name"] or full_name or r["assignee__user__username"] or "",
                "team": r["team__name"] or "",
                "requester": r["requester__name"] or r["requester__email"] or "",
                "activity": activity.strftime("%b %-d, %H:%M"),
                "activity_title": activity.strftime("%Y-%m-%d %H:%M:%S %Z"),
                "created": timezone.localtime(r["created_at"]).strftime("%b %-d, %H:%M"),
                "alerts": r["alert_occurrences"],
                "tta": _since_created(r, r["acknowledged_at"]),
                "ttr": _since_created(r, r["resolved_at"] or r["closed_at"]),
                "cells": [(column.key, column.cell(r) or EMPTY_CELL) for column in ROW_COLUMNS],
            }
        )
    return rows
