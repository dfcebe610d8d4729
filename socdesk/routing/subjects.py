"""What the ticket filters look at for a ticket that already exists (the dry run of the filter editor).

The builder for a new ticket's draft is `subject_for_draft` (routing/apply.py); this one reads a stored
ticket. Observables and the ticket's alert live in the alerts app, above routing, so the caller passes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from socdesk.routing.vocabulary import MatchSubject
from socdesk.tickets.choices import EntryKind
from socdesk.tickets.models import Ticket


def subject_for_ticket(
    ticket: Ticket,
    *,
    observables: Iterable[tuple[str, str]] = (),
    alert: Mapping[str, Any] | None = None,
    channel_id: int | None = None,
    custom_fields: Mapping[str, Any] | None = None,
    help_topic: str = "",
) -> MatchSubject:
    """The subject for a stored ticket: its requester, subject, first message, severity, channel, tags.

    `received_at` is the ticket's creation time, so time-of-day and weekday conditions see the moment the
    ticket arrived, as they did (or would have) when it was opened. Three queries at most: requester (when
    not selected with the ticket), tags and the first message.
    """
    requester = ticket.requester
    # The first entry is the requester's message, or the description the agent or tool opened it with.
    first = (
        ticket.entries.exclude(kind=EntryKind.EVENT)
        .order_by("created_at", "id")
        .values_list("body", flat=True)
    )[:1]
    return MatchSubject(
        channel=ticket.source,
        channel_id=channel_id,
        received_at=ticket.created_at,
        requester_name=requester.name if requester is not None else "",
        requester_email=requester.email if requester is not None else "",
        subject=ticket.subject,
        body=next(iter(first), ""),
        severity=ticket.severity,
        source=ticket.source,
        help_topic=help_topic,
        tags=tuple(sorted(tag.name for tag in ticket.tags.all())),  # prefetched by the ticket selectors
        custom_fields=dict(custom_fields or {}),
        alert=dict(alert) if alert is not None else None,
        observables=tuple((str(kind), str(value)) for kind, value in observables),
    )
