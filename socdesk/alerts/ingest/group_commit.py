"""Writing webhook deliveries: one INSERT per reply, or one per group of concurrent replies.

Acknowledging a delivery means committing its row first. Concurrent replies in one web process share
one multi-row INSERT that commits by itself (group commit, socdesk.core.grouping); each reply still
returns only after its own row is committed, and a bad row fails only its own request.

Inside a caller's transaction (an API that answers with the processed alert, or a test) the row
is written with that transaction's connection directly: another request's row must never share
a transaction that might roll back after it was acknowledged.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from socdesk.alerts.models import WebhookDelivery
from socdesk.core.grouping import GroupRunner
from socdesk.core.sql.values import column_fields

FIELDS = (
    "integration",
    "adapter",
    "body",
    "content_type",
    "headers",
    "received_at",
    "client_ip",
    "api_key",
    "status",
    "attempts",
    "claim_token",
    "error",
    "alert_count",
)
MAX_GROUP = 64  # rows per INSERT (the threads of one process are far fewer; a bound all the same)


def arriving() -> AbstractContextManager[None]:
    """Announce the calling request to the group writer until it inserts its row (or gives up)."""
    return _group.arriving()


def insert(delivery: WebhookDelivery, db: BaseDatabaseWrapper | None = None) -> int:
    """Commit a new delivery row (alone or with concurrent ones); returns its id.

    `db` is the calling thread's default connection when the caller already holds it: every use of
    `django.db.connection` looks the thread's connection up again, and a webhook's acknowledgement
    would otherwise do that once per column.
    """
    db = db or connections[DEFAULT_DB_ALIAS]
    values = _values(delivery, db)
    if db.in_atomic_block:
        return _insert_rows([values], db)[0]
    return _group.submit(values)


def _values(delivery: WebhookDelivery, db: BaseDatabaseWrapper | None = None) -> list[Any]:
    db = db or connections[DEFAULT_DB_ALIAS]
    prepared = _prepared_small_values
    if len(prepared) > MAX_PREPARED:
        prepared.clear()
    values = []
    for field in _fields():
        value = getattr(delivery, field.attname)
        kind = type(value)
        if value is None or kind is int or (kind is str and len(value) <= MAX_PREPARED_LENGTH):
            # Most columns of a new delivery repeat (its status, counters, adapter, integration,
            # content type): preparing a small int or string for the database is a pure function of
            # the value, so each is prepared once per process instead of once per row.
            memo = (field.attname, kind, value)
            found = prepared.get(memo, _MISSING)
            if found is _MISSING:
                found = prepared[memo] = field.get_db_prep_save(value, db)
            values.append(found)
        else:
            values.append(field.get_db_prep_save(value, db))
    return values


MAX_PREPARED = 4096  # prepared values kept per process (a bound: the columns above repeat a few values)
MAX_PREPARED_LENGTH = 200
_MISSING = object()
_prepared_small_values: dict[tuple[str, type, Any], Any] = {}


@functools.cache
def _fields() -> tuple[Any, ...]:
    return tuple(column_fields(WebhookDelivery._meta, list(FIELDS)))


def _insert_rows(rows: list[list[Any]], db: BaseDatabaseWrapper | None = None) -> list[int]:
    """One INSERT ... RETURNING id for the rows (committed by itself outside a transaction)."""
    db = db or connections[DEFAULT_DB_ALIAS]
    with _cursor(db) as cursor:
        cursor.execute(_sql(db.vendor, len(rows)), [value for row in rows for value in row])
        return [row[0] for row in cursor.fetchall()]


def _cursor(db: BaseDatabaseWrapper | None = None) -> Any:
    """Django's cursor; on PostgreSQL one that sends the statement as written and binds its parameters
    on the server (`numbered_cursor`).

    Django's psycopg cursors bind parameters on the client (unless OPTIONS server_side_binding):
    psycopg then turns each value of the statement into quoted SQL text, in a Python loop, in the
    web process, and rewrites the long statement's placeholders for every group. Sent beside the
    statement, the values are dumped by psycopg's C code instead. Only this statement changes: it is
    made once per row count (_sql).
    """
    db = db or connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        return db.cursor()
    from socdesk.core.sql.postgresql import numbered_cursor

    return numbered_cursor(db)


@functools.lru_cache(maxsize=2 * MAX_GROUP)
def _sql(vendor: str, count: int) -> str:
    # Built once per (database, row count) per process: compiling it is dearer than running it.
    # PostgreSQL's placeholders are numbered ($1...), for the raw cursor of _cursor; SQLite's are %s.
    meta, quote = WebhookDelivery._meta, connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in column_fields(meta, list(FIELDS)))
    width = len(FIELDS)
    if vendor == "postgresql":
        rows = ", ".join(
            "(" + ", ".join(f"${start + number}" for number in range(1, width + 1)) + ")"
            for start in range(0, width * count, width)
        )
    else:
        rows = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * count)
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {rows} RETURNING {quote('id')}"


# A lambda, not the function itself, so a test can replace _insert_rows.
_group: GroupRunner[list[Any], int] = GroupRunner(lambda rows: _insert_rows(rows), max_group=MAX_GROUP)
