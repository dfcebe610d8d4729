"""A small per-process memory of recent lookups, for the machine-facing hot paths.

Every webhook and API request looks up its key (and a webhook its integration). Reading the same
rows thousands of times a second costs more than the rest of the request, so each web process
keeps what it read for a few seconds. The cost is a short delay: a key revoked (or an integration
disabled or renamed) in one process is still honoured by the others for up to that many seconds;
the process that made the change forgets at once. `SOCDESK_LOOKUP_CACHE_SECONDS=0` turns it off.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from django.conf import settings

T = TypeVar("T")

MAX_ENTRIES = 4096  # far more keys and integrations than any deployment has; a bound against misuse


class RecentLookups(Generic[T]):
    """Values by key, each kept for SOCDESK_LOOKUP_CACHE_SECONDS after it was loaded."""

    _all: weakref.WeakSet[RecentLookups[Any]] = weakref.WeakSet()

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[float, T]] = {}
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
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            return found[1]
        value = load()
        if not keep(value):
            return value
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (now + seconds, value)
        return value

    def forget(self) -> None:
        """Drop everything (after a change made in this process)."""
        self._entries.clear()
