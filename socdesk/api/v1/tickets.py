"""Tickets and their threads: list (shared TicketFilter + cursor), get, create, update, thread, files."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated

from django.db import transaction
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Path, Query, Router
from ninja import Status as Reply
from pydantic import Field

from socdesk.accounts.models import Agent, Department, Team
from socdesk.alerts.selectors import alert_counts, observables_for_ticket_api
from socdesk.api.v1.pagination import page
from socdesk.api.v1.schemas import (
    MAX_DB_INT,
    DbId,
    ErrorOut,
    QueryParams,
    ThreadOut,
    ThreadPostIn,
    ThreadPostOut,
    TicketCreateIn,
    TicketDetailOut,
    TicketPage,
    TicketPatchIn,
)
from socdesk.api.v1.security import Caller, requires
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.mail.outbound import reply_email_outcome
from socdesk.routing.models import HelpTopic
from socdesk.routing.selectors import ticket_topic
from socdesk.routing.services.ticket_fields import ticket_set_custom_fields, ticket_set_help_topic
from socdesk.routing.sla_display import ticket_sla_api
from socdesk.tickets import services
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.choices import Resolution, Severity, Source, Status
from socdesk.tickets.filters import TicketFilter
from socdesk.tickets.models import Collaborator, ThreadEntry, Ticket
from socdesk.tickets.observables import observables_in_text
from socdesk.tickets.selectors import attachment_get_from, ticket_collaborators, ticket_thread
from socdesk.tickets.sorting import KEYSET_SORTS

router = Router(tags=["tickets"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 429: ErrorOut}
LIST_MAX = 200
# Keyset pagination needs sort keys that are plain, never-NULL fields; the other sorts are console-only.
API_SORTS = list(KEYSET_SORTS)


# --- output -----------------------------------------------------------------------------------------


def ticket_out(ticket: Ticket, alert_count: int = 0) -> dict:
    """The API's view of a ticket (related rows must be loaded: see ticket_get_from / _list_qs)."""
    assignee, team, requester = ticket.assignee, ticket.team, ticket.requester
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "resolution": ticket.resolution,
        "severity": ticket.severity,
        "source": ticket.source,
        "department": {
            "id": ticket.department_id,
            "name": ticket.department.name,
            "slug": ticket.department.slug,
        },
        "assignee": assignee
        and {"id": assignee.pk, "username": assignee.user.get_username(), "name": assignee.name},
        "team": team and {"id": team.pk, "name": team.name},
        "requester": requester and {"email": requester.email, "name": requester.name},
        "tags": sorted(tag.name for tag in ticket.tags.all()),
        "due_at": ticket.due_at,
        "created_at": ticket.created_at,
        "acknowledged_at": ticket.acknowledged_at,
        "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "last_activity_at": ticket.last_activity_at,
        "version": ticket.version,
        "alert_count": alert_count,
        "custom_fields": ticket.custom_fields or {},
        "sla": ticket_sla_api(ticket),
        "url": reverse("api-v1:ticket_get", kwargs={"number": ticket.number}),
    }


def ticket_detail_out(ticket: Ticket) -> dict:
    topic = ticket_topic(ticket.pk)
    return ticket_out(ticket, alert_counts([ticket.pk]).get(ticket.pk, 0)) | {
        "observables": observables_for_ticket_api(ticket),
        "help_topic": topic and {"id": topic.pk, "name": topic.name},
        "collaborators": [collaborator_out(c) for c in ticket_collaborators(ticket)],
    }


def collaborator_out(collaborator: Collaborator) -> dict:
    """The API's view of one collaborator (its contact loaded: see ticket_collaborators)."""
    return {
        "email": collaborator.contact.email,
        "name": collaborator.contact.name,
        "source": collaborator.source,
        "added_by": collaborator.added_by,
        "added_at": collaborator.added_at,
    }


def entry_out(entry: ThreadEntry) -> dict:
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "author": entry.author_label,
        "author_agent": entry.author_agent.user.get_username() if entry.author_agent else None,
        "body": entry.body,
        "body_format": entry.body_format,
        "created_at": entry.created_at,
        "attachments": [
            {
                "id": a.pk,
                "filename": a.filename,
                "size": a.size,
                "content_type": a.content_type,
                "sha256": a.sha256,
                "download_url": reverse("api-v1:attachment_download", kwargs={"attachment_id": a.pk}),
            }
            for a in entry.attachments.all()
        ],
    }


# --- input helpers ----------------------------------------------------------------------------------


def _department(value: int | str, field: str = "department") -> Department:
    qs = Department.objects.all()
    found = qs.filter(pk=value).first() if isinstance(value, int) else qs.filter(slug=value.strip()).first()
    if found is None and isinstance(value, str):
        found = qs.filter(name__iexact=value.strip()).first()
    if found is None:
        raise ServiceError(
            f"There is no department {value!r}; give its id or slug.", fields={field: "unknown"}
        )
    return found


def _agent(value: int | str) -> Agent:
    qs = Agent.objects.select_related("user")
    if isinstance(value, int):
        found = qs.filter(pk=value).first()
    else:
        found = qs.filter(user__username__iexact=value.strip()).first()
    if found is None:
        raise ServiceError(
            f"There is no agent {value!r}; give their id or username.", fields={"assignee": "unknown"}
        )
    return found


def _team(value: int | str) -> Team:
    qs = Team.objects.all()
    found = (
        qs.filter(pk=value).first()
        if isinstance(value, int)
        else qs.filter(name__iexact=value.strip()).first()
    )
    if found is None:
        raise ServiceError(f"There is no team {value!r}; give its id or name.", fields={"team": "unknown"})
    return found


def _help_topic(value: int) -> HelpTopic:
    found = HelpTopic.objects.select_related("department").filter(pk=value).first()
    if found is None:
        raise ServiceError(
            f"There is no help topic with id {value}; pick an existing one.", fields={"help_topic": "unknown"}
        )
    return found


def _files(items) -> list[IncomingFile]:
    files = []
    for index, item in enumerate(items):
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ServiceError(
                f"Attachment {item.name!r} is not valid base64; encode the file's bytes with the "
                "standard base64 alphabet.",
                fields={f"attachments.{index}.content_base64": "invalid"},
            ) from None
        files.append(IncomingFile(name=item.name, content=content))
    return files


def _aware(value: datetime | None) -> datetime | None:
    """Datetimes without a time zone are taken as UTC."""
    if value is not None and timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    return value


def _reload(pk: int) -> Ticket:
    """The ticket just written by this caller, with what the output needs loaded."""
    return (
        Ticket.objects.select_related("department", "assignee__user", "team", "requester", "sla")
        .prefetch_related("tags")
        .get(pk=pk)
    )


# --- endpoints --------------------------------------------------------------------------------------


class TicketFilterParams(QueryParams):
    """The console's queue query string (the list and the export take it)."""

    queue: str = Field(
        "all", description="mine, unassigned, open, resolved, closed, all, at_risk or overdue (SLA)."
    )
    status: list[Status] = Field(default_factory=list)
    severity: list[Severity] = Field(default_factory=list)
    source: list[Source] = Field(default_factory=list)
    department: list[DbId] = Field(default_factory=list, description="Department ids.")
    assignee: list[Annotated[int, Field(ge=0, le=MAX_DB_INT)]] = Field(
        default_factory=list, description="Agent ids; 0 means unassigned."
    )
    team: list[DbId] = Field(default_factory=list, description="Team ids.")
    help_topic: list[Annotated[int, Field(ge=0, le=MAX_DB_INT)]] = Field(
        default_factory=list, description="Help topic ids; 0 means on no help topic."
    )
    tag: list[str] = Field(default_factory=list, description="Tickets carrying all of these tags.")
    created_from: str | None = Field(None, description="A date such as 2026-11-27 (inclusive).")
    created_to: str | None = Field(None, description="A date such as 2026-11-27 (inclusive).")
    acknowledged_from: str | None = Field(
        None, description="Acknowledged on or after this date (2026-11-27)."
    )
    acknowledged_to: str | None = Field(None, description="Acknowledged on or before this date (inclusive).")
    resolved_from: str | None = Field(None, description="Resolved on or after this date (2026-11-27).")
    resolved_to: str | None = Field(None, description="Resolved on or before this date (inclusive).")
    zone: str | None = Field(
        None, description="The time zone of the *_from/*_to dates (default: the installation's), e.g. UTC."
    )
    resolution: list[Resolution] = Field(default_factory=list)
    origin: list[str] = Field(
        default_factory=list,
        description="Where tickets came from: a channel (web, email, api, phone, other) or, for alert "
        "tickets, the security tool of their first alert (elastic, wazuh, ...).",
    )
    rule: list[str] = Field(
        default_factory=list, description="Alert tickets whose first alert has this rule."
    )
    q: str | None = Field(
        None,
        description="A search as in the console: words anywhere in the ticket (number, subject, thread, "
        'requester, tags, alerts, observables), "a phrase", -word, and fields such as ip:10.0.0.5, '
        "hash:, domain:, host:, user:, status:, severity:, assignee:, tag:, source:, topic: "
        "(docs/search.md).",
    )
    observable: str | None = Field(
        None,
        description="Tickets carrying this observable: its id, or <type>:<value> such as ip:203.0.113.7.",
    )
    sort: str = Field("activity", description="activity, -activity, created, -created, number or -number.")


class TicketListParams(TicketFilterParams):
    """The queue's filters, plus cursor and limit."""

    cursor: str | None = None
    limit: int = Field(50, ge=1, le=LIST_MAX)


@router.get(
    "/tickets",
    response={200: TicketPage} | ERRORS,
    auth=requires("tickets:read"),
    url_name="ticket_list",
    summary="List tickets",
)
def ticket_list(request, params: Query[TicketListParams]):
    """Tickets the caller may see, filtered like the console's queues, newest activity first.

    Scope: tickets:read. Page with `next` → `?cursor=`.
    """
    caller: Caller = request.auth
    ticket_filter = TicketFilter.from_querydict(request.GET, default_queue="all", rank_by_default=False)
    errors = dict(ticket_filter.errors)
    sort = request.GET.get("sort") or "activity"
    if sort not in API_SORTS:  # the console's other sorts (severity, names...) cannot be paged by cursor
        errors["sort"] = f"Unknown sort {sort!r}; use one of: {', '.join(API_SORTS)}."
    if ticket_filter.queue == "mine" and caller.agent is None:
        errors["queue"] = "The mine queue needs an agent: use a personal token or filter by assignee."
    if errors:
        raise ServiceError("Check the filters: " + " ".join(errors.values()), fields=errors)
    qs = ticket_filter.apply(caller.visible_tickets(), caller.agent)
    qs = qs.select_related("department", "assignee__user", "team", "requester", "sla").prefetch_related(
        "tags"
    )
    order = KEYSET_SORTS[ticket_filter.sort]
    if order[-1].lstrip("-") != "id":  # the keyset needs a unique last key
        order = (*order, "-id")
    rows, next_cursor = page(
        qs.order_by(*order),
        order,
        limit=params.limit,
        cursor=params.cursor,
        kind=f"tickets:{ticket_filter.sort}",
    )
    counts = alert_counts([t.pk for t in rows])
    return {"items": [ticket_out(t, counts.get(t.pk, 0)) for t in rows], "next": next_cursor}


@router.get(
    "/tickets/{number}",
    response={200: TicketDetailOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="ticket_get",
    summary="Get a ticket",
)
def ticket_get(request, number: str):
    """One ticket with its alert count and observables. Scope: tickets:read; 404 if not visible to you."""
    return ticket_detail_out(request.auth.get_ticket(number))


@router.post(
    "/tickets",
    response={201: TicketDetailOut} | ERRORS,
    auth=requires("tickets:create"),
    url_name="ticket_create",
    summary="Open a ticket",
)
def ticket_create(request, payload: TicketCreateIn):
    """Open a ticket (source `api` unless given). Scope: tickets:create."""
    caller: Caller = request.auth
    key_department = getattr(caller.key, "department_id", None) if caller.agent is None else None
    topic = _help_topic(payload.help_topic) if payload.help_topic is not None else None
    hints = {}
    if payload.department is not None:
        department = _department(payload.department)
        if key_department and department.pk != key_department:
            raise PermissionDenied("This API key may only open tickets in its own department.")
    elif key_department:
        department = Department.objects.get(pk=key_department)
    elif topic is not None and topic.department is not None:
        # No department named: the help topic's (routing's hook applies it).
        department, hints = topic.department, {"department_default": True}
    else:
        raise ServiceError(
            "Say which department the ticket is for (its id or slug).", fields={"department": "required"}
        )
    requester = payload.requester
    ticket = services.ticket_create(
        actor=caller.actor,
        subject=payload.subject,
        department=department,
        body=payload.body,
        requester_email=requester.email if requester else "",
        requester_name=requester.name if requester else "",
        requester_phone=requester.phone if requester else "",
        severity=payload.severity,
        source=payload.source,
        assignee=_agent(payload.assignee) if payload.assignee is not None else None,
        team=_team(payload.team) if payload.team is not None else None,
        tags=payload.tags,
        due_at=_aware(payload.due_at),
        attachments=_files(payload.attachments),
        observables=observables_in_text(payload.subject, payload.body),
        help_topic=topic.pk if topic is not None else None,
        custom_fields=payload.custom_fields,
        hints=hints,
    )
    return Reply(201, ticket_detail_out(_reload(ticket.pk)))


@router.patch(
    "/tickets/{number}",
    response={200: TicketDetailOut, 409: ErrorOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_update",
    summary="Change a ticket",
)
def ticket_update(request, number: str, payload: TicketPatchIn):
    """Apply the sent changes, each through its service, all or nothing; a stale version is a 409.

    Scope: tickets:write.
    """
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    with transaction.atomic():  # the field changes and the custom fields: all or nothing
        ticket = services.ticket_update(
            actor=caller.actor,
            ticket=ticket,
            changes=_changes(payload),
            expected_version=payload.version,
        )
        # The version was checked above, before any change of this request. The topic first: the values
        # are checked against the form of the topic the ticket ends up on.
        if "help_topic" in payload.model_fields_set:
            topic = _help_topic(payload.help_topic) if payload.help_topic is not None else None
            current = ticket_topic(ticket.pk)
            if (current.pk if current else None) != (topic.pk if topic else None):
                ticket = ticket_set_help_topic(actor=caller.actor, ticket=ticket, topic=topic)
        if payload.custom_fields:
            ticket = ticket_set_custom_fields(actor=caller.actor, ticket=ticket, values=payload.custom_fields)
    return ticket_detail_out(_reload(ticket.pk))


def _changes(payload: TicketPatchIn) -> services.TicketChanges:
    """The fields sent, with their references resolved (a bad one is refused before anything is written)."""
    sent = payload.model_fields_set
    changes = {
        name: getattr(payload, name)
        for name in ("subject", "status", "resolution", "comment", "severity", "tags", "reason")
        if getattr(payload, name) is not None
    }
    if payload.department is not None:
        changes["department"] = _department(payload.department)
    if "assignee" in sent:
        changes["assignee"] = _agent(payload.assignee) if payload.assignee is not None else None
    if "team" in sent:
        changes["team"] = _team(payload.team) if payload.team is not None else None
    if "due_at" in sent:
        changes["due_at"] = _aware(payload.due_at)
    return services.TicketChanges(**changes)


@router.get(
    "/tickets/{number}/thread",
    response={200: ThreadOut} | ERRORS,
    auth=requires("tickets:read"),
    url_name="ticket_thread",
    summary="Read a ticket's thread",
)
def thread_list(request, number: str):
    """Messages, replies, internal notes and events in order, with attachments. Scope: tickets:read."""
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    entries = ticket_thread(ticket, include_internal=caller.sees_internal_notes())
    return {"items": [entry_out(e) for e in entries]}


@router.post(
    "/tickets/{number}/thread",
    response={201: ThreadPostOut, 409: ErrorOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_thread_post",
    summary="Reply or add an internal note",
)
def thread_post(request, number: str, payload: ThreadPostIn):
    """Add a reply (seen by the requester) or an internal note. Scope: tickets:write."""
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    add = services.ticket_reply if payload.kind == "reply" else services.ticket_note
    entry = add(
        actor=caller.actor,
        ticket=ticket,
        body=payload.body,
        attachments=_files(payload.attachments),
        expected_version=payload.version,
        observables=observables_in_text(payload.body) if payload.extract_observables else (),
    )
    entry = ticket_thread(ticket).get(pk=entry.pk)
    out = entry_out(entry)
    if payload.kind == "reply":
        outcome = reply_email_outcome(entry)
        out["email"] = {"status": outcome.status, "to": outcome.to, "error": outcome.error}
    return Reply(201, out)


@router.get(
    "/attachments/{attachment_id}",
    response={200: None} | ERRORS,
    auth=requires("tickets:read"),
    url_name="attachment_download",
    summary="Download an attachment",
)
def attachment_download(request, attachment_id: Path[DbId]):
    """The file, as a download; visible when its ticket is. Scope: tickets:read."""
    caller: Caller = request.auth
    attachment = attachment_get_from(caller.visible_tickets(), attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
