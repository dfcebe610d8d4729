"""Failed sign-in throttling, counted in the cache per username and per client IP.

The cache is shared by every web process (database cache by default, Redis when configured), so the
limit holds across workers and machines.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


def _keys(username: str, ip: str | None) -> list[str]:
    # Hashed so that odd characters in a typed username can never make an invalid cache key.
    user_key = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    keys = [f"login-fail:user:{user_key}"]
    if ip:
        keys.append(f"login-fail:ip:{ip}")
    return keys


@dataclass(frozen=True)
class Lockout:
    """A refusal to even check the password, with the number of seconds until the next try."""

    retry_after: int

    @property
    def message(self) -> str:
        minutes = max(1, -(-self.retry_after // 60))
        unit = "minute" if minutes == 1 else "minutes"
        return (
            f"Too many failed sign-ins for this username or from this address. Try again in {minutes} {unit}."
        )


def login_lockout(username: str, ip: str | None) -> Lockout | None:
    """A Lockout when the username or the IP has reached the failure limit within the window."""
    limit = settings.LOGIN_FAILURE_LIMIT
    now = time.time()
    for key in _keys(username, ip):
        entry = cache.get(key)
        if entry and entry["count"] >= limit and entry["until"] > now:
            return Lockout(retry_after=int(entry["until"] - now) + 1)
    return None


def login_failed(username: str, ip: str | None) -> None:
    """Count one failure for the username and the IP; the window starts at the first failure."""
    window = settings.LOGIN_FAILURE_WINDOW
    now = time.time()
    # Read-modify-write rather than cache.incr: incr on the database cache resets the expiry to the
    # cache default. A burst of parallel attempts may be undercounted by a few, never reset.
    for key in _keys(username, ip):
        entry = cache.get(key)
        if not entry or entry["until"] <= now:
            entry = {"count": 0, "until": now + window}
        entry["count"] += 1
        cache.set(key, entry, timeout=max(1, int(entry["until"] - now)))


def login_succeeded(username: str) -> None:
    """A correct password clears the username's count (the IP's stays, against spraying many users)."""
    cache.delete(_keys(username, None)[0])
