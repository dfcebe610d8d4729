"""Cleaning text that arrives from outside before it is stored."""

from __future__ import annotations

import re
from typing import Any

# C0 control characters other than tab, newline and carriage return: never meaningful in a ticket, and
# NUL in particular is refused by PostgreSQL text and jsonb columns (a 500 instead of a stored ticket).
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


# Finding one is cheaper than translating: str.translate looks each distinct character up in the
# table on every call, and walks a non-ASCII text character by character in Python's slow path.
_HAS_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]").search
# A long ASCII text is translated at once: there the table is looked up once per distinct character
# and the rest is a copy, which outruns the search.
_LONG_ASCII = 1000


def clean_text(value: str) -> str:
    """The text without control characters (tab, newline and carriage return are kept)."""
    if not value:
        return value
    if type(value) is not str or (value.isascii() and len(value) > _LONG_ASCII) or _HAS_CONTROL(value):
        return value.translate(_CONTROL)  # a subclass (a choice, a safe string) comes back a plain str
    return value


def clean_json(value: Any) -> Any:
    """A JSON-like value with every string (keys included) passed through clean_text."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value
