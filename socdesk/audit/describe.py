"""The audit browser's change column in words: each changed field as "before → after", with ids and
codes named (agents, teams, departments, statuses' labels).

The audit app sits below the apps whose ids its events carry, so it cannot look their names up itself:
each of those apps registers, when it loads, how to name the values of a field (`value_namer_register`).
A namer takes every value of its field found on a page of events and answers {value: name} for those it
knows, in one query however many events there are; a value nobody names is shown as stored.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from socdesk.audit.models import AuditEvent

ValueNamer = Callable[[Collection[Any]], dict[Any, str]]
_namers: dict[str, ValueNamer] = {}

# Bookkeeping every ticket event carries in `after`; the raw JSON still shows it.
QUIET_FIELDS = frozenset({"version"})
EMPTY = "—"


def value_namer_register(field: str, namer: ValueNamer) -> None:
    """Name the values of `field` in audit events (called by the app that owns what they refer to)."""
    _namers[field] = namer


def ids_named(values: Iterable[Any], lookup: Callable[[list[int]], Iterable[tuple[int, str]]]) -> dict:
    """A namer's usual body: the integer values (not booleans) looked up once as (id, name) pairs."""
    ids = sorted({v for v in values if isinstance(v, int) and not isinstance(v, bool)})
    return dict(lookup(ids)) if ids else {}


@dataclass(frozen=True)
class FieldChange:
    """One field of one event, in words: its name, and its value before and after ("" = not recorded)."""

    field: str
    before: str
    after: str

    @property
    def label(self) -> str:
        return self.field.replace("_", " ")

    @property
    def kept(self) -> bool:
        """Recorded on both sides with the same value (an assignment that kept the assignee)."""
        return bool(self.before) and self.before == self.after


def _scalars(value: Any) -> list[Hashable]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, Hashable) and v is not None]


def _field_names(event: AuditEvent) -> list[str]:
    seen: dict[str, None] = {}
    for side in (event.before, event.after):
        if isinstance(side, dict):
            seen.update(dict.fromkeys(k for k in side if k not in QUIET_FIELDS))
    return list(seen)


def describe_changes(events: Iterable[AuditEvent]) -> dict[int, list[FieldChange]]:
    """{event id: its fields in words}; each registered namer runs once for all the events given."""
    events = list(events)
    wanted: dict[str, set[Hashable]] = defaultdict(set)
    for event in events:
        for side in (event.before, event.after):
            if isinstance(side, dict):
                for field, value in side.items():
                    if field in _namers:
                        wanted[field].update(_scalars(value))
    names = {field: _namers[field](values) for field, values in wanted.items() if values}

    def show(field: str, side: Any) -> str:
        if not isinstance(side, dict) or field not in side:
            return ""
        return _text(side[field], names.get(field, {}) if field in _namers else None)

    described = {}
    for event in events:
        changes = [
            FieldChange(field=field, before=show(field, event.before), after=show(field, event.after))
            for field in _field_names(event)
        ]
        # A field empty on both sides (no resolution before or after, no comment) says nothing.
        described[event.pk] = [c for c in changes if {c.before, c.after} - {"", EMPTY}]
    return described


def _text(value: Any, names: dict[Any, str] | None) -> str:
    """A value as shown; `names` is None for a field nobody names."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, list):
        return ", ".join(_text(v, names) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if names is not None and isinstance(value, Hashable) and value in names:
        return names[value]
    if names is not None and isinstance(value, int):
        return f"#{value}"  # named field, but the object is gone (deleted since)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
