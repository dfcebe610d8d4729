"""Helpers for the notification tests: who was told what."""

from __future__ import annotations

from socdesk.core.actor import Actor
from socdesk.notifications.models import Notification


def told(agent, kind: str | None = None) -> list[Notification]:
    """The agent's notifications (of one kind), oldest first."""
    rows = Notification.objects.filter(recipient=agent).order_by("id")
    return list(rows.filter(kind=kind) if kind else rows)


def requester(contact) -> Actor:
    """A requester writing back (portal, email, API), as those channels build the actor."""
    return Actor(kind="user", label=str(contact), ident=str(contact.pk), obj=contact)
