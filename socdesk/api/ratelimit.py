"""Per-key request rate limit shared by every API surface (osTicket, TheHive, hooks, REST v1).

Call `check_rate_limit(key)` right after authenticate_key; turn `RateLimited` into a 429 with
`Retry-After` (`rate_limited_response(exc)` gives the house JSON shape).

A fixed one-minute window per key, counted in Django's cache so that every web process on every
machine shares one count (Redis in production, the database cache in the embedded default).
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.http import JsonResponse

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
    count = _increment(f"socdesk:ratelimit:{key.pk}:{window}")
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
    # Django's DatabaseCache.incr is a read followed by a write; two processes could both read n and
    # write n+1. Holding the row lock (PostgreSQL) or SQLite's write lock (IMMEDIATE transactions)
    # across the read and the write makes the count exact.
    alias = router.db_for_write(cache.cache_model_class)
    connection = connections[alias]
    with transaction.atomic(using=alias):
        cache.add(name, 0, timeout=WINDOW_SECONDS * 2)
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(cache._table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",
                    [cache.make_and_validate_key(name)],
                )
        value = cache.get(name)
        value = 1 if value is None else value + 1
        cache.set(name, value, timeout=WINDOW_SECONDS * 2)
        return value


def rate_limited_response(exc: RateLimited) -> JsonResponse:
    """The 429 in the house JSON error shape, for JSON API surfaces (REST v1, TheHive, hooks)."""
    return error_response(429, "rate_limited", exc.message, headers={"Retry-After": str(exc.retry_after)})
