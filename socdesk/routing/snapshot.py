"""The routing configuration each process keeps in memory: one snapshot per configuration stamp.

Every ticket opened, on every channel, reads some of the routing configuration: the compiled ticket
filters, the custom fields of its form, the SLA plan of its help topic, of its department or the default
one (with the plan's schedule, targets and escalation levels), and whether its department or team
auto-assigns. That configuration changes a few times a day and is read on every batch, so each process
keeps what it has read in a `Snapshot`, built piece by piece on first use, and starts a new one when the
stamp moves.

The stamp is the one `RulesetVersion` row, read with one small statement per use (or once per unit of
work that pins it: a request's checks, a group or batch of tickets written together), so a change saved
by any process is seen by every other on its next ticket. It moves in the transaction of every write to a
routing configuration model: a `post_save` / `post_delete` signal for each (connected in apps.py, so
services, `socdesk config apply`, Django's admin and cascades are all covered), plus an explicit bump by
a service that writes with a bulk statement, which sends no signal. The stamp is a new random value each
time, never a counter alone, so a change that rolls back can never be mistaken for a later committed one.

Reading the stamp before the pieces keeps a snapshot from ever being newer-stamped than its contents: a
change committed in between moves the stamp again, and the next use starts afresh.

A unit of work whose outcome is checked again under a fresh stamp before anything is written may skip
the read (`held`): the osTicket API checks each request against the snapshot its process already holds,
and the request's group, which reads the stamp, checks again any request checked against another one. A
refusal decided on a held snapshot is confirmed (`confirmed`, one read) before it is answered or counted.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection
from django.db.models import F

from socdesk.routing.models import RulesetVersion

T = TypeVar("T")


class Stale(Exception):
    """A refusal was decided on a held snapshot whose stamp has moved since: check again (`pinned`)."""


class Snapshot:
    """What this process has read of the routing configuration at one stamp, by piece name."""

    def __init__(self, stamp: str, version: int):
        self.stamp, self.version = stamp, version
        self._pieces: dict[str, Any] = {}
        self._lock = threading.Lock()

    def piece(self, name: str, build: Callable[[], T]) -> T:
        """The piece called `name`, built by `build()` the first time it is asked for at this stamp."""
        try:
            return self._pieces[name]
        except KeyError:
            pass
        with self._lock:
            if name not in self._pieces:
                self._pieces[name] = build()
            return self._pieces[name]


_current: Snapshot | None = None
# The snapshot a thread has pinned for one unit of work (see `pinned`), if any, and whether it was
# pinned without reading the stamp (see `held`).
_pins = threading.local()


def _stamp() -> tuple[str, int]:
    table = RulesetVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT stamp, version FROM {table} WHERE id = 1")
        row = cursor.fetchone()
    return (row[0], int(row[1])) if row else ("", 0)


def current() -> Snapshot:
    """The snapshot of the configuration as it is now (one read of the stamp), or the one this thread
    has pinned for its unit of work (no read)."""
    global _current
    pin: Snapshot | None = getattr(_pins, "snapshot", None)
    if pin is not None:
        return pin
    stamp, version = _stamp()
    snapshot = _current
    if snapshot is None or snapshot.stamp != stamp:
        snapshot = _current = Snapshot(stamp, version)
    return snapshot


@contextmanager
def pinned() -> Iterator[Snapshot]:
    """Within this block this thread's `current()` is one snapshot, read once when the block starts.

    For one unit of work that consults the configuration at several steps (a request's checks before
    its write, one group or batch of tickets written together): each step would otherwise read the
    stamp again, and the unit is to follow one configuration anyway. A change committed meanwhile is
    seen by the next unit. Nested blocks keep the outer pin. Never span a configuration write (the
    pin would hide it from the writer's own later steps).
    """
    outer: Snapshot | None = getattr(_pins, "snapshot", None)
    if outer is not None:
        yield outer
        return
    _pins.snapshot, _pins.held = current(), False
    try:
        yield _pins.snapshot
    finally:
        _pins.snapshot = None


@contextmanager
def held() -> Iterator[Snapshot]:
    """Like `pinned`, but on the snapshot this process already holds, without reading the stamp (a
    process that holds none yet reads it).

    Only for checks that are made again under a freshly read stamp when this one turns out older (the
    osTicket API's group does): the stamp may have moved since the process last read it. A refusal
    decided within the block must be `confirmed` before it is answered or counted.
    """
    outer: Snapshot | None = getattr(_pins, "snapshot", None)
    if outer is not None:
        yield outer
        return
    snapshot = _current
    if snapshot is None:
        with pinned() as snapshot:
            yield snapshot
        return
    _pins.snapshot, _pins.held = snapshot, True
    try:
        yield snapshot
    finally:
        _pins.snapshot = None


def confirmed() -> bool:
    """Whether this thread's pinned snapshot is the configuration as it is now: always for one read by
    `pinned`; for one `held`, after one read of the stamp (which then counts as read)."""
    pin: Snapshot | None = getattr(_pins, "snapshot", None)
    if pin is None or not getattr(_pins, "held", False):
        return True
    if _stamp()[0] != pin.stamp:
        return False
    _pins.held = False
    return True


def configuration_changed(**_: Any) -> None:
    """Move the stamp: every process starts a new snapshot at its next use (inside the writing
    transaction, so a rollback takes the move back with the change). Also a signal receiver."""
    # A unit of work that changes the configuration reads it afresh from here on.
    _pins.snapshot = None
    stamp = uuid.uuid4().hex
    if RulesetVersion.objects.filter(pk=1).update(version=F("version") + 1, stamp=stamp):
        return
    _row, created = RulesetVersion.objects.get_or_create(pk=1, defaults={"version": 1, "stamp": stamp})
    if not created:  # another transaction made the row first
        RulesetVersion.objects.filter(pk=1).update(version=F("version") + 1, stamp=stamp)
