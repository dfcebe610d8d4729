"""Pure hashing of audit events: canonical content, content hash and chain link."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from socdesk.core.text import clean_json

GENESIS = "0" * 64

# Built once: json.dumps with any option builds a new encoder on every call, a tenth of an event's cost.
# `encode` is what json.dumps calls with these options, so the text is the same.
_PLAIN = json.JSONEncoder(ensure_ascii=False, default=str)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def to_json_safe(value: Any) -> Any:
    """The value as plain JSON data, exactly as it will read back from the database (control characters
    removed: PostgreSQL's jsonb refuses NUL)."""
    # Nearly every event's details are already plain JSON data (string keys, no control characters):
    # copying them is a third of a JSON round trip, and gives what the round trip gives.
    try:
        return _plain_copy(value)
    except (_NotPlain, RecursionError):  # a cycle: json.dumps names it (ValueError)
        pass
    dumped = _PLAIN.encode(value)
    plain = json.loads(dumped)
    # Walking every string is the costly part and almost never finds anything: only when the encoded
    # form holds an escaped control character that clean_json removes (tab, newline and carriage return
    # are kept), which json.dumps writes as \u0000-\u001f, \b or \f. An escaped backslash before "u00",
    # "b" or "f" matches too, which only costs the walk.
    if "\\u00" in dumped or "\\b" in dumped or "\\f" in dumped:
        return clean_json(plain)
    return plain


class _NotPlain(Exception):
    """Raised by `_plain_copy` for a value whose JSON round trip changes more than its types."""


# The control characters clean_text removes; a string holding one takes the round trip and the clean.
_HAS_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]").search


def _plain_copy(value: Any) -> Any:
    """A fresh copy of plain JSON data as json.loads(json.dumps(value)) returns it: str, int and float
    subclasses (choices, enums) as the base type, tuples as lists; `_NotPlain` for anything else (a
    key that is not a str, a value json.dumps would pass through `default`, a control character)."""
    kind = type(value)
    if kind is str:
        if _HAS_CONTROL(value):
            raise _NotPlain
        return value
    if value is None or kind is bool or kind is int or kind is float:
        return value
    if isinstance(value, dict):
        copy = {}
        for key, item in value.items():
            if type(key) is not str or _HAS_CONTROL(key):
                raise _NotPlain
            copy[key] = _plain_copy(item)
        return copy
    if isinstance(value, list | tuple):
        return [_plain_copy(item) for item in value]
    # json.dumps writes a subclass of str, int or float as its base type's text (not via __str__).
    if isinstance(value, str):
        return _plain_copy(str.__str__(value))
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    raise _NotPlain


def canonical(fields: dict[str, Any]) -> bytes:
    """Stable byte form of an event's content: sorted keys, no whitespace, UTC timestamps."""
    normalised = dict(fields)
    when = normalised.get("occurred_at")
    if isinstance(when, datetime):
        normalised["occurred_at"] = when.astimezone(UTC).isoformat(timespec="microseconds")
    return _CANONICAL.encode(normalised).encode()


def content_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the event's canonical content."""
    return hashlib.sha256(canonical(fields)).hexdigest()


def link_hash(prev_hash: str, this_content_hash: str) -> str:
    """SHA-256 binding an event to the one before it in the chain."""
    return hashlib.sha256(f"{prev_hash}:{this_content_hash}".encode()).hexdigest()
