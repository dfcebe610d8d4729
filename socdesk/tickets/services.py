"""Every change to a ticket, whatever the channel (web, API, email, alert, job), goes through here.

Each service is keyword-only, runs in one transaction, locks the ticket row, checks the actor's
permission, writes, bumps `version` and `last_activity_at`, and records exactly one audit event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Contact, Department, Team
from socdesk.accounts.selectors import agent_can, departments_with_perm
from socdesk.accounts.services import contact_get_or_create
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import audit_event, record, record_many
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.core.models import next_counter_value
from socdesk.core.text import clean_json, clean_text
from socdesk.tickets.attachments import IncomingFile, check_files, store_files
from socdesk.tickets.choices import EntryKind, Resolution, Severity, Source, Status
from socdesk.tickets.history import stale_version_error
from socdesk.tickets.models import Tag, ThreadEntry, Ticket
from socdesk.tickets.workflow import transition_error

TICKET_NUMBER_COUNTER = "ticket_number"
TICKET_NUMBER_START = 1001


def next_ticket_number() -> str:
    """A new, never reused ticket number such as SOC-1042."""
    return (
        f"{settings.SOCDESK_TICKET_PREFIX}-{next_counter_value(TICKET_NUMBER_COUNTER, TICKET_NUMBER_START)}"
    )


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Lower-case, trimmed, de-duplicated tag names, in first-seen order."""
    seen: dict[str, None] = {}
    for tag in tags:
        name = clean_text(str(tag)).strip().lower()[:64]
        if name:
            seen.setdefault(name, None)
    return list(seen)


def _tag_objects(names: list[str]) -> list[Tag]:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [n for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    return [existing[n] for n in names]


# --- shared steps -----------------------------------------------------------------------------------


def _lock(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock so concurrent changes queue instead of overwriting."""
    return Ticket.objects.select_for_update().select_related("department").get(pk=ticket.pk)


def _require(actor: Actor, perm: str, ticket: Ticket) -> None:
    """Agents and their personal tokens need the permission; keys and jobs are checked upstream."""
    if actor.agent is None:
        return
    if not agent_can(actor.agent, Perm.VIEW, ticket):
        raise NotFound(f"Ticket {ticket.number} was not found.")
    if not agent_can(actor.agent, perm, ticket):
        raise PermissionDenied(
            f"You do not have the {Perm(perm).label.lower()} permission in {ticket.department.name}."
        )


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != ticket.version:
        raise stale_version_error(ticket, expected_version)


def _touch(ticket: Ticket, actor: Actor, now: datetime, *, acknowledges: bool = True) -> None:
    """Bump the version and activity time; the first agent action acknowledges the ticket."""
    ticket.version += 1
    ticket.last_activity_at = now
    if acknowledges and actor.agent is not None and ticket.acknowledged_at is None:
        ticket.acknowledged_at = now


def _event_entry(ticket: Ticket, actor: Actor, text: str, now: datetime) -> None:
    ThreadEntry.objects.create(
        ticket=ticket,
        kind=EntryKind.EVENT,
        author_agent=actor.agent,
        author_label=actor.label,
        body=text,
        created_at=now,
    )


def _record(actor: Actor, action: str, ticket: Ticket, before=None, after=None) -> None:
    after = dict(after or {})
    after["version"] = ticket.version
    record(
        actor=actor,
        action=action,
        target=ticket,
        target_label=f"{ticket.number} {ticket.subject}"[:200],
        before=before,
        after=after,
    )


# --- create -----------------------------------------------------------------------------------------


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
    extra: dict | None = None,
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
    _check_assignment(department, assignee, team)
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
        ticket.tags.set(_tag_objects(tag_names))
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
    _record(actor, "ticket.created", ticket, after=after)
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
    extra: dict = field(default_factory=dict)


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
    allowed: dict[int, set[int] | None] = {}
    for draft in drafts:
        if draft.severity not in severities or draft.source not in sources:
            raise ServiceError(f"Invalid severity {draft.severity!r} or source {draft.source!r}.")
        agent = draft.actor.agent
        if agent is not None:
            if agent.pk not in allowed:
                allowed[agent.pk] = departments_with_perm(agent, Perm.CREATE)
            if allowed[agent.pk] is not None and draft.department.pk not in allowed[agent.pk]:
                raise PermissionDenied(f"You may not open tickets in {draft.department.name}.")
        _check_assignment(draft.department, None, draft.team)
    now = timezone.now()
    numbers = sql.next_counter_values(TICKET_NUMBER_COUNTER, len(drafts), TICKET_NUMBER_START)
    prefix = settings.SOCDESK_TICKET_PREFIX
    tickets = [
        Ticket(
            number=f"{prefix}-{number}",
            subject=(clean_text(draft.subject).strip() or "Alert")[:255],
            severity=draft.severity,
            source=draft.source,
            department=draft.department,
            team=draft.team,
            extra=clean_json(draft.extra),
            created_at=now,
            last_activity_at=now,
        )
        for draft, number in zip(drafts, numbers, strict=True)
    ]
    sql.insert_new(tickets)
    tag_names = [normalise_tags(draft.tags) for draft in drafts]
    tags = {tag.name: tag for tag in _tag_objects(sorted({n for names in tag_names for n in names}))}
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
                target_label=f"{ticket.number} {ticket.subject}"[:200],
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


def _check_assignment(department: Department, agent: Agent | None, team: Team | None) -> None:
    if agent is not None and not agent.user.is_active:
        raise ServiceError(f"{agent.name} is not an active agent.", fields={"assignee": "inactive"})
    if team is not None and team.department_id not in (None, department.pk):
        raise ServiceError(
            f"The team {team.name} belongs to another department.", fields={"team": "other_department"}
        )


# --- thread -----------------------------------------------------------------------------------------


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
) -> ThreadEntry:
    body = clean_text(body or "").strip()
    files = attachments or []
    if not body and not files:
        raise ServiceError("The message is empty.", fields={"body": "required"})
    ticket = _lock(ticket)
    _require(actor, perm, ticket)
    _check_version(ticket, expected_version)
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
    _touch(ticket, actor, now)
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
    _record(
        actor,
        action,
        ticket,
        after={
            "entry": entry.pk,
            "chars": len(body),
            "attachments": [{"name": a.filename, "sha256": a.sha256} for a in stored],
        },
    )
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
) -> ThreadEntry:
    """Add an agent reply visible to the requester."""
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
) -> ThreadEntry:
    """Add an internal note, visible to agents only."""
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
    )


@transaction.atomic
def ticket_add_message(
    *, actor: Actor, ticket: Ticket, body: str, body_format: str = "text", attachments=None
) -> ThreadEntry:
    """Add a message from the requester (portal, email, API); reopens a resolved ticket."""
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
    )


# --- assignment -------------------------------------------------------------------------------------


@transaction.atomic
def ticket_assign(
    *,
    actor: Actor,
    ticket: Ticket,
    agent: Agent | None = None,
    team: Team | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Give the ticket to an agent and/or a team (None clears that side)."""
    ticket = _lock(ticket)
    _require(actor, Perm.ASSIGN, ticket)
    _check_version(ticket, expected_version)
    _check_assignment(ticket.department, agent, team)
    in_team = team is not None and agent is not None and team.members.filter(pk=agent.pk).exists()
    if agent is not None and not (agent.is_admin or ticket.department_id in _dept_ids(agent) or in_team):
        raise ServiceError(
            f"{agent.name} holds no role in {ticket.department.name}; "
            "grant one or transfer the ticket first.",
            fields={"assignee": "no_access"},
        )
    before = {"assignee": ticket.assignee_id, "team": ticket.team_id}
    if before == {"assignee": agent.pk if agent else None, "team": team.pk if team else None}:
        raise ServiceError("The ticket is already assigned that way.")
    now = timezone.now()
    ticket.assignee, ticket.team = agent, team
    _touch(ticket, actor, now)
    ticket.save(update_fields=["assignee", "team", "version", "last_activity_at", "acknowledged_at"])
    who = (
        ", ".join(filter(None, [agent.name if agent else "", f"team {team.name}" if team else ""]))
        or "nobody"
    )
    _event_entry(ticket, actor, f"{actor.label} assigned the ticket to {who}.", now)
    _record(
        actor,
        "ticket.assigned",
        ticket,
        before=before,
        after={"assignee": ticket.assignee_id, "team": ticket.team_id},
    )
    return ticket


def _dept_ids(agent: Agent) -> set[int]:
    return set(agent.accesses.values_list("department_id", flat=True))


@transaction.atomic
def ticket_claim(*, actor: Actor, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """The acting agent takes the ticket; a new ticket moves to in progress."""
    if actor.agent is None:
        raise ServiceError("Only an agent can claim a ticket.")
    ticket = _lock(ticket)
    _require(actor, Perm.VIEW, ticket)
    _check_version(ticket, expected_version)
    if ticket.assignee_id == actor.agent.pk:
        raise ServiceError("You already own this ticket.")
    if ticket.assignee_id is not None and not agent_can(actor.agent, Perm.ASSIGN, ticket):
        raise PermissionDenied(
            f"The ticket belongs to {ticket.assignee.name}; ask them or a lead to reassign it."
        )
    if not ticket.is_open:
        raise ServiceError("Reopen the ticket before claiming it.")
    before = {"assignee": ticket.assignee_id, "status": ticket.status}
    now = timezone.now()
    ticket.assignee = actor.agent
    if ticket.status == Status.NEW:
        ticket.status = Status.IN_PROGRESS
    _touch(ticket, actor, now)
    ticket.save(update_fields=["assignee", "status", "version", "last_activity_at", "acknowledged_at"])
    _event_entry(ticket, actor, f"{actor.label} claimed the ticket.", now)
    _record(
        actor,
        "ticket.claimed",
        ticket,
        before=before,
        after={"assignee": actor.agent.pk, "status": ticket.status},
    )
    return ticket


@transaction.atomic
def ticket_release(*, actor: Actor, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """Drop the ticket's assignee, putting it back in the unassigned queue."""
    ticket = _lock(ticket)
    _require(actor, Perm.VIEW, ticket)
    _check_version(ticket, expected_version)
    if ticket.assignee_id is None:
        raise ServiceError("The ticket is not assigned to anyone.")
    if (
        actor.agent is not None
        and ticket.assignee_id != actor.agent.pk
        and not agent_can(actor.agent, Perm.ASSIGN, ticket)
    ):
        raise PermissionDenied("Only the owner or an agent who may assign can release this ticket.")
    before = {"assignee": ticket.assignee_id}
    now = timezone.now()
    ticket.assignee = None
    _touch(ticket, actor, now)
    ticket.save(update_fields=["assignee", "version", "last_activity_at", "acknowledged_at"])
    _event_entry(ticket, actor, f"{actor.label} released the ticket.", now)
    _record(actor, "ticket.released", ticket, before=before, after={"assignee": None})
    return ticket


@transaction.atomic
def ticket_transfer(
    *, actor: Actor, ticket: Ticket, department: Department, expected_version: int | None = None
) -> Ticket:
    """Move the ticket to another department; assignee and team are cleared unless they still fit."""
    ticket = _lock(ticket)
    _require(actor, Perm.TRANSFER, ticket)
    _check_version(ticket, expected_version)
    if department.pk == ticket.department_id:
        raise ServiceError(f"The ticket is already in {department.name}.")
    before = {"department": ticket.department_id, "assignee": ticket.assignee_id, "team": ticket.team_id}
    old_name = ticket.department.name
    now = timezone.now()
    ticket.department = department
    if ticket.team and ticket.team.department_id not in (None, department.pk):
        ticket.team = None
    if ticket.assignee and not ticket.assignee.is_admin and department.pk not in _dept_ids(ticket.assignee):
        ticket.assignee = None
    _touch(ticket, actor, now)
    ticket.save(
        update_fields=["department", "team", "assignee", "version", "last_activity_at", "acknowledged_at"]
    )
    _event_entry(
        ticket, actor, f"{actor.label} transferred the ticket from {old_name} to {department.name}.", now
    )
    _record(
        actor,
        "ticket.transferred",
        ticket,
        before=before,
        after={"department": department.pk, "assignee": ticket.assignee_id, "team": ticket.team_id},
    )
    return ticket


# --- status, severity, tags, edit -------------------------------------------------------------------


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
    ticket = _lock(ticket)
    perm = Perm.CLOSE if status in (Status.RESOLVED, Status.CLOSED) else Perm.EDIT
    _require(actor, perm, ticket)
    _check_version(ticket, expected_version)
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
    _touch(ticket, actor, now)
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
    _event_entry(ticket, actor, text + (f": {comment.strip()}" if comment.strip() else "."), now)
    _record(
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
    ticket = _lock(ticket)
    _require(actor, Perm.EDIT, ticket)
    _check_version(ticket, expected_version)
    if ticket.severity == severity:
        raise ServiceError(f"The severity is already {Severity(severity).label.lower()}.")
    before = {"severity": ticket.severity}
    now = timezone.now()
    ticket.severity = severity
    _touch(ticket, actor, now)
    ticket.save(update_fields=["severity", "version", "last_activity_at", "acknowledged_at"])
    _event_entry(
        ticket,
        actor,
        f"{actor.label} changed the severity from {Severity(before['severity']).label} "
        f"to {Severity(severity).label}.",
        now,
    )
    _record(actor, "ticket.severity_changed", ticket, before=before, after={"severity": severity})
    return ticket


@transaction.atomic
def ticket_set_tags(
    *, actor: Actor, ticket: Ticket, tags: Iterable[str], expected_version: int | None = None
) -> Ticket:
    """Replace the ticket's tags."""
    ticket = _lock(ticket)
    _require(actor, Perm.EDIT, ticket)
    _check_version(ticket, expected_version)
    names = normalise_tags(tags)
    before = sorted(ticket.tags.values_list("name", flat=True))
    if sorted(names) == before:
        return ticket
    ticket.tags.set(_tag_objects(names))
    _touch(ticket, actor, timezone.now())
    ticket.save(update_fields=["version", "last_activity_at", "acknowledged_at"])
    _record(actor, "ticket.tagged", ticket, before={"tags": before}, after={"tags": sorted(names)})
    return ticket


@transaction.atomic
def ticket_edit(
    *,
    actor: Actor,
    ticket: Ticket,
    subject: str | None = None,
    due_at: datetime | type[...] | None = ...,
    expected_version: int | None = None,
) -> Ticket:
    """Change the subject and/or due date (pass due_at=None to clear it)."""
    ticket = _lock(ticket)
    _require(actor, Perm.EDIT, ticket)
    _check_version(ticket, expected_version)
    before, after = {}, {}
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
    _touch(ticket, actor, timezone.now())
    ticket.save(update_fields=["subject", "due_at", "version", "last_activity_at", "acknowledged_at"])
    _record(actor, "ticket.edited", ticket, before=before, after=after)
    return ticket


@transaction.atomic
def ticket_delete(*, actor: Actor, ticket: Ticket) -> None:
    """Delete a ticket and its thread (the audit trail keeps the record that it existed)."""
    ticket = _lock(ticket)
    _require(actor, Perm.DELETE, ticket)
    snapshot = ticket.snapshot() | {"number": ticket.number}
    label = f"{ticket.number} {ticket.subject}"[:200]
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


# --- machine activity -------------------------------------------------------------------------------


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
