"""Atomic counters in Django's cache, shared by every process on every machine that shares the cache.

`counter_add(name, delta, timeout=...)` adds to a counter and returns the new value in one atomic step;
the counter's window (its expiry) starts when it is created and is not moved by later additions, so a
fixed window really is fixed. Used by the API rate limit and the sign-in throttle.

Django's DatabaseCache.incr is a read followed by a write (two processes can both read n and write
n + 1) and resets the expiry, so for the database cache (the embedded default) the counter is one
transaction here on Django's own cache table, in Django's entry format. On Redis, `add` (SET NX) and
`incr` (INCRBY) are atomic and keep the key's time to live.
"""

from __future__ import annotations

import base64
import pickle
from datetime import timedelta

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils import timezone

from socdesk.core import sql


def counter_add(name: str, delta: int = 1, *, timeout: int) -> int:
    """Add `delta` (may be negative) to the counter `name` and return its new value.

    A missing or expired counter starts a new window of `timeout` seconds at `delta`; a negative delta
    on a missing counter does nothing and returns 0 (there is nothing left to give back).
    """
    cache = caches[DEFAULT_CACHE_ALIAS]  # the backend itself, not the `cache` proxy (isinstance below)
    if isinstance(cache, DatabaseCache):
        return _add_db_cache(cache, name, delta, timeout)
    for _attempt in range(2):
        if delta > 0 and cache.add(name, delta, timeout=timeout):
            return delta
        try:
            return int(cache.incr(name, delta))
        except ValueError:  # missing, or expired between add and incr
            if delta <= 0:
                return 0
    return int(cache.incr(name, delta))


def _add_db_cache(cache: DatabaseCache, name: str, delta: int, timeout: int) -> int:
    """One transaction: read the entry under a lock (SQLite's IMMEDIATE transactions already hold the
    write lock), then update, restart or insert it."""
    alias = router.db_for_write(cache.cache_model_class)
    connection = connections[alias]
    # DatabaseCache sets _table in __init__; django-stubs does not declare it.
    table = connection.ops.quote_name(cache._table)  # type: ignore[attr-defined]
    db_key = cache.make_and_validate_key(name)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    now = timezone.now()
    now_db = connection.ops.adapt_datetimefield_value(now)
    expires = connection.ops.adapt_datetimefield_value(now + timedelta(seconds=timeout))
    select = f"SELECT value, CASE WHEN expires < %s THEN 1 ELSE 0 END FROM {table} WHERE cache_key = %s{lock}"
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        if outermost:  # a counter need not survive a crash; never weaken a caller's transaction
            sql.skip_commit_flush(alias)
        cursor.execute(select, [now_db, db_key])
        row = cursor.fetchone()
        if row is None:
            if delta <= 0:
                return 0
            # A new counter: also drop expired entries so the table stays small without relying on
            # the cache's culling.
            cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [now_db])
            cursor.execute(
                f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
                "ON CONFLICT (cache_key) DO NOTHING",
                [db_key, _encode(delta), expires],
            )
            if cursor.rowcount == 1:
                return delta
            cursor.execute(select, [now_db, db_key])  # inserted concurrently: take its lock and count on
            row = cursor.fetchone()
        value, expired = row
        if int(expired):
            if delta <= 0:
                return 0
            cursor.execute(
                f"UPDATE {table} SET value = %s, expires = %s WHERE cache_key = %s",
                [_encode(delta), expires, db_key],
            )
            return delta
        count = _decode(value) + delta
        cursor.execute(f"UPDATE {table} SET value = %s WHERE cache_key = %s", [_encode(count), db_key])
        return count


def _encode(count: int) -> str:
    # The database cache's own entry format, so the entry stays a valid cache value.
    return base64.b64encode(pickle.dumps(count, pickle.HIGHEST_PROTOCOL)).decode("latin1")


def _decode(value: str) -> int:
    return int(pickle.loads(base64.b64decode(value.encode())))
