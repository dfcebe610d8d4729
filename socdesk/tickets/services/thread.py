"""The ticket's thread: agent replies and internal notes, requester messages, and machine event lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Contact
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_text
from socdesk.tickets.attachments import IncomingFile, check_files, store_files
from socdesk.tickets.choices import EntryKind, Status
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.observables import observables_link
from socdesk.tickets.search import search_index
from socdesk.tickets.services.steps import (
    check_version,
    lock_ticket,
    record_ticket_event,
    require_perm,
    touch,
)


def _add_entry(
    *,
    actor: Actor,
    ticket: Ticket,
    kind: str,
    body: str,
    body_format: str,
    attachments: list[IncomingFile] | None,
    perm: str,
    action: str,
    expected_version: int | None,
    observables: Sequence[tuple[str, str]] = (),
) -> ThreadEntry:
    body = clean_text(body or "").strip()
    files = attachments or []
    if not body and not files:
        raise ServiceError("The message is empty.", fields={"body": "required"})
    ticket = lock_ticket(ticket)
    require_perm(actor, perm, ticket)
    check_version(ticket, expected_version)
    check_files(files)
    now = timezone.now()
    entry = ThreadEntry.objects.create(
        ticket=ticket,
        kind=kind,
        author_agent=actor.agent,
        author_contact=actor.obj if isinstance(actor.obj, Contact) else None,
        author_label=actor.label,
        body=body,
        body_format=body_format,
        created_at=now,
    )
    stored = store_files(entry, files)
    search_index([ticket.pk])
    touch(ticket, actor, now)
    fields = ["version", "last_activity_at", "acknowledged_at"]
    if kind == EntryKind.REPLY and ticket.first_response_at is None:
        ticket.first_response_at = now
        fields.append("first_response_at")
    if kind in (EntryKind.REPLY, EntryKind.NOTE) and ticket.status == Status.NEW and actor.agent is not None:
        ticket.status = Status.IN_PROGRESS  # an agent working the ticket has started on it
        fields.append("status")
    if kind == EntryKind.MESSAGE and ticket.status in (Status.RESOLVED, Status.CLOSED):
        ticket.status = Status.IN_PROGRESS  # the requester wrote back: reopen
        ticket.resolution = ""
        fields += ["status", "resolution"]
    ticket.save(update_fields=fields)
    record_ticket_event(
        actor,
        action,
        ticket,
        after={
            "entry": entry.pk,
            "chars": len(body),
            "attachments": [{"name": a.filename, "sha256": a.sha256} for a in stored],
        },
    )
    # Found in this text at the author's request: audited as observables that author added.
    observables_link([(ticket, observables)], actor=actor, now=now)
    return entry


@transaction.atomic
def ticket_reply(
    *,
    actor: Actor,
    ticket: Ticket,
    body: str,
    body_format: str = "text",
    attachments: list[IncomingFile] | None = None,
    expected_version: int | None = None,
    observables: Sequence[tuple[str, str]] = (),
) -> ThreadEntry:
    """Add an agent reply visible to the requester (with the observables the agent asked to be found in
    it, `tickets.observables.observables_in_text`)."""
    return _add_entry(
        actor=actor,
        ticket=ticket,
        kind=EntryKind.REPLY,
        body=body,
        body_format=body_format,
        attachments=attachments,
        perm=Perm.REPLY,
        action="ticket.replied",
        expected_version=expected_version,
        observables=observables,
    )


@transaction.atomic
def ticket_note(
    *,
    actor: Actor,
    ticket: Ticket,
    body: str,
    body_format: str = "text",
    attachments: list[IncomingFile] | None = None,
    expected_version: int | None = None,
    observables: Sequence[tuple[str, str]] = (),
) -> ThreadEntry:
    """Add an internal note, visible to agents only (with the observables the agent asked to be found
    in it)."""
    return _add_entry(
        actor=actor,
        ticket=ticket,
        kind=EntryKind.NOTE,
        body=body,
        body_format=body_format,
        attachments=attachments,
        perm=Perm.REPLY,
        action="ticket.noted",
        expected_version=expected_version,
        observables=observables,
    )


@transaction.atomic
def ticket_add_message(
    *,
    actor: Actor,
    ticket: Ticket,
    body: str,
    body_format: str = "text",
    attachments: list[IncomingFile] | None = None,
    observables: Sequence[tuple[str, str]] = (),
) -> ThreadEntry:
    """Add a message from the requester (portal, email, API); reopens a resolved ticket (with the
    observables the channel found in it, e.g. an e-mail's)."""
    return _add_entry(
        actor=actor,
        ticket=ticket,
        kind=EntryKind.MESSAGE,
        body=body,
        body_format=body_format,
        attachments=attachments,
        perm=Perm.VIEW,
        action="ticket.message_added",
        expected_version=None,
        observables=observables,
    )


def ticket_event_lines_write(
    *, new: list[ThreadEntry], rewritten: list[ThreadEntry], tickets: list[Ticket], now: datetime
) -> None:
    """Write system event lines in bulk (an alert batch): new lines, lines rewritten in place (an
    alert's repeat count), and `now` as the activity time of `tickets`.

    It bumps no `version` (a repeating alert must not make an agent's open edit stale) and records no
    audit event: the caller records the domain events that explain the lines (`alert.deduplicated`...).
    Runs in the caller's transaction.
    """
    sql.insert_new(new)
    sql.bulk_set(rewritten, ["body"])
    if tickets:
        Ticket.objects.filter(pk__in={ticket.pk for ticket in tickets}).update(last_activity_at=now)
        for ticket in tickets:
            ticket.last_activity_at = now
