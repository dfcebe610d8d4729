"""Auto-close: resolved tickets close by themselves after their department's number of quiet days.

A ticket is due when it is resolved, its department sets `autoclose_resolved_days`, it was resolved at
least that many days ago, and the requester has not written since it was resolved (a requester's message
reopens a resolved ticket, and resolving it again restarts the clock; the check on messages makes the
rule hold even for a message that did not reopen it). Each ticket is closed through
`ticket_change_status` by the "system" actor, so it gets the same thread line, audit event and hooks as
a close by hand. Two workers running at once never close a ticket twice: each close locks the ticket
row and names the version the scan read, so the second finds the version moved and passes it by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from socdesk.accounts.models import Department
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.tickets.choices import EntryKind, Status
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services.fields import ticket_change_status

AUTO_CLOSE = Actor.system("auto-close")


@dataclass
class AutocloseReport:
    """What one pass did: the tickets it closed, and those another process changed first."""

    closed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def tickets_due_for_autoclose(now: datetime, limit: int = 500) -> list[Ticket]:
    """Resolved tickets whose department's quiet period has passed with no requester message since
    resolving, oldest resolution first (one query)."""
    departments = Department.objects.filter(autoclose_resolved_days__isnull=False)
    due = Q()
    for department_id, days in departments.values_list("pk", "autoclose_resolved_days"):
        if days:
            due |= Q(department_id=department_id, resolved_at__lte=now - timedelta(days=days))
    if not due:
        return []
    requester_wrote = ThreadEntry.objects.filter(
        ticket=OuterRef("pk"), kind=EntryKind.MESSAGE, created_at__gt=OuterRef("resolved_at")
    )
    return list(
        Ticket.objects.filter(due, status=Status.RESOLVED)
        .exclude(Exists(requester_wrote))
        .only("pk", "number", "version", "department_id", "resolved_at")
        .order_by("resolved_at", "pk")[:limit]
    )


def tickets_autoclose(*, now: datetime | None = None, limit: int = 500) -> AutocloseReport:
    """Close the resolved tickets that are due (at most `limit` per pass); safe to run twice at once.

    Each ticket closes in its own transaction, so one that cannot be closed (changed meanwhile) leaves
    the others closed; running it again closes nothing that is already closed.
    """
    now = now or timezone.now()
    report = AutocloseReport()
    for ticket in tickets_due_for_autoclose(now, limit):
        days = (now - ticket.resolved_at).days if ticket.resolved_at else 0
        try:
            ticket_change_status(
                actor=AUTO_CLOSE,
                ticket=ticket,
                status=Status.CLOSED,
                comment=f"closed automatically: resolved {days} days ago without a reply from the requester",
                expected_version=ticket.version,
            )
        except ServiceError:
            # Another worker closed it, or someone reopened or replied since the scan read it.
            report.skipped.append(ticket.number)
        else:
            report.closed.append(ticket.number)
    return report
