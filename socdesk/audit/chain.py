"""Pure hashing of audit events: canonical content, content hash and chain link."""

from __future__ import annotations

import hashlib
import json
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
    dumped = _PLAIN.encode(value)
    plain = json.loads(dumped)
    # Walking every string is the costly part and almost never finds anything: only when the encoded
    # form holds an escaped control character that clean_json removes (tab, newline and carriage return
    # are kept), which json.dumps writes as \u0000-\u001f, \b or \f. An escaped backslash before "u00",
    # "b" or "f" matches too, which only costs the walk.
    if "\\u00" in dumped or "\\b" in dumped or "\\f" in dumped:
        return clean_json(plain)
    return plain


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
