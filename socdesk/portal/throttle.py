"""The portal's limits: sign-in links and reports per address and per client IP, and single sign-on
callbacks per client IP, in the shared cache.

Counted with `core.counters.counter_add` (atomic, shared by every web process), over a fixed window
(SOCDESK_PORTAL_LIMIT_WINDOW). An address is counted whether or not anybody with it has tickets, so the
limit itself tells nothing about who is known.
"""

from __future__ import annotations

import hashlib

from django.conf import settings

from socdesk.core.counters import counter_add
from socdesk.core.errors import ServiceError


class RateLimited(ServiceError):
    """Too many requests for one address or from one client IP in the window."""

    code = "rate_limited"


def _key(kind: str, what: str, value: str) -> str:
    # Hashed: a typed address may hold characters a cache key cannot.
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"portal:{kind}:{what}:{digest}"


def limit_ip(kind: str, *, ip: str | None, per_ip: int) -> None:
    """Count one `kind` request (`sso`) from the client IP alone; RateLimited past `per_ip`."""
    window = settings.SOCDESK_PORTAL_LIMIT_WINDOW
    if counter_add(_key(kind, "ip", ip or "unknown"), 1, timeout=window) > per_ip:
        minutes = max(1, window // 60)
        raise RateLimited(f"Too many sign-ins from your network. Try again in {minutes} minutes.")


def limit_count(kind: str, *, address: str, ip: str | None, per_address: int, per_ip: int) -> None:
    """Count one `kind` request (`link`, `report`) for the address and the IP; RateLimited when either
    went over its limit (both are counted either way, so one cannot be used to spare the other)."""
    window = settings.SOCDESK_PORTAL_LIMIT_WINDOW
    by_address = counter_add(_key(kind, "address", address), 1, timeout=window)
    by_ip = counter_add(_key(kind, "ip", ip or "unknown"), 1, timeout=window)
    if by_address > per_address or by_ip > per_ip:
        minutes = max(1, window // 60)
        raise RateLimited(
            "Too many requests for this e-mail address or from your network. "
            f"Try again in {minutes} minutes.",
            fields={"email": "rate_limited"},
        )
