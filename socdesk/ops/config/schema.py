"""What an entry may hold: small schema pieces that check a value and return its canonical form.

Checking and making canonical are one walk: each piece gets the value and its path, reports problems to the
`Check` (which keeps going, so one run names every problem) and returns the value as export would write it
(defaults filled in, lists sorted where their order means nothing). References to other objects are
collected on the way and checked once the whole file has been read.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from socdesk.ops.config.document import Path

MISSING: Any = object()


@dataclass(frozen=True)
class Reference:
    """A name in the file that must be an object of `kind` (in the file, or already in this installation)."""

    path: Path
    kind: str
    name: str


@dataclass
class Check:
    """Problems and references found while checking the file."""

    problems: list[tuple[Path, str]] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)

    def fail(self, path: Path, message: str) -> Any:
        self.problems.append((path, message))
        return MISSING


def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (yes/no)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Schema:
    """One piece: `check` returns the canonical value (or MISSING after reporting a problem)."""

    def check(self, value: Any, path: Path, check: Check) -> Any:
        raise NotImplementedError


class Text(Schema):
    def __init__(self, *, max_length: int | None = None, required: bool = False, strip: bool = True):
        # Names are stripped (as the services store them); free text such as a description is kept as given.
        self.max_length, self.required, self.strip = max_length, required, strip

    def check(self, value: Any, path: Path, check: Check) -> Any:
        if not isinstance(value, str):
            return check.fail(path, f"must be text, not {_kind_of(value)}; put it in quotes.")
        if self.strip:
            value = value.strip()
        if self.required and not value.strip():
            return check.fail(path, "must not be empty.")
        if self.max_length is not None and len(value) > self.max_length:
            return check.fail(path, f"is longer than {self.max_length} characters.")
        return value


# The largest value an integer column holds on every database (PostgreSQL's `integer`).
INTEGER_MAX = 2_147_483_647


class Integer(Schema):
    def __init__(self, *, minimum: int | None = None, maximum: int = INTEGER_MAX):
        self.minimum, self.maximum = minimum, maximum

    def check(self, value: Any, path: Path, check: Check) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return check.fail(path, f"must be a whole number, not {_kind_of(value)}.")
        if self.minimum is not None and value < self.minimum:
            return check.fail(path, f"must be at least {self.minimum}.")
        if value > self.maximum:
            return check.fail(path, f"must be at most {self.maximum}.")
        return value


class Number(Schema):
    def check(self, value: Any, path: Path, check: Check) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return check.fail(path, f"must be a number, not {_kind_of(value)}.")
        return float(value)


class Boolean(Schema):
    def check(self, value: Any, path: Path, check: Check) -> Any:
        if not isinstance(value, bool):
            return check.fail(path, f"must be true or false, not {_kind_of(value)}.")
        return value


class Choice(Schema):
    def __init__(self, values: Iterable[str]):
        self.values = tuple(values)

    def check(self, value: Any, path: Path, check: Check) -> Any:
        if value not in self.values:
            return check.fail(path, f"must be one of {', '.join(self.values)}, not {_kind_of(value)}.")
        return value


class Nullable(Schema):
    """The inner piece, or null (written null, and read as null when the key is left out)."""

    def __init__(self, inner: Schema):
        self.inner = inner

    def check(self, value: Any, path: Path, check: Check) -> Any:
        return None if value is None else self.inner.check(value, path, check)


class Ref(Schema):
    """The name of an object of another kind (a username for agents)."""

    def __init__(self, kind: str):
        self.kind = kind

    def check(self, value: Any, path: Path, check: Check) -> Any:
        name = Text(required=True).check(value, path, check)
        if name is not MISSING:
            check.references.append(Reference(path, self.kind, name))
        return name


class Plain(Schema):
    """Any JSON-like value (text, number, yes/no, or a list of those), kept as given."""

    def check(self, value: Any, path: Path, check: Check) -> Any:
        scalar = (str, int, float, bool)
        if isinstance(value, scalar) or value is None:
            return value
        if isinstance(value, list) and all(isinstance(item, scalar) for item in value):
            return value
        return check.fail(path, f"must be text, a number, yes/no or a list of those, not {_kind_of(value)}.")


class Date(Schema):
    def check(self, value: Any, path: Path, check: Check) -> Any:
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                pass
        return check.fail(path, f"must be a date written YYYY-MM-DD, not {_kind_of(value)}.")


class ListOf(Schema):
    def __init__(self, item: Schema, *, sort: bool = False):
        self.item, self.sort = item, sort

    def check(self, value: Any, path: Path, check: Check) -> Any:
        if not isinstance(value, list):
            return check.fail(path, f"must be a list, not {_kind_of(value)}.")
        items = [self.item.check(item, (*path, index), check) for index, item in enumerate(value)]
        if any(item is MISSING for item in items):
            return MISSING
        # A list whose order means nothing (members, permissions): sorted, each once.
        return sorted(set(items)) if self.sort else items


class MapOf(Schema):
    def __init__(self, key: Schema, value: Schema):
        self.key, self.value = key, value

    def check(self, value: Any, path: Path, check: Check) -> Any:
        if not isinstance(value, dict):
            return check.fail(path, f"must be a mapping (key: value lines), not {_kind_of(value)}.")
        result = {}
        for raw_key, raw_value in value.items():
            where = (*path, str(raw_key))
            key = self.key.check(raw_key, where, check)
            item = self.value.check(raw_value, where, check)
            if key is not MISSING and item is not MISSING:
                result[key] = item
        return dict(sorted(result.items())) if len(result) == len(value) else MISSING


@dataclass(frozen=True)
class Field:
    """A key of a record: its schema, and its value when the key is left out (MISSING: required)."""

    schema: Schema
    default: Any = MISSING


class Record(Schema):
    """A mapping with known keys, in the order export writes them; unknown keys are refused."""

    def __init__(self, fields: Mapping[str, Field], *, validate: Callable[..., None] | None = None):
        self.fields = dict(fields)
        self.validate = validate  # a check across keys: validate(record, path, check)

    def check(self, value: Any, path: Path, check: Check) -> Any:
        if not isinstance(value, dict):
            return check.fail(path, f"must be a mapping (key: value lines), not {_kind_of(value)}.")
        result: dict[str, Any] = {}
        failed = False
        for key in value:
            if key not in self.fields:
                check.fail(
                    (*path, str(key)), f"unknown key {key!r}; the keys here are {', '.join(self.fields)}."
                )
                failed = True
        for name, spec in self.fields.items():
            if name in value:
                result[name] = spec.schema.check(value[name], (*path, name), check)
            elif spec.default is MISSING:
                result[name] = check.fail((*path, name), f"the key {name!r} is missing.")
            else:
                result[name] = copy.deepcopy(spec.default)
            failed = failed or result[name] is MISSING
        if failed:
            return MISSING
        if self.validate is not None:
            before = len(check.problems)
            self.validate(result, path, check)
            if len(check.problems) > before:
                return MISSING
        return result
