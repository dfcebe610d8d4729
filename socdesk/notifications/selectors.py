"""Reads of an agent's notifications and preferences; only ever the agent's own, and only about
tickets they may still see (access taken away takes the notifications out of sight with it)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from socdesk.accounts.models import Agent
from socdesk.core.errors import NotFound
from socdesk.core.sql.values import column_fields
from socdesk.notifications.choices import DEFAULTS, Kind
from socdesk.notifications.models import Notification, NotificationEmail, NotificationPreference
from socdesk.tickets.selectors import visibility_q

# The bell shows "99+" beyond this: counting stops there, however many unread rows an agent has.
UNREAD_COUNT_CAP = 100
# Within a batch of tickets opened with one commit, who asked for a kind is read once (see
# `preferences_remembered`).
_asking: ContextVar[dict[str, set[int]] | None] = ContextVar("socdesk_agents_asking", default=None)


def notifications_for_agent(agent: Agent, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The agent's notifications, newest first, each with its ticket (one query per page)."""
    rows = Notification.objects.filter(recipient=agent).select_related("ticket")
    visible = visibility_q(agent, via="ticket__")
    if visible is not None:
        rows = rows.filter(visible)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def unread_count(agent: Agent) -> int:
    """How many unread notifications the agent has, counted up to UNREAD_COUNT_CAP."""
    # A count over a slice: the database stops reading at the cap.
    return notifications_for_agent(agent, unread_only=True).values("id")[:UNREAD_COUNT_CAP].count()


def notification_get_for_agent(agent: Agent, notification_id: int) -> Notification:
    """One of the agent's notifications; NotFound for anyone else's (never told apart from missing)."""
    found = notifications_for_agent(agent).filter(pk=notification_id).first()
    if found is None:
        raise NotFound(f"Notification {notification_id} was not found.")
    return found


def preferences_for(agent: Agent) -> dict[str, tuple[bool, bool]]:
    """{kind: (in the app, by email)} for every kind: the agent's choices over the defaults."""
    chosen = {p.kind: (p.in_app, p.email) for p in NotificationPreference.objects.filter(agent=agent)}
    return {kind: chosen.get(kind, DEFAULTS[kind]) for kind in Kind.values}


def preferences_of(agent_ids: set[int]) -> dict[tuple[int, str], tuple[bool, bool]]:
    """{(agent id, kind): (in the app, by email)} of the rows these agents saved (one query)."""
    rows = NotificationPreference.objects.filter(agent_id__in=agent_ids)
    return {(p.agent_id, p.kind): (p.in_app, p.email) for p in rows}


@contextmanager
def preferences_remembered() -> Iterator[None]:
    """Within the block, `agents_asking_for` reads each kind once: for a batch written with one commit
    (one ticket at a time each in its own savepoint), where a preference saved meanwhile counts from the
    next batch on, as it would had the batch's tickets been opened together."""
    token = _asking.set({})
    try:
        yield
    finally:
        _asking.reset(token)


def agents_asking_for(kind: str) -> set[int]:
    """Ids of the agents who turned on, in the app or by email, a kind that is off by default."""
    memo = _asking.get()
    if memo is not None and kind in memo:
        return set(memo[kind])
    # A plain statement: read for every batch of new tickets (every group of osTicket requests), and
    # the ORM's compilation of this filter cost many times its execution.
    with connection.cursor() as cursor:
        cursor.execute(_asking_sql(), [kind])
        asking = {agent_id for (agent_id,) in cursor.fetchall()}
    if memo is not None:
        memo[kind] = set(asking)
    return asking


@functools.cache
def _asking_sql() -> str:
    """Agents with a kind on, in the app or by email (the same SQL on both databases)."""
    meta, quote = NotificationPreference._meta, connection.ops.quote_name
    agent, kind, in_app, email = (
        quote(field.column) for field in column_fields(meta, ["agent", "kind", "in_app", "email"])
    )
    return f"SELECT {agent} FROM {quote(meta.db_table)} WHERE {kind} = %s AND ({in_app} OR {email})"


def unsent_email_ids(*, created_before: datetime, attempts_below: int, limit: int = 500) -> list[int]:
    """Messages still waiting (their task was lost or gave up), oldest first, for the sweep."""
    rows = NotificationEmail.objects.filter(
        sent_at=None, created_at__lt=created_before, attempts__lt=attempts_below
    ).order_by("created_at", "id")
    return list(rows.values_list("id", flat=True)[:limit])
