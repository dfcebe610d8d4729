"""Pausing Python's cyclic garbage collector while a batch of deliveries is processed.

A batch allocates tens of thousands of objects that all live until it ends (payloads, alerts, rows,
instances, audit events). Every time allocations cross the collector's threshold it traverses them
again, and finds no garbage: none of it is garbage before the batch ends. Reference counting still
frees everything acyclic at once; the few reference cycles a batch leaves behind are collected by the
first collection after it. Only CPU changes, never what is written.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0  # blocks running now, in any thread (the collector is one per process)
_resume = False  # whether the collector was on when the first of them started


@contextmanager
def collection_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off; the last of overlapping blocks turns it back on
    (unless it was off before the first one started)."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()
