"""A ticket's beginning and end: opening one (an agent, a requester, a key), opening a batch (alerts),
and deleting one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Contact, Department, Team
from socdesk.accounts.selectors import departments_with_perm
from socdesk.accounts.services import contact_get_or_create
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import audit_event, record, record_many
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.core.text import clean_json, clean_text
from socdesk.tickets.attachments import IncomingFile, check_files, store_files
from socdesk.tickets.choices import EntryKind, Severity, Source
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services.numbering import next_ticket_number, next_ticket_numbers
from socdesk.tickets.services.steps import (
    check_assignment,
    lock_ticket,
    record_ticket_event,
    require_perm,
    ticket_label,
)
from socdesk.tickets.services.tags import normalise_tags, tag_objects


@transaction.atomic
def ticket_create(
    *,
    actor: Actor,
    subject: str,
    department: Department,
    body: str = "",
    body_format: str = "text",
    requester_email: str = "",
    requester_name: str = "",
    requester_phone: str = "",
    severity: str = Severity.MEDIUM,
    source: str = Source.WEB,
    assignee: Agent | None = None,
    team: Team | None = None,
    tags: Iterable[str] = (),
    due_at: datetime | None = None,
    extra: dict[str, Any] | None = None,
    attachments: list[IncomingFile] | None = None,
) -> Ticket:
    """Open a ticket with its first thread entry (the requester's message or the agent's description)."""
    subject = clean_text(subject or "").strip()
    body = clean_text(body or "")
    requester_name, requester_phone = clean_text(requester_name), clean_text(requester_phone)
    extra = clean_json(extra or {})
    errors = {}
    if not subject:
        errors["subject"] = "A subject is required."
    if severity not in Severity.values:
        errors["severity"] = f"Severity must be one of: {', '.join(Severity.values)}."
    if source not in Source.values:
        errors["source"] = f"Source must be one of: {', '.join(Source.values)}."
    if errors:
        raise ServiceError(" ".join(errors.values()), fields=errors)
    if actor.agent is not None:
        allowed = departments_with_perm(actor.agent, Perm.CREATE)
        if allowed is not None and department.pk not in allowed:
            raise PermissionDenied(f"You may not open tickets in {department.name}.")
    check_assignment(department, assignee, team)
    files = attachments or []
    check_files(files)

    requester: Contact | None = None
    if requester_email:
        requester = contact_get_or_create(
            actor=actor, email=requester_email, name=requester_name, phone=requester_phone
        )
    now = timezone.now()
    ticket = Ticket.objects.create(
        number=next_ticket_number(),
        subject=subject[:255],
        severity=severity,
        source=source,
        department=department,
        assignee=assignee,
        team=team,
        requester=requester,
        due_at=due_at,
        extra=extra,
        created_at=now,
        last_activity_at=now,
    )
    tag_names = normalise_tags(tags)
    if tag_names:
        ticket.tags.set(tag_objects(tag_names))
    if body or files:
        from_requester = requester is not None and actor.agent is None
        entry = ThreadEntry.objects.create(
            ticket=ticket,
            kind=EntryKind.MESSAGE if actor.agent is None else EntryKind.NOTE,
            author_agent=actor.agent,
            author_contact=requester if from_requester else None,
            author_label=(str(requester) if from_requester else actor.label)[:200],
            body=body,
            body_format=body_format,
            created_at=now,
        )
        store_files(entry, files)
    after = ticket.snapshot() | {"number": ticket.number, "source": source, "tags": tag_names}
    if requester:
        after["requester"] = requester.email
    record_ticket_event(actor, "ticket.created", ticket, after=after)
    return ticket


@dataclass
class TicketDraft:
    """What `ticket_create_many` needs for one ticket opened by a machine (an alert, a job)."""

    actor: Actor
    subject: str
    department: Department
    body: str
    severity: str
    source: str
    team: Team | None = None
    tags: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def ticket_create_many(
    drafts: list[TicketDraft], *, record: Callable[[list[AuditEvent]], None] = record_many
) -> list[Ticket]:
    """Open many tickets in a few statements (a batch of alerts): the same rows and audit events as
    `ticket_create` for each, with no requester, assignee or attachments.

    An agent's draft (a personal API token) needs the agent's create permission in the department, as
    with `ticket_create`. `record` receives the `ticket.created` events in draft order (the alert
    engine slots them between its own events); runs in the caller's transaction.
    """
    if not drafts:
        return []
    severities, sources = set(Severity.values), set(Source.values)  # each `.values` builds a new list
    allowed: dict[int, list[int] | None] = {}
    for draft in drafts:
        if draft.severity not in severities or draft.source not in sources:
            raise ServiceError(f"Invalid severity {draft.severity!r} or source {draft.source!r}.")
        agent = draft.actor.agent
        if agent is not None:
            if agent.pk not in allowed:
                allowed[agent.pk] = departments_with_perm(agent, Perm.CREATE)
            permitted = allowed[agent.pk]
            if permitted is not None and draft.department.pk not in permitted:
                raise PermissionDenied(f"You may not open tickets in {draft.department.name}.")
        check_assignment(draft.department, None, draft.team)
    now = timezone.now()
    tickets = [
        Ticket(
            number=number,
            subject=(clean_text(draft.subject).strip() or "Alert")[:255],
            severity=draft.severity,
            source=draft.source,
            department=draft.department,
            team=draft.team,
            extra=clean_json(draft.extra),
            created_at=now,
            last_activity_at=now,
        )
        for draft, number in zip(drafts, next_ticket_numbers(len(drafts)), strict=True)
    ]
    sql.insert_new(tickets)
    tag_names = [normalise_tags(draft.tags) for draft in drafts]
    tags = {tag.name: tag for tag in tag_objects(sorted({n for names in tag_names for n in names}))}
    sql.insert_new(
        [
            Ticket.tags.through(ticket_id=ticket.pk, tag_id=tags[name].pk)
            for ticket, names in zip(tickets, tag_names, strict=True)
            for name in names
        ]
    )
    sql.insert_new(
        [
            ThreadEntry(
                ticket=ticket,
                kind=EntryKind.MESSAGE if draft.actor.agent is None else EntryKind.NOTE,
                author_agent=draft.actor.agent,
                author_label=draft.actor.label[:200],
                body=clean_text(draft.body),
                created_at=now,
            )
            for ticket, draft in zip(tickets, drafts, strict=True)
            if draft.body
        ]
    )
    record(
        [
            audit_event(
                actor=draft.actor,
                action="ticket.created",
                target=ticket,
                target_label=ticket_label(ticket),
                after=ticket.snapshot()
                | {
                    "number": ticket.number,
                    "source": ticket.source,
                    "tags": names,
                    "version": ticket.version,
                },
            )
            for ticket, draft, names in zip(tickets, drafts, tag_names, strict=True)
        ]
    )
    return tickets


@transaction.atomic
def ticket_delete(*, actor: Actor, ticket: Ticket) -> None:
    """Delete a ticket and its thread (the audit trail keeps the record that it existed)."""
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.DELETE, ticket)
    snapshot = ticket.snapshot() | {"number": ticket.number}
    label = ticket_label(ticket)
    pk = ticket.pk
    ticket.delete()
    record(
        actor=actor,
        action="ticket.deleted",
        target_type="ticket",
        target_id=str(pk),
        target_label=label,
        before=snapshot,
    )
