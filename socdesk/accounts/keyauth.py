"""API keys at the door of every machine-facing endpoint (REST v1, osTicket, TheHive, hooks): who is
calling (`authenticate_key`) and whether they may call again this minute (`check_rate_limit`).

Both `socdesk.api` and the webhook views in `socdesk.alerts` use this one module, so a key is checked
and counted the same way whichever door it knocks on.

Call `check_rate_limit(key)` right after authenticate_key and outside any transaction (on PostgreSQL
the counter row stays locked until the surrounding transaction ends); turn `RateLimited` into a 429
with `Retry-After` (`rate_limited_response(exc)` gives the house JSON shape). The limit is a fixed
one-minute window per key, counted in Django's cache so that every web process on every machine
shares one count (Redis in production, the database cache in the embedded default).

Counting every request in the shared cache cost a cache transaction per request (or per group of
concurrent ones). So with a limit of 200 or more a process reserves a block of the window's count
at a time (1% of the limit) and admits requests from it in memory: every admitted request holds
one of the shared counter's slots up to the limit, so the limit is never exceeded across processes,
and a request may be refused while other processes still hold unused slots of their blocks (at most
one block each; docs/api-keys.md). Smaller limits, and requests inside a caller's transaction, are
counted one by one as before; the requests a process counts at the same moment share one addition
to their key's counter.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from socdesk.accounts.models import ApiKey
from socdesk.accounts.services import hash_api_key, split_api_key
from socdesk.core.actor import Actor, client_ip
from socdesk.core.counters import counter_add
from socdesk.core.grouping import GroupRunner
from socdesk.core.json_errors import error_response
from socdesk.core.recent import RecentLookups

# last_used_at is refreshed at most this often, so a busy integration does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
WINDOW_SECONDS = 60  # the rate limit's window

_recent_keys: RecentLookups[ApiKey | None] = RecentLookups()


@receiver([post_save, post_delete], sender=ApiKey, dispatch_uid="socdesk-forget-api-keys")
def _forget_keys(**_kwargs) -> None:
    _recent_keys.forget_after_change()


class ApiAuthError(Exception):
    """Authentication failed. `status` is 401 (no valid key) or 403 (valid key, missing scope)."""

    def __init__(self, message: str, status: int = 401, code: str = "unauthorized"):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def key_from_request(request: HttpRequest) -> str:
    """The key sent as `X-API-Key: KEY` or `Authorization: Bearer KEY` ('' when none)."""
    # Read from META, where request.headers would read them: building request.headers turns every
    # header of the request into a dict first, on every webhook.
    key = request.META.get("HTTP_X_API_KEY", "").strip()
    if key:
        return key
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def authenticate_key(request: HttpRequest, raw_key: str, *, scope: str | None) -> tuple[ApiKey, Actor]:
    """Check a key (exists, not revoked or expired, caller's IP allowed, scope granted).

    `scope=None` accepts any valid key whatever its scopes (e.g. an agent managing their own tokens).

    Every failure to prove the key is a 401 with the same message, so a caller learns nothing about
    which keys exist; a valid key without the scope is a 403 that names the scope.
    """
    ip = client_ip(request)
    prefix = split_api_key(raw_key or "")
    # Only keys of no agent are remembered: an agent's personal token must stop working the moment
    # the agent is deactivated, and those tokens carry a person's scripts, not an alert flood.
    key = _recent_keys.get(prefix, lambda: _load_key(prefix), keep=_no_agent) if prefix else None
    now = timezone.now()
    if (
        key is None
        or not hmac.compare_digest(key.key_hash, hash_api_key(raw_key))
        or key.revoked_at is not None
        or (key.expires_at is not None and key.expires_at <= now)
        or (key.agent is not None and not key.agent.user.is_active)
        or not ip_allowed(key, ip)
    ):
        raise ApiAuthError("Valid API key required")
    if scope is not None and scope not in key.scopes and "admin" not in key.scopes:
        raise ApiAuthError(f"This API key lacks the {scope} scope.", status=403, code="forbidden")
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip)
        key.last_used_at, key.last_used_ip = now, ip  # the remembered copy too, so it writes once a minute
    return key, Actor.for_api_key(key, ip=ip)


def _no_agent(key: ApiKey | None) -> bool:
    # Unknown keys are not remembered either: random guesses must not crowd the real keys out.
    return key is not None and key.agent_id is None


def _load_key(prefix: str) -> ApiKey | None:
    return ApiKey.objects.select_related("agent__user").filter(prefix=prefix).first()


def ip_allowed(key: ApiKey, ip: str | None) -> bool:
    """True when the key has no allow-list or the IP is inside one of its CIDR ranges."""
    if not key.allowed_cidrs:
        return True
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in key.allowed_cidrs)


# --- rate limit --------------------------------------------------------------------------------------


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
    name = f"socdesk:ratelimit:{key.prefix}:{window}"
    block = limit // RESERVE_SHARE
    if transaction.get_connection().in_atomic_block:
        # Inside a caller's transaction the counter is this connection's to lock, alone (and the
        # process-wide reservation lock is never waited for while holding a counter row's lock).
        admitted = _count_many([name])[0] <= limit
    elif block > 1:
        admitted = _allowance.admit(name, window, limit, block)
    else:
        admitted = _counts.submit(name) <= limit
    if not admitted:
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        raise RateLimited(limit, retry_after)


def _count_many(names: list[str]) -> list[int]:
    """Count one request per name, one addition per counter: each request gets the count it would
    have got alone (the counts in between are those the same additions one by one return)."""
    totals: dict[str, int] = {}
    for name in names:
        totals[name] = totals.get(name, 0) + 1
    reached = {name: counter_add(name, n, timeout=WINDOW_SECONDS * 2) - n for name, n in totals.items()}
    counts = []
    for name in names:
        reached[name] += 1
        counts.append(reached[name])
    return counts


# Requests of one process that are counted at the same moment share one addition per key (group
# commit, socdesk.core.grouping): a burst of one integration costs one counter update, not one each.
_counts: GroupRunner[str, int] = GroupRunner(_count_many)

RESERVE_SHARE = 100  # a process reserves 1/RESERVE_SHARE of the limit at a time (when that is > 1)


class RateAllowance:
    """One process's reserved slots of the shared per-key counters, admitted from memory.

    `admit` takes a slot of the process's current block for the counter `name`; when there is none
    left it reserves the next block with one addition of `block` to the shared counter. Of a block,
    only the slots at or below `limit` are admitted; a counter that reached the limit stays full for
    its window (slots are never given back), so the process refuses from memory from then on.
    """

    MAX_ENTRIES = 4096  # counters of one window (keys in use); a bound against misuse

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the two dicts below
        # Held while a block is reserved, so that the threads of a process reserve one block at a
        # time and the others take their slots from it.
        self._reserving = threading.Lock()
        self._left: dict[tuple[str, int], int] = {}  # (counter name, limit) -> slots still free
        self._full: dict[tuple[str, int], int] = {}  # (counter name, limit) -> window, for full ones

    def admit(self, name: str, window: int, limit: int, block: int) -> bool:
        """True when a slot of `name` is this request's; False when the window's limit is reached."""
        # The limit is part of the key: after a settings change, slots reserved under another limit
        # are not used (the shared counter still holds them, so the new limit counts them).
        slot = (name, limit)
        taken = self._take(slot)
        if taken is not None:
            return taken
        with self._reserving:
            taken = self._take(slot)  # another thread may have reserved a block meanwhile
            if taken is not None:
                return taken
            total = counter_add(name, block, timeout=WINDOW_SECONDS * 2)
            granted = max(0, min(block, limit - (total - block)))
            with self._lock:
                if len(self._left) + len(self._full) >= self.MAX_ENTRIES:
                    self._forget_other_windows(window)
                if total >= limit:
                    self._full[slot] = window
                if granted > 1:
                    self._left[slot] = granted - 1
            return granted > 0

    def _take(self, slot: tuple[str, int]) -> bool | None:
        """True (a slot taken), False (the window is full) or None (a block must be reserved)."""
        with self._lock:
            left = self._left.get(slot, 0)
            if left > 0:
                if left == 1:
                    del self._left[slot]
                else:
                    self._left[slot] = left - 1
                return True
            return False if slot in self._full else None

    def _forget_other_windows(self, window: int) -> None:
        suffix = f":{window}"
        self._left = {slot: n for slot, n in self._left.items() if slot[0].endswith(suffix)}
        self._full = {slot: w for slot, w in self._full.items() if w == window}
        if len(self._left) + len(self._full) >= self.MAX_ENTRIES:
            self.forget()

    def forget(self) -> None:
        """Drop every reserved slot (the shared counters keep them: only this process loses them)."""
        with self._lock:
            self._left, self._full = {}, {}


_allowance = RateAllowance()


def rate_limited_response(exc: RateLimited) -> JsonResponse:
    """The 429 in the house JSON error shape, for JSON API surfaces (REST v1, TheHive, hooks)."""
    return error_response(429, "rate_limited", exc.message, headers={"Retry-After": str(exc.retry_after)})
