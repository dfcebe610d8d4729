"""Cursor (keyset) pagination: stable under inserts, no OFFSET, opaque and tamper-proof cursors."""

from __future__ import annotations

from datetime import datetime

from django.core import signing
from django.db.models import Model, Q, QuerySet

from socdesk.core.errors import ServiceError

CURSOR_SALT = "socdesk.api.v1.cursor"


def page(qs: QuerySet, order: tuple[str, ...], *, limit: int, cursor: str | None, kind: str):
    """One page of `qs` (already ordered by `order`, ending in a unique field) after `cursor`.

    Returns (rows, next_cursor). The cursor carries the sort keys of the last row and which
    listing/sort it belongs to, signed so that a forged or edited cursor is refused, not obeyed.
    """
    if cursor:
        qs = qs.filter(_after(order, _decode(cursor, kind)))
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode(rows[-1], order, kind) if more and rows else None)


def _encode(row: Model, order: tuple[str, ...], kind: str) -> str:
    values = []
    for field in order:
        value = getattr(row, field.lstrip("-"))
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    return signing.dumps({"k": kind, "v": values}, salt=CURSOR_SALT, compress=True)


def _decode(cursor: str, kind: str) -> list:
    try:
        data = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        data = None
    if not isinstance(data, dict) or data.get("k") != kind or not isinstance(data.get("v"), list):
        raise ServiceError(
            "The cursor is not valid for this listing; take it from the `next` field of the previous "
            "page, with the same sort, or start again without it.",
            fields={"cursor": "invalid"},
        )
    return data["v"]


def _after(order: tuple[str, ...], values: list) -> Q:
    """Rows strictly after the row whose sort keys are `values`: (a, b) > (va, vb) in the given order."""
    condition = Q(pk__in=[])
    equal: dict = {}
    for field, value in zip(order, values, strict=True):
        name = field.lstrip("-")
        if isinstance(value, str) and name.endswith("_at"):
            value = datetime.fromisoformat(value)
        op = "lt" if field.startswith("-") else "gt"
        condition |= Q(**equal, **{f"{name}__{op}": value})
        equal[name] = value
    return condition
