"""Per-key request rate limit shared by every API surface (osTicket, TheHive, hooks, REST v1).

Call `check_rate_limit(key)` right after authenticate_key and outside any transaction (on PostgreSQL
the counter row stays locked until the surrounding transaction ends); turn `RateLimited` into a 429
with `Retry-After` (`rate_limited_response(exc)` gives the house JSON shape).

A fixed one-minute window per key, counted in Django's cache so that every web process on every
machine shares one count (Redis in production, the database cache in the embedded default).
"""

from __future__ import annotations

import base64
import math
import pickle
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.http import JsonResponse
from django.utils import timezone

from socdesk.accounts.models import ApiKey
from socdesk.api.errors import error_response

WINDOW_SECONDS = 60


class RateLimited(Exception):
    """The key used up its requests for this minute; `retry_after` is seconds until the next window."""

    def __init__(self, limit: int, retry_after: int):
        self.limit, self.retry_after = limit, retry_after
        self.message = (
            f"This API key is limited to {limit} requests per minute; retry in {retry_after} seconds."
        )
        super().__init__(self.message)


def check_rate_limit(key: ApiKey) -> None:
    """Count one request for the key; raise RateLimited when it is over SOCDESK_API_RATE_LIMIT."""
    limit = settings.SOCDESK_API_RATE_LIMIT
    if limit <= 0:
        return
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    # The prefix, not the pk: unique for ever, so a counter can never be inherited by a later key.
    count = _increment(f"socdesk:ratelimit:{key.prefix}:{window}")
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        raise RateLimited(limit, retry_after)


def _increment(name: str) -> int:
    """Add one to a counter atomically, creating it for the window (kept a little past its end)."""
    cache = caches[DEFAULT_CACHE_ALIAS]  # the backend itself, not the `cache` proxy (isinstance below)
    if isinstance(cache, DatabaseCache):
        return _increment_db_cache(cache, name)
    cache.add(name, 0, timeout=WINDOW_SECONDS * 2)
    try:
        return cache.incr(name)  # atomic on Redis and memcached
    except ValueError:  # expired between add and incr
        cache.add(name, 1, timeout=WINDOW_SECONDS * 2)
        return 1


def _increment_db_cache(cache: DatabaseCache, name: str) -> int:
    """Atomic increment of an entry in Django's database cache table, in Django's entry format.

    DatabaseCache.incr is a read followed by a write (two processes could both read n and write n+1),
    and its add/get/set cost about fifteen queries. Here it is one transaction: read the row under a
    lock (SQLite's IMMEDIATE transactions already hold the write lock), then update or insert it.
    """
    alias = router.db_for_write(cache.cache_model_class)
    connection = connections[alias]
    table = connection.ops.quote_name(cache._table)
    db_key = cache.make_and_validate_key(name)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = f"SELECT value FROM {table} WHERE cache_key = %s{lock}"
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        if outermost and connection.vendor == "postgresql":
            # A rate counter need not survive a crash: do not wait for the WAL flush at commit. Only in
            # our own transaction: inside a caller's, it would weaken the durability of its writes.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(select, [db_key])
        row = cursor.fetchone()
        if row is None:
            now = timezone.now()
            expires = connection.ops.adapt_datetimefield_value(now + timedelta(seconds=WINDOW_SECONDS * 2))
            # First request of this key's window: also drop expired entries (old windows) so the
            # table stays small without relying on the cache's culling.
            cursor.execute(
                f"DELETE FROM {table} WHERE expires < %s",
                [connection.ops.adapt_datetimefield_value(now)],
            )
            cursor.execute(
                f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
                "ON CONFLICT (cache_key) DO NOTHING",
                [db_key, _encode(1), expires],
            )
            if cursor.rowcount == 1:
                return 1
            cursor.execute(select, [db_key])  # inserted concurrently: take its lock and count on
            row = cursor.fetchone()
        count = _decode(row[0]) + 1
        cursor.execute(f"UPDATE {table} SET value = %s WHERE cache_key = %s", [_encode(count), db_key])
        return count


def _encode(count: int) -> str:
    # The database cache's own entry format, so the entry stays a valid cache value.
    return base64.b64encode(pickle.dumps(count, pickle.HIGHEST_PROTOCOL)).decode("latin1")


def _decode(value: str) -> int:
    return int(pickle.loads(base64.b64decode(value.encode())))


def rate_limited_response(exc: RateLimited) -> JsonResponse:
    """The 429 in the house JSON error shape, for JSON API surfaces (REST v1, TheHive, hooks)."""
    return error_response(429, "rate_limited", exc.message, headers={"Retry-After": str(exc.retry_after)})
