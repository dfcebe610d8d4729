"""Group commit: concurrent callers in one process share one run of a batch operation.

Under load the commits, not the statements, are what the database spends its time on. So the first
caller to arrive runs the operation for itself and for every caller that queued while the previous
run was in flight, in one go (one transaction, one commit), and hands the next group to the caller
at its head. Nobody waits for a timer, so a lone call costs what it always did; each caller returns
only once its own item is done. If a group's run fails, its items are run again one by one, so one
bad item fails only its own caller.

Used for webhook deliveries (socdesk.alerts.ingest.group_commit) and tickets opened through the
osTicket API (socdesk.api.osticket).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Pending(Generic[T, R]):
    __slots__ = ("error", "leads", "ready", "result", "value")

    def __init__(self, value: T) -> None:
        self.value, self.ready, self.leads = value, threading.Event(), False
        self.result: R | None = None
        self.error: BaseException | None = None


class GroupRunner(Generic[T, R]):
    """At most one run of `run_many` in flight per process; what queued behind it goes in the next.

    `run_many(items)` returns one result per item, in order, or raises for the whole group.
    """

    def __init__(self, run_many: Callable[[list[T]], list[R]], *, max_group: int = 64) -> None:
        self.run_many = run_many
        self.max_group = max_group
        self._lock = threading.Lock()
        self._queue: list[_Pending[T, R]] = []
        self._running = False

    def submit(self, value: T) -> R:
        """Run `value` with whatever else is queued; returns its result or raises its error."""
        item: _Pending[T, R] = _Pending(value)
        with self._lock:
            self._queue.append(item)
            if not self._running:
                self._running = item.leads = True
        if not item.leads:
            item.ready.wait()  # run by a leader, or handed the lead
        if item.leads:
            self._run_group()
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[return-value]  # set by the group's run when no error

    def _run_group(self) -> None:
        with self._lock:
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
                    head.ready.set()
                else:
                    self._running = False
            for item in group:
                if id(item) not in done and item.error is None:  # interrupted before it was run
                    item.error = RuntimeError("The request was interrupted before it was stored.")
                item.leads = False
                item.ready.set()
