"""Work on a ticket that is not a change of its own fields (a task ticked by the cases app)."""

from __future__ import annotations

from datetime import datetime

from socdesk.tickets.models import Ticket


def ticket_activity_touch(*, ticket: Ticket, now: datetime) -> None:
    """Move the ticket's last activity to `now` (the queues' "last activity" sorts on it).

    Not a new version: the ticket's own fields did not change, so a colleague's open status or
    assignment form stays valid. The caller records its own audit event for what it did.
    """
    Ticket.objects.filter(pk=ticket.pk).update(last_activity_at=now)
    ticket.last_activity_at = now
