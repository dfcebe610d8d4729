"""Custom field values: the one check every channel uses (console, REST, osTicket and TheHive APIs,
alert ingest, the ticket page), pure and table-tested.

`check_values(specs, values, audience=...)` reads what was sent for a form's fields and returns the
values to store (typed and normalised: a number as a number, a date and time as ISO 8601 in UTC, an IP
address in its short form, choices spelt as the form spells them) and, for each field at fault, a
sentence naming it. Who is asking matters: agents and API keys fill the fields visible to agents and
must fill those required of agents; end users the ones visible and required for end users.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from socdesk.core.text import clean_text

Audience = Literal["agent", "user", "key"]
AUDIENCES: tuple[Audience, ...] = ("agent", "user", "key")

NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEXT_CHARS = 255
LONG_TEXT_CHARS = 10_000
TRUE_WORDS = frozenset({"true", "1", "yes", "on", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "n", ""})


@dataclass(frozen=True)
class FieldSpec:
    """A custom field as the check sees it (built from a `CustomField` row, or by hand in tests)."""

    name: str
    label: str
    type: str
    choices: tuple[str, ...] = ()
    agent_visible: bool = True
    agent_required: bool = False
    user_visible: bool = True
    user_required: bool = False

    def visible_to(self, audience: Audience) -> bool:
        return self.user_visible if audience == "user" else self.agent_visible

    def required_of(self, audience: Audience) -> bool:
        return self.visible_to(audience) and (
            self.user_required if audience == "user" else self.agent_required
        )

    @property
    def title(self) -> str:
        return f"{self.label!r} ({self.name})" if self.label != self.name else repr(self.name)


@dataclass(frozen=True)
class CheckedValues:
    """What to store (field name -> typed value; empty values left out) and each field's problem."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return " ".join(self.errors.values())


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def check_values(
    specs: Sequence[FieldSpec],
    values: Mapping[str, Any],
    *,
    audience: Audience,
    require: bool = True,
    unknown: Literal["refuse", "drop"] = "refuse",
    form_name: str = "",
    local_tz: tzinfo = UTC,
) -> CheckedValues:
    """Check sent values against a form's fields for one audience (see the module docstring).

    `require=False` skips the required check (a partial update; an alert, which is never refused for
    a missing field). `unknown="drop"` ignores names that are no field (an alert's own fields);
    otherwise each is refused. A date and time without an offset is read in `local_tz`.
    """
    by_name = {spec.name: spec for spec in specs}
    where = f"the form {form_name!r}" if form_name else "this ticket's form"
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for raw_name, value in values.items():
        name = str(raw_name).strip().lower()
        spec = by_name.get(name)
        if spec is None:
            if unknown == "refuse":
                known = ", ".join(by_name) or "none"
                errors[name] = f"{name!r} is not a field of {where} (its fields: {known})."
            continue
        if not spec.visible_to(audience):
            errors[name] = f"Custom field {spec.title} is not one you can fill in."
            continue
        if is_empty(value):
            continue
        try:
            cleaned[name] = clean_value(spec, value, local_tz=local_tz)
        except ValueError as exc:
            errors[name] = f"Custom field {spec.title}: {exc}"
    if require:
        for name in required_missing(specs, cleaned, audience=audience):
            errors.setdefault(name, f"Custom field {by_name[name].title} is required.")
    return CheckedValues(values=cleaned, errors=errors)


def required_missing(
    specs: Sequence[FieldSpec], values: Mapping[str, Any], *, audience: Audience
) -> list[str]:
    """Names of the fields required of this audience that have no value."""
    return [s.name for s in specs if s.required_of(audience) and is_empty(values.get(s.name))]


def clean_value(spec: FieldSpec, value: Any, *, local_tz: tzinfo = UTC) -> Any:
    """One value as stored for the field's type; ValueError with the second half of a sentence."""
    kind = spec.type
    if kind in ("text", "long_text"):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError("enter text.")
        text = clean_text(str(value)).strip()
        limit = TEXT_CHARS if kind == "text" else LONG_TEXT_CHARS
        if len(text) > limit:
            raise ValueError(f"at most {limit} characters ({len(text)} sent).")
        return text if kind == "long_text" else " ".join(text.split())
    if kind == "number":
        return _number(value)
    if kind == "datetime":
        return _datetime(value, local_tz)
    if kind == "choice":
        return _choice(spec, value)
    if kind == "multi_choice":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ValueError(f"send a list of choices from: {', '.join(spec.choices)}.")
        picked = {_choice(spec, item) for item in items if not is_empty(item)}
        return [choice for choice in spec.choices if choice in picked]
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("send true or false.")
    if kind == "email":
        address = str(value).strip()
        try:
            validate_email(address)
        except ValidationError:
            raise ValueError(f"{address[:100]!r} is not an email address (name@example.org).") from None
        return address
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            raise ValueError(
                f"{str(value)[:100]!r} is not an IP address (such as 10.0.0.5 or 2001:db8::1)."
            ) from None
    raise ValueError(f"the field has an unknown type {kind!r}.")


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("enter a number.")
    if isinstance(value, int):
        return value
    try:
        number = float(value.strip().replace(",", ".") if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{str(value)[:100]!r} is not a number.") from None
    if not math.isfinite(number):
        raise ValueError("enter a finite number.")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _datetime(value: Any, local_tz: tzinfo) -> str:
    text = str(value).strip()
    if not isinstance(value, bool) and (isinstance(value, int) or text.isdigit()):
        # Milliseconds since 1970: how TheHive sends a date custom field.
        try:
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            raise ValueError(
                f"{text[:30]!r} is out of range for a time in milliseconds since 1970."
            ) from None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(
            f"{text[:100]!r} is not a date and time (2026-03-01T14:30, optionally with an offset)."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_tz)
    return moment.astimezone(UTC).isoformat()


def _choice(spec: FieldSpec, value: Any) -> str:
    wanted = str(value).strip().casefold()
    for choice in spec.choices:
        if choice.casefold() == wanted:
            return choice
    raise ValueError(f"{str(value)[:100]!r} is not one of its choices ({', '.join(spec.choices)}).")


def display_value(spec: FieldSpec, value: Any) -> str:
    """A stored value as a person reads it on the ticket page."""
    if value is None or value == "" or value == []:
        return ""
    if spec.type == "checkbox":
        return "Yes" if value else "No"
    if spec.type == "multi_choice" and isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if spec.type == "datetime":
        try:
            return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M %Z").strip()
        except ValueError:
            return str(value)
    return str(value)
