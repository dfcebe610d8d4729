"""A ticket's beginning and end: opening one (an agent, a requester, a key), opening a batch (alerts),
and deleting one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Contact, Department, Team
from socdesk.accounts.selectors import departments_with_perm
from socdesk.accounts.services import ContactWanted, contacts_get_or_create
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import audit_event, record, record_many
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.core.instances import unsaved
from socdesk.core.text import clean_json, clean_text
from socdesk.tickets import hooks
from socdesk.tickets.attachments import IncomingFile, check_files, store_files
from socdesk.tickets.choices import EntryKind, Severity, Source
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.observables import observables_link
from socdesk.tickets.search import NewTicket, search_index_new
from socdesk.tickets.services.numbering import (
    TICKET_NUMBER_COUNTER,
    TICKET_NUMBER_START,
    next_ticket_numbers,
)
from socdesk.tickets.services.steps import (
    check_assignment,
    lock_ticket,
    require_perm,
    ticket_label,
)
from socdesk.tickets.services.tags import normalise_tags, tag_objects


@dataclass
class TicketDraft:
    """One ticket to open: what `ticket_create` takes, as a value (`ticket_create_many` takes a list)."""

    actor: Actor
    subject: str
    department: Department
    body: str = ""
    body_format: str = "text"
    requester_email: str = ""
    requester_name: str = ""
    requester_phone: str = ""
    severity: str = Severity.MEDIUM
    source: str = Source.WEB
    assignee: Agent | None = None
    team: Team | None = None
    tags: Iterable[str] = ()
    due_at: datetime | None = None
    extra: dict[str, Any] | None = None
    attachments: list[IncomingFile] | None = None
    # Found in the subject and first message by the caller, before the write (tickets.observables).
    observables: Sequence[tuple[str, str]] = ()
    # The normalised alert a ticket is opened for (alert ingest), as a plain dict: what rules look at.
    alert: dict[str, Any] | None = None
    # Values of the help topic's custom form, by field name (checked by the routing app's hooks).
    custom_fields: dict[str, Any] = field(default_factory=dict)
    # The help topic chosen by the requester, agent or API client (routing's HelpTopic id), if any.
    help_topic: int | None = None
    # The department the caller chose, when a rule (a ticket filter) moved the draft to another one: the
    # opener's create permission is checked where they asked to open it, not where routing sent it.
    routed_from: Department | None = None
    # The integration or mailbox it came through ("integration:<id>", "mailbox:<id>"), if any.
    origin: str = ""
    # What the apps above tickets decided before the write, for their own after-create hooks
    # (e.g. the SLA plan or help topic a rule chose); tickets neither reads nor stores it.
    hints: dict[str, Any] = field(default_factory=dict)
    # The alert occurrences the ticket opens with (alert ingest counts them before the write): the
    # row goes in complete, rather than being updated straight after its insert.
    alert_occurrences: int = 0


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
    observables: Sequence[tuple[str, str]] = (),
    custom_fields: dict[str, Any] | None = None,
    help_topic: int | None = None,
    hints: dict[str, Any] | None = None,
) -> Ticket:
    """Open a ticket with its first thread entry (the requester's message or the agent's description)
    and the observables the caller found in them (`tickets.observables.observables_in_text`)."""
    draft = TicketDraft(
        actor=actor,
        subject=subject,
        department=department,
        body=body,
        body_format=body_format,
        requester_email=requester_email,
        requester_name=requester_name,
        requester_phone=requester_phone,
        severity=severity,
        source=source,
        assignee=assignee,
        team=team,
        tags=tags,
        due_at=due_at,
        extra=extra,
        attachments=attachments,
        observables=observables,
        custom_fields=dict(custom_fields or {}),
        help_topic=help_topic,
        hints=dict(hints or {}),
    )
    return ticket_create_many([draft])[0]


def ticket_create_many(
    drafts: list[TicketDraft],
    *,
    now: datetime | None = None,
    record: Callable[[list[AuditEvent]], None] = record_many,
    index: bool = True,
    first_entries: list[ThreadEntry | None] | None = None,
) -> list[Ticket]:
    """Open tickets, each with its first thread entry, in a few statements however many there are.

    The one way a ticket is opened: `ticket_create` is a batch of one; alert ingest and the osTicket
    API open their batches here. A refused draft (no subject, an unknown severity, no permission to
    open tickets in the department, an inactive assignee, a file over the limit) refuses the whole
    batch before anything is written. An agent (or an agent's personal token) needs the create
    permission in the department. `now`: the creation time (the alert engine's batch time, so the
    tickets' first lines and its own lines read in order); `record` receives the `ticket.created` events
    in draft order (the alert engine slots them between its own); runs in the caller's transaction.
    The tickets' search documents are written from what the opening holds, before the after-create
    hooks (a hook that adds to a ticket goes through a service, which rewrites its document);
    `index=False`: the caller writes them itself, once it has added to them (alert ingest, after the
    alerts and observables). `first_entries`: a list the tickets' first entries are added to, in draft
    order (None for a ticket opened without one).
    """
    if not drafts:
        return []
    hooks.run_before_create(drafts)
    ticket_drafts_check(drafts)
    requesters = _requesters(drafts)
    now = now or timezone.now()
    tag_names = [normalise_tags(draft.tags) for draft in drafts]
    with_entry = [bool(clean_text(draft.body or "") or draft.attachments) for draft in drafts]
    # Every id and number the batch needs, in one query where the database hands them out (PostgreSQL);
    # the audit events only when they are written here (the alert engine writes its own).
    reserve: dict[type[Model], int] = {
        Ticket: len(drafts),
        Ticket.tags.through: sum(len(names) for names in tag_names),
        ThreadEntry: sum(with_entry),
        AuditEvent: len(drafts) if record is record_many else 0,
    }
    with sql.reserved(reserve, {TICKET_NUMBER_COUNTER: (len(drafts), TICKET_NUMBER_START)}):
        tickets, entries = _create(drafts, requesters, tag_names, with_entry, now, record)
    if first_entries is not None:
        first_entries += entries
    if index:
        search_index_new(
            [
                NewTicket(ticket, entry, names, draft)
                for ticket, entry, names, draft in zip(tickets, entries, tag_names, drafts, strict=True)
            ]
        )
    hooks.run_after_create(tickets, drafts, now)
    return tickets


def _create(
    drafts: list[TicketDraft],
    requesters: list[Contact | None],
    tag_names: list[list[str]],
    with_entry: list[bool],
    now: datetime,
    record: Callable[[list[AuditEvent]], None],
) -> tuple[list[Ticket], list[ThreadEntry | None]]:
    tickets = [
        unsaved(
            Ticket,
            number=number,
            subject=clean_text(draft.subject or "").strip()[:255],
            severity=draft.severity,
            source=draft.source,
            department=draft.department,
            assignee=draft.assignee,
            team=draft.team,
            requester=requester,
            due_at=draft.due_at,
            extra=clean_json(draft.extra or {}),
            custom_fields=clean_json(draft.custom_fields or {}),
            created_at=now,
            last_activity_at=now,
            alert_occurrences=draft.alert_occurrences,
        )
        for draft, requester, number in zip(drafts, requesters, next_ticket_numbers(len(drafts)), strict=True)
    ]
    sql.insert_new(tickets)
    tags = {tag.name: tag for tag in tag_objects(sorted({n for names in tag_names for n in names}))}
    sql.insert_new(
        [
            Ticket.tags.through(ticket_id=ticket.pk, tag_id=tags[name].pk)
            for ticket, names in zip(tickets, tag_names, strict=True)
            for name in names
        ]
    )
    entries = [
        (_first_entry(ticket, draft, now), draft.attachments or [])
        for ticket, draft, entry in zip(tickets, drafts, with_entry, strict=True)
        if entry
    ]
    sql.insert_new([entry for entry, _ in entries])
    for entry, files in entries:
        if files:
            store_files(entry, files)
    record(
        [
            audit_event(
                actor=draft.actor,
                action="ticket.created",
                target=ticket,
                target_label=ticket_label(ticket),
                after=ticket.snapshot()
                | {"number": ticket.number, "source": ticket.source, "tags": names}
                | ({"requester": ticket.requester.email} if ticket.requester else {})
                | ({"custom_fields": ticket.custom_fields} if ticket.custom_fields else {})
                | {"version": ticket.version},
            )
            for ticket, draft, names in zip(tickets, drafts, tag_names, strict=True)
        ]
    )
    # Part of the opening (its ticket.created event covers them), so no event of their own.
    observables_link(
        [(ticket, draft.observables) for ticket, draft in zip(tickets, drafts, strict=True)],
        actor=None,
        now=now,
        fresh=True,
    )
    firsts = iter(entry for entry, _ in entries)
    return tickets, [next(firsts) if entry else None for entry in with_entry]


def ticket_drafts_check(drafts: list[TicketDraft]) -> None:
    """Refuse, naming the problem, a draft that cannot be opened as it is (`ticket_create_many` checks
    its batch first; a caller that batches requests checks each one before it joins a batch)."""
    severities, sources = set(Severity.values), set(Source.values)  # each `.values` builds a new list
    allowed: dict[int, list[int] | None] = {}
    for draft in drafts:
        errors = {}
        if not clean_text(draft.subject or "").strip():
            errors["subject"] = "A subject is required."
        if draft.severity not in severities:
            errors["severity"] = f"Severity must be one of: {', '.join(Severity.values)}."
        if draft.source not in sources:
            errors["source"] = f"Source must be one of: {', '.join(Source.values)}."
        if errors:
            raise ServiceError(" ".join(errors.values()), fields=errors)
        agent = draft.actor.agent
        if agent is not None:
            if agent.pk not in allowed:
                allowed[agent.pk] = departments_with_perm(agent, Perm.CREATE)
            permitted = allowed[agent.pk]
            chosen = draft.routed_from or draft.department
            if permitted is not None and chosen.pk not in permitted:
                raise PermissionDenied(f"You may not open tickets in {chosen.name}.")
        check_assignment(draft.department, draft.assignee, draft.team)
        check_files(draft.attachments or [])


def _requesters(drafts: list[TicketDraft]) -> list[Contact | None]:
    """Each draft's requester: known contacts read in one query, new ones created (and audited)."""
    emails = [clean_text(d.requester_email).strip().lower() for d in drafts]
    known = contacts_get_or_create(
        ContactWanted(draft.actor, email, draft.requester_name, draft.requester_phone)
        for draft, email in zip(drafts, emails, strict=True)
        if email
    )
    return [known[email] if email else None for email in emails]


def _first_entry(ticket: Ticket, draft: TicketDraft, now: datetime) -> ThreadEntry:
    """The requester's message, or the agent's (or tool's) description."""
    agent = draft.actor.agent
    from_requester = ticket.requester is not None and agent is None
    return unsaved(
        ThreadEntry,
        ticket=ticket,
        kind=EntryKind.MESSAGE if agent is None else EntryKind.NOTE,
        author_agent=agent,
        author_contact=ticket.requester if from_requester else None,
        author_label=(str(ticket.requester) if from_requester else draft.actor.label)[:200],
        body=clean_text(draft.body or ""),
        body_format=draft.body_format,
        created_at=now,
    )


@transaction.atomic
def ticket_delete(*, actor: Actor, ticket: Ticket) -> None:
    """Delete a ticket and its thread (the audit trail keeps the record that it existed)."""
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.DELETE, ticket)
    snapshot = ticket.snapshot() | {"number": ticket.number}
    label = ticket_label(ticket)
    pk = ticket.pk
    ticket.delete()
    hooks.run_figures_touched([pk])
    record(
        actor=actor,
        action="ticket.deleted",
        target_type="ticket",
        target_id=str(pk),
        target_label=label,
        before=snapshot,
    )
