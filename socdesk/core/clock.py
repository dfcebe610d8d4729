"""The time at which changes are recorded: the real clock, or a replayed moment while history is re-enacted.

`socdesk demo` plays a month of work forward through the real services in a few seconds. Inside
`recording_at(moment)` the audit trail stamps its events at that moment, so each demo ticket's history
agrees with its thread. Nothing else sets it: every request, task and command records the real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_replayed: ContextVar[datetime | None] = ContextVar("socdesk_replayed_moment", default=None)


def now() -> datetime:
    """The moment a change is recorded at: the replayed one inside `recording_at`, else the real time."""
    return _replayed.get() or timezone.now()


@contextmanager
def recording_at(moment: datetime) -> Iterator[None]:
    """Record what happens inside the block as having happened at `moment` (the demo's replay only)."""
    token = _replayed.set(moment)
    try:
        yield
    finally:
        _replayed.reset(token)
