"""Who else is looking at (or typing on) a ticket right now, kept in the shared cache.

Each open ticket page sends a heartbeat every ~15 seconds; an agent counts as present for
SOCDESK_PRESENCE_SECONDS after their last one. The cache is shared by all web processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from socdesk.accounts.models import Agent


@dataclass(frozen=True)
class Presence:
    """Another agent on the same ticket."""

    agent_id: int
    name: str
    composing: bool


def _key(ticket_pk: int) -> str:
    return f"presence:ticket:{ticket_pk}"


def presence_touch(ticket_pk: int, agent: Agent, *, composing: bool = False) -> list[Presence]:
    """Mark the agent as present on the ticket and return the other agents present, by name."""
    seconds = settings.SOCDESK_PRESENCE_SECONDS
    now = time.time()
    # Read-modify-write without a lock: a lost update only hides someone until their next heartbeat.
    entries = {k: v for k, v in (cache.get(_key(ticket_pk)) or {}).items() if v["until"] > now}
    entries[str(agent.pk)] = {"name": agent.name, "composing": composing, "until": now + seconds}
    cache.set(_key(ticket_pk), entries, timeout=seconds)
    return [
        Presence(agent_id=int(k), name=v["name"], composing=v["composing"])
        for k, v in sorted(entries.items(), key=lambda kv: kv[1]["name"])
        if k != str(agent.pk)
    ]


def presence_leave(ticket_pk: int, agent: Agent) -> None:
    """Forget the agent on this ticket (page closed)."""
    entries = cache.get(_key(ticket_pk)) or {}
    if entries.pop(str(agent.pk), None) is not None:
        cache.set(_key(ticket_pk), entries, timeout=settings.SOCDESK_PRESENCE_SECONDS)
