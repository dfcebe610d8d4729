"""A ticket's own fields, one change at a time: status (through the state machine), severity, subject
and due date."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import EllipsisType
from typing import Any

from django.db import transaction
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_json, clean_text
from socdesk.tickets import hooks
from socdesk.tickets.choices import Resolution, Severity, Status
from socdesk.tickets.models import Ticket
from socdesk.tickets.search import search_index
from socdesk.tickets.services.steps import (
    add_event_entry,
    check_version,
    lock_ticket,
    record_ticket_event,
    require_perm,
    touch,
)
from socdesk.tickets.workflow import transition_error


@transaction.atomic
def ticket_change_status(
    *,
    actor: Actor,
    ticket: Ticket,
    status: str,
    resolution: str = "",
    comment: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """Move the ticket through the state machine; resolving needs a resolution."""
    comment = clean_text(comment or "")
    if status not in Status.values:
        raise ServiceError(f"Unknown status {status!r}.", fields={"status": "invalid"})
    ticket = lock_ticket(ticket)
    perm = Perm.CLOSE if status in (Status.RESOLVED, Status.CLOSED) else Perm.EDIT
    require_perm(actor, perm, ticket)
    check_version(ticket, expected_version)
    problem = transition_error(ticket.status, status)
    if problem:
        raise ServiceError(problem, fields={"status": "transition"})
    if status == Status.RESOLVED:
        if resolution not in Resolution.values:
            raise ServiceError(
                "Choose a resolution (true positive, benign positive, false positive, duplicate or not "
                "applicable) to resolve the ticket.",
                fields={"resolution": "required"},
            )
    elif resolution and status != Status.CLOSED:
        raise ServiceError("A resolution is only set when resolving.", fields={"resolution": "unexpected"})
    if status in (Status.RESOLVED, Status.CLOSED):
        # Apps above tickets may refuse (the cases app: a playbook's required tasks still open).
        hooks.run_before_resolve(ticket, status)
    before = {"status": ticket.status, "resolution": ticket.resolution}
    now = timezone.now()
    ticket.status = status
    if status == Status.RESOLVED:
        ticket.resolution = resolution
        ticket.resolved_at = now
    elif status == Status.CLOSED:
        ticket.closed_at = now
    elif status == Status.IN_PROGRESS and before["status"] in (Status.RESOLVED, Status.CLOSED):
        ticket.resolution = ""
        ticket.resolved_at = ticket.closed_at = None
    touch(ticket, actor, now)
    ticket.save(
        update_fields=[
            "status",
            "resolution",
            "resolved_at",
            "closed_at",
            "version",
            "last_activity_at",
            "acknowledged_at",
        ]
    )
    text = f"{actor.label} changed the status from {Status(before['status']).label} to {Status(status).label}"
    if status == Status.RESOLVED:
        text += f" ({Resolution(resolution).label.lower()})"
    add_event_entry(ticket, actor, text + (f": {comment.strip()}" if comment.strip() else "."), now)
    record_ticket_event(
        actor,
        "ticket.status_changed",
        ticket,
        before=before,
        after={"status": status, "resolution": ticket.resolution, "comment": comment.strip()},
    )
    return ticket


@transaction.atomic
def ticket_change_severity(
    *, actor: Actor, ticket: Ticket, severity: str, expected_version: int | None = None
) -> Ticket:
    """Raise or lower the ticket's severity."""
    if severity not in Severity.values:
        raise ServiceError(
            f"Severity must be one of: {', '.join(Severity.values)}.", fields={"severity": "invalid"}
        )
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.EDIT, ticket)
    check_version(ticket, expected_version)
    if ticket.severity == severity:
        raise ServiceError(f"The severity is already {Severity(severity).label.lower()}.")
    before = {"severity": ticket.severity}
    now = timezone.now()
    ticket.severity = severity
    touch(ticket, actor, now)
    ticket.save(update_fields=["severity", "version", "last_activity_at", "acknowledged_at"])
    add_event_entry(
        ticket,
        actor,
        f"{actor.label} changed the severity from {Severity(before['severity']).label} "
        f"to {Severity(severity).label}.",
        now,
    )
    record_ticket_event(actor, "ticket.severity_changed", ticket, before=before, after={"severity": severity})
    return ticket


@transaction.atomic
def ticket_edit(
    *,
    actor: Actor,
    ticket: Ticket,
    subject: str | None = None,
    due_at: datetime | EllipsisType | None = ...,
    expected_version: int | None = None,
) -> Ticket:
    """Change the subject and/or due date (pass due_at=None to clear it)."""
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.EDIT, ticket)
    check_version(ticket, expected_version)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if subject is not None:
        subject = clean_text(subject).strip()
        if not subject:
            raise ServiceError("A subject is required.", fields={"subject": "required"})
        if subject != ticket.subject:
            before["subject"], after["subject"] = ticket.subject, subject[:255]
            ticket.subject = subject[:255]
    if due_at is not ... and due_at != ticket.due_at:
        before["due_at"] = ticket.due_at.isoformat() if ticket.due_at else None
        after["due_at"] = due_at.isoformat() if due_at else None
        ticket.due_at = due_at
    if not after:
        raise ServiceError("Nothing to change.")
    touch(ticket, actor, timezone.now())
    ticket.save(update_fields=["subject", "due_at", "version", "last_activity_at", "acknowledged_at"])
    if "subject" in after:
        search_index([ticket.pk])
    record_ticket_event(actor, "ticket.edited", ticket, before=before, after=after)
    return ticket


@transaction.atomic
def ticket_store_custom_values(
    *,
    actor: Actor,
    ticket: Ticket,
    changes: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Store custom field values already checked by the app that owns the forms (None removes one).

    Tickets knows nothing of forms: the routing app's `ticket_set_custom_fields` checks the values
    against the ticket's form and calls this. `labels` name the fields in the thread line.
    """
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.EDIT, ticket)
    check_version(ticket, expected_version)
    current = dict(ticket.custom_fields or {})
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        old = current.get(name)
        if value is None:
            if name in current:
                before[name], after[name] = old, None
                del current[name]
        elif old != value:
            before[name], after[name] = old, value
            current[name] = value
    if not after:
        raise ServiceError("Nothing to change: the custom fields already hold these values.")
    now = timezone.now()
    ticket.custom_fields = clean_json(current)
    touch(ticket, actor, now)
    ticket.save(update_fields=["custom_fields", "version", "last_activity_at", "acknowledged_at"])
    names = ", ".join((labels or {}).get(name, name) for name in after)
    add_event_entry(ticket, actor, f"{actor.label} changed the custom field(s) {names}.", now)
    search_index([ticket.pk])
    record_ticket_event(
        actor,
        "ticket.custom_fields_changed",
        ticket,
        before={"custom_fields": before},
        after={"custom_fields": after},
    )
    return ticket
