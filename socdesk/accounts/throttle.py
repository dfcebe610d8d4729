"""Failed sign-in throttling: atomic counters in the cache, reserved before the password is checked.

Three counters, each over a fixed window (SOCDESK_LOGIN_FAILURE_WINDOW, from the first failure):

- per (username, address): SOCDESK_LOGIN_FAILURE_LIMIT, small — someone guessing one account;
- per address: SOCDESK_LOGIN_IP_FAILURE_LIMIT — one address trying many usernames (password spraying);
- per username: SOCDESK_LOGIN_USERNAME_FAILURE_LIMIT, much higher — guessing one account from many
  addresses. It is high so that nobody can lock `admin` out from everywhere with a handful of tries.

Each attempt first *reserves* one count on all three (an atomic add in the shared cache), and only an
attempt that stayed within every limit gets its password checked. So 40 simultaneous wrong passwords
are 40 atomic additions, and no more than the limit of them ever reach the (slow) password hash. A
correct password gives its reservation back and starts a new (username, address) count; a wrong one
keeps it.

The (username, address) count is never deleted: a success moves that pair to a new *generation* (a
fresh counter key) and leaves the old counter to expire. Deleting it would let attempts refused just
before the success give their reservations back to the restarted counter, each one a free password
check. The cache is shared by every web process (database cache by default, Redis when configured),
so the limits hold across workers and machines.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from socdesk.core.counters import counter_add


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


def _hashed(username: str) -> str:
    # Hashed so that odd characters in a typed username can never make an invalid cache key.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _generation_key(user: str, address: str) -> str:
    return f"login-fail:pair-generation:{user}:{address}"


def _counters(username: str, ip: str | None) -> list[tuple[str, int]]:
    """(cache key, limit) of each counter an attempt counts against; the pair's counter first."""
    user = _hashed(username)
    address = ip or "unknown"
    generation = cache.get(_generation_key(user, address), "0")
    return [
        (f"login-fail:pair:{user}:{address}:{generation}", settings.LOGIN_FAILURE_LIMIT),
        (f"login-fail:ip:{address}", settings.LOGIN_IP_FAILURE_LIMIT),
        (f"login-fail:user:{user}", settings.LOGIN_USERNAME_FAILURE_LIMIT),
    ]


@dataclass
class Reservation:
    """One sign-in attempt counted in advance; tell it how the password check went."""

    keys: list[str]
    generation_key: str
    lockout: Lockout | None = None

    def succeeded(self) -> None:
        """Signed in: give the address's and username's counts back, and start this pair's next
        generation so its earlier failures no longer count (the old counter just expires)."""
        self._release(self.keys[1:])
        cache.set(self.generation_key, uuid.uuid4().hex, timeout=settings.LOGIN_FAILURE_WINDOW)

    def withdrawn(self) -> None:
        """Not a failure, not (yet) a sign-in (a right password before the second step): give the
        counts back and keep the earlier failures."""
        self._release(self.keys)

    def failed(self) -> None:
        """A wrong password: the reserved counts stay."""

    def _release(self, keys: list[str]) -> None:
        window = settings.LOGIN_FAILURE_WINDOW
        for key in keys:
            # Never below zero: a counter that expired meanwhile has nothing to give back, and one
            # recreated at -1 would hand a later guess a free check. Dropped then (the next try restarts it).
            if counter_add(key, -1, timeout=window) < 0:
                cache.delete(key)


def login_attempt(username: str, ip: str | None) -> Reservation:
    """Reserve one attempt for the username from this address, before the password is checked.

    Over any limit, the reservation comes back already released with its `lockout` set: the password
    must not be checked. The window's remaining time is not known to the counter, so Retry-After is
    the whole window (an upper bound).
    """
    window = settings.LOGIN_FAILURE_WINDOW
    counters = _counters(username, ip)
    reservation = Reservation(
        keys=[key for key, _limit in counters],
        generation_key=_generation_key(_hashed(username), ip or "unknown"),
    )
    over = False
    for key, limit in counters:
        if counter_add(key, 1, timeout=window) > limit:
            over = True
    if over:
        reservation._release(reservation.keys)
        reservation.lockout = Lockout(retry_after=window)
    return reservation
