"""Writing webhook deliveries: one INSERT per reply, or one per group of concurrent replies.

Acknowledging a delivery means committing its row first, and under a flood of single-alert
requests the commits, not the inserts, are what the database spends its time on. So concurrent
replies in one web process share them (group commit): the first reply to arrive writes its row
and those of every reply that queued while the previous write was in flight, in one multi-row
INSERT that commits by itself, and hands the next group to the reply at its head. Nobody waits
for a timer, so a lone request costs exactly what it did; each reply still returns only after its
own row is committed. If a group's INSERT fails, its rows are retried one by one, so one bad row
fails only its own request.

Inside a caller's transaction (an API that answers with the processed alert, or a test) the row
is written with that transaction's connection directly: another request's row must never share
a transaction that might roll back after it was acknowledged.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from django.db import connection

from socdesk.alerts.models import WebhookDelivery
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


def insert(delivery: WebhookDelivery) -> int:
    """Commit a new delivery row (alone or with concurrent ones); returns its id."""
    values = _values(delivery)
    if connection.in_atomic_block:
        return _insert_rows([values])[0]
    return _group.insert(values)


def _values(delivery: WebhookDelivery) -> list[Any]:
    return [
        field.get_db_prep_save(getattr(delivery, field.attname), connection)
        for field in column_fields(WebhookDelivery._meta, list(FIELDS))
    ]


def _insert_rows(rows: list[list[Any]]) -> list[int]:
    """One INSERT ... RETURNING id for the rows (committed by itself outside a transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection.vendor, len(rows)), [value for row in rows for value in row])
        return [row[0] for row in cursor.fetchall()]


@functools.lru_cache(maxsize=2 * MAX_GROUP)
def _sql(vendor: str, count: int) -> str:
    # Built once per (database, row count) per process: compiling it is dearer than running it.
    meta, quote = WebhookDelivery._meta, connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in column_fields(meta, list(FIELDS)))
    row = "(" + ", ".join(["%s"] * len(FIELDS)) + ")"
    rows = ", ".join([row] * count)
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {rows} RETURNING {quote('id')}"


class _Pending:
    __slots__ = ("error", "leads", "pk", "ready", "values")

    def __init__(self, values: list[Any]) -> None:
        self.values, self.ready, self.leads = values, threading.Event(), False
        self.pk: int | None = None
        self.error: BaseException | None = None


class GroupInsert:
    """Group commit for one process: at most one INSERT of deliveries in flight, and what queued
    behind it goes in the next one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._writing = False

    def insert(self, values: list[Any]) -> int:
        item = _Pending(values)
        with self._lock:
            self._queue.append(item)
            if not self._writing:
                self._writing = item.leads = True
        if not item.leads:
            item.ready.wait()  # written by a leader, or handed the lead
        if item.leads:
            self._write_group()
        if item.error is not None:
            raise item.error
        assert item.pk is not None  # _write_group leaves every item of its group with a pk or an error
        return item.pk

    def _write_group(self) -> None:
        with self._lock:
            group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
        try:
            ids = _insert_rows([item.values for item in group])
            for item, pk in zip(group, ids, strict=True):
                item.pk = pk
        except Exception:
            for item in group:  # one bad row must fail only its own request
                try:
                    item.pk = _insert_rows([item.values])[0]
                except Exception as exc:
                    item.error = exc
        finally:
            with self._lock:
                if self._queue:
                    head = self._queue[0]
                    head.leads = True
                    head.ready.set()
                else:
                    self._writing = False
            for item in group:
                if item.pk is None and item.error is None:  # interrupted before its row was written
                    item.error = RuntimeError("The delivery was not stored; the request was interrupted.")
                item.leads = False
                item.ready.set()


_group = GroupInsert()
