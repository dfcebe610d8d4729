"""A small per-process memory of recent lookups, for the machine-facing hot paths.

Every webhook and API request looks up its key (and a webhook its integration, a ticket its key's
default department). Reading the same rows thousands of times a second costs more than the rest of
the request, so each web process keeps what it read for SOCDESK_LOOKUP_CACHE_SECONDS (one second by
default) and then reads it again from the database.

That period is the bound on how long a change made elsewhere goes unnoticed: a key revoked, or an
integration disabled or given a new token, in any process on any machine is refused by every other
process at most that long after the change committed. The process that made the change forgets at
once. Nothing is shared between processes, so the bound holds whatever wrote the row (a service, the
admin, a restore) and whether or not a shared cache is up; the price is one read per remembered value
per period in each process that uses it (docs/benchmarks.md). `SOCDESK_LOOKUP_CACHE_SECONDS=0` turns
the memory off.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import transaction

T = TypeVar("T")

MAX_ENTRIES = 4096  # far more keys and integrations than any deployment has; a bound against misuse


class RecentLookups(Generic[T]):
    """Values by key, each kept for SOCDESK_LOOKUP_CACHE_SECONDS after it was loaded."""

    _all: weakref.WeakSet[RecentLookups[Any]] = weakref.WeakSet()

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[Hashable, tuple[float, T]] = {}
        self._clock = clock
        # Held only while a remembered value is read again, so that when it goes stale under a flood
        # one thread of the process reads it and the others use what that thread read.
        self._reloading = threading.Lock()
        RecentLookups._all.add(self)

    @classmethod
    def forget_everything(cls) -> None:
        """Drop what every instance remembers (between tests, whose databases are rolled back)."""
        for instance in list(cls._all):
            instance.forget()

    def get(self, key: Hashable, load: Callable[[], T], keep: Callable[[T], bool] = lambda value: True) -> T:
        """The value remembered for `key`, or `load()` (remembered when caching is on and `keep` agrees)."""
        seconds = settings.SOCDESK_LOOKUP_CACHE_SECONDS
        if seconds <= 0:
            return load()
        found = self._entries.get(key)
        if found is not None and found[0] > self._clock():
            return found[1]
        if found is None:  # never remembered (or not kept): no lock, unknown keys must not queue up
            return self._load(key, load, keep, seconds)
        with self._reloading:
            found = self._entries.get(key)
            if found is not None and found[0] > self._clock():
                return found[1]
            return self._load(key, load, keep, seconds)

    def _load(self, key: Hashable, load: Callable[[], T], keep: Callable[[T], bool], seconds: float) -> T:
        # The period starts before the read, so a value read just before a change committed is still
        # dropped within one period of that commit.
        expires = self._clock() + seconds
        value = load()
        if not keep(value):
            self._entries.pop(key, None)
            return value
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (expires, value)
        return value

    def forget(self) -> None:
        """Drop everything."""
        self._entries.clear()

    def forget_after_change(self) -> None:
        """Drop everything now and again when the current transaction commits (call on every write).

        Now, so the writing thread sees its own change; at commit, because until then another thread
        of this process may read the old row again and would keep it for a whole period.
        """
        self._entries.clear()
        transaction.on_commit(self._entries.clear)
