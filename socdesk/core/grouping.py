"""Group commit: concurrent callers in one process share one run of a batch operation.

Under load the commits, not the statements, are what the database spends its time on. So the first
caller to arrive runs the operation for itself and for every caller that queued while the previous
run was in flight, in one go (one transaction, one commit), and hands the next group to the caller
at its head. Each caller returns only once its own item is done. If a group's run fails, its items
are run again one by one, so one bad item fails only its own caller.

Callers may announce themselves early (`with runner.arriving(): ...; runner.submit(value)`): a
request counts as arriving from when it starts its own preparation (parsing, checks) until it
submits. A leader about to run waits, briefly and at most `max_wait` seconds, for the callers known
to be arriving, so they join its group instead of paying for a group of their own; when none is
arriving (a lone call) it runs at once, as before. The leader's wait costs no CPU: it is the time
the arriving callers spend on their own preparation.

A runner made with `wait_for_returning=True` also expects the callers it has just served: under a
steady load of N clients, each client sends its next request as soon as it has its answer, so groups
would otherwise settle into two halves taking turns (one running while the other forms). Its leader
waits, within the same `max_wait`, until its group holds as many callers as were inside `arriving`
at once since the previous group started (counted again for every group, so the target follows the
load down as fast as up). A lone caller still runs at once: it is the only one ever inside.

Used for webhook deliveries (socdesk.alerts.ingest.group_commit) and tickets opened through the
osTicket API (socdesk.api.osticket).
"""

from __future__ import annotations

import threading
import time
from _thread import LockType
from _thread import allocate_lock as _allocate_lock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Pending(Generic[T, R]):
    __slots__ = ("error", "leads", "ready", "result", "value")

    def __init__(self, value: T) -> None:
        self.value, self.leads = value, False
        # A caller that waits holds a plain lock, released once: when it is handed the lead or when
        # its run is done. An Event (a Condition and two locks, in Python) cost more per request.
        self.ready: LockType | None = None
        self.result: R | None = None
        self.error: BaseException | None = None


class GroupRunner(Generic[T, R]):
    """At most one run of `run_many` in flight per process; what queued behind it goes in the next.

    `run_many(items)` returns one result per item, in order, or raises for the whole group.
    """

    def __init__(
        self,
        run_many: Callable[[list[T]], list[R]],
        *,
        max_group: int = 64,
        max_wait: float = 0.005,
        wait_for_returning: bool = False,
    ) -> None:
        self.run_many = run_many
        self.max_group = max_group
        self.max_wait = max_wait
        self.wait_for_returning = wait_for_returning
        self._inside = 0  # callers within `arriving` (preparing, queued or in a run)
        self._peak = 0  # the most that were inside at once since the current group started
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # the leader waits on it for arriving callers
        self._queue: list[_Pending[T, R]] = []
        self._running = False
        self._arriving = 0
        # The group size a waiting leader expects (None: no leader is waiting). Callers wake it only
        # when its group is complete, not at every arrival: one wake-up per group.
        self._awaited: int | None = None
        self._local = threading.local()

    @contextmanager
    def arriving(self) -> Iterator[None]:
        """Count the calling thread as on its way to `submit` until it submits or leaves the block."""
        with self._lock:
            self._arriving += 1
            self._inside += 1
            if self._inside > self._peak:
                self._peak = self._inside
        self._local.arriving = True
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if self._local.arriving:  # left without submitting (refused, failed)
                    self._local.arriving = False
                    self._arriving -= 1
                    self._wake_leader_if_complete()

    def submit(self, value: T) -> R:
        """Run `value` with whatever else is queued; returns its result or raises its error."""
        item: _Pending[T, R] = _Pending(value)
        local = self._local
        announced = getattr(local, "arriving", False)
        local.arriving = False
        with self._lock:
            if self._running:
                item.ready = ready = _allocate_lock()
                ready.acquire()
            else:
                self._running = item.leads = True
            self._queue.append(item)
            if announced:
                self._arriving -= 1
            if self._awaited is not None:
                self._wake_leader_if_complete()
        if not item.leads:
            item.ready.acquire()  # type: ignore[union-attr]  # run by a leader, or handed the lead
        if item.leads:
            self._run_group(item)
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[return-value]  # set by the group's run when no error

    def _forming(self, expected: int) -> bool:
        """Whether a group awaiting `expected` callers should wait on (called under the lock)."""
        queued = len(self._queue)
        return queued < self.max_group and (self._arriving > 0 or queued < expected)

    def _wake_leader_if_complete(self) -> None:
        if self._awaited is not None and not self._forming(self._awaited):
            self._awaited = None
            self._arrived.notify()

    def _run_group(self, leader: _Pending[T, R]) -> None:
        with self._lock:
            expected = min(self._peak, self.max_group) if self.wait_for_returning else 0
            self._peak = self._inside  # the next group's target is counted from here
            if self._forming(expected):
                deadline = time.monotonic() + self.max_wait
                while self._forming(expected):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._awaited = expected
                    self._arrived.wait(remaining)
                self._awaited = None
            group, self._queue = self._queue[: self.max_group], self._queue[self.max_group :]
        done: set[int] = set()
        try:
            try:
                results = self.run_many([item.value for item in group])
                for item, result in zip(group, results, strict=True):
                    item.result = result
                done = {id(item) for item in group}
            except Exception:
                for item in group:  # one bad item must fail only its own caller
                    try:
                        item.result = self.run_many([item.value])[0]
                    except Exception as exc:
                        item.error = exc
                    done.add(id(item))
        finally:
            with self._lock:
                if self._queue:
                    head = self._queue[0]
                    head.leads = True
                    head.ready.release()  # type: ignore[union-attr]  # queued behind a run: it waits
                else:
                    self._running = False
            for item in group:
                if id(item) not in done and item.error is None:  # interrupted before it was run
                    item.error = RuntimeError("The request was interrupted before it was stored.")
                if item is not leader:
                    item.leads = False
                    item.ready.release()  # type: ignore[union-attr]  # queued behind a run: it waits
