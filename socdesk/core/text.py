"""Cleaning text that arrives from outside before it is stored."""

from __future__ import annotations

from typing import Any

# C0 control characters other than tab, newline and carriage return: never meaningful in a ticket, and
# NUL in particular is refused by PostgreSQL text and jsonb columns (a 500 instead of a stored ticket).
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def clean_text(value: str) -> str:
    """The text without control characters (tab, newline and carriage return are kept)."""
    return value.translate(_CONTROL) if value else value


def clean_json(value: Any) -> Any:
    """A JSON-like value with every string (keys included) passed through clean_text."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value
