"""Reading a filter subject's fields: each field's values, and the views conditions compare them in.

Pure, like `matching`, which uses these to read a subject once per field and view per evaluation.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from socdesk.routing.vocabulary import SEVERITY_RANK, WEEKDAYS, MatchSubject

Values = tuple[Any, ...]
Getter = Callable[[MatchSubject], Values]


def as_text(value: Any) -> str | None:
    """A scalar as text for comparing; containers are not compared (they have no single text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


def text_of(value: Any) -> str:
    return as_text(value) or ""


def flatten(value: Any) -> Values:
    if isinstance(value, list | tuple):
        return tuple(v for v in value if as_text(v) is not None)
    return (value,) if as_text(value) is not None else ()


def walk(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if isinstance(data, Mapping):
            if part not in data:
                return None
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def domain_of(email: str) -> str:
    return email.rpartition("@")[2] if "@" in email else ""


def local_time(moment: datetime, time_zone: ZoneInfo) -> datetime | None:
    """The moment in the filter's zone; None at the very ends of the calendar, where no zone reaches."""
    try:
        return moment.astimezone(time_zone)
    except (OverflowError, ValueError):
        return None


def getter_for(name: str, time_zone: ZoneInfo) -> Getter:
    """The function that reads a field's values (always a tuple: fields may hold several values)."""
    if name == "requester_domain":
        return lambda s: (domain_of(s.requester_email),) if "@" in s.requester_email else ()
    if name == "tags":
        return lambda s: s.tags
    if name in ("requester_name", "requester_email", "subject", "body", "severity", "source", "help_topic"):
        return lambda s: (getattr(s, name),)
    if name == "time_of_day":

        def minutes(s: MatchSubject) -> Values:
            local = local_time(s.received_at, time_zone)
            return (local.hour * 60 + local.minute,) if local is not None else ()

        return minutes
    if name == "weekday":

        def weekday(s: MatchSubject) -> Values:
            local = local_time(s.received_at, time_zone)
            return (WEEKDAYS[local.weekday()],) if local is not None else ()

        return weekday
    if name.startswith("custom."):
        key = name[len("custom.") :]
        return lambda s: flatten(s.custom_fields.get(key))
    if name.startswith("alert."):
        path = name[len("alert.") :].split(".")
        return lambda s: flatten(walk(s.alert, path)) if s.alert is not None else ()
    if name == "observable":
        return lambda s: tuple(value for _type, value in s.observables)
    kind = name[len("observable.") :]
    return lambda s: tuple(value for type_, value in s.observables if type_ == kind)


def number_of(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def clock_minutes(value: Any) -> int | None:
    """`HH:MM` as minutes after midnight."""
    if not isinstance(value, str):
        return None
    hours, sep, mins = value.strip().partition(":")
    if not (sep and hours.isdigit() and mins.isdigit() and len(mins) == 2):
        return None
    h, m = int(hours), int(mins)
    return h * 60 + m if 0 <= h < 24 and 0 <= m < 60 else None


def weekday_of(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    short = value.strip().lower()[:3]
    return short if short in WEEKDAYS else None


def ordered_key(field_name: str) -> Callable[[Any], float | None]:
    """How values of a field are turned into numbers for greater / less than."""
    if field_name == "severity":
        return lambda v: (
            float(SEVERITY_RANK[v.lower()]) if isinstance(v, str) and v.lower() in SEVERITY_RANK else None
        )
    if field_name == "time_of_day":
        return lambda v: float(v) if isinstance(v, int) else clock_minutes(v)
    return number_of


def addresses(values: Values) -> Values:
    found = []
    for value in values:
        try:
            address = ipaddress.ip_address(text_of(value).strip())
        except ValueError:
            continue
        found.append((address.version, int(address)))
    return tuple(found)


def view_of(base: Getter, view: str, field_name: str) -> Getter:
    """The getter for a view of a field's values."""
    if view == "fold":
        return lambda s: tuple(text_of(v).casefold() for v in base(s))
    if view == "ip":
        return lambda s: addresses(base(s))
    if view == "num":
        to_number = ordered_key(field_name)

        def numbers(s: MatchSubject) -> Values:
            return tuple(n for n in (to_number(v) for v in base(s)) if n is not None)

        return numbers
    return base
