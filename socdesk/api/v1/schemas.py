"""Typed request and response bodies of the v1 API (pydantic v2 via ninja)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from socdesk.core.text import clean_json
from socdesk.tickets.choices import EntryKind, Resolution, Severity, Source, Status

# Ids are 64-bit in both databases; a larger number is refused as invalid input, not a database error.
MAX_DB_INT = 2**63 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
Version = Annotated[int, Field(ge=0, le=MAX_DB_INT)]


class InputSchema(Schema):
    """Request bodies refuse unknown fields, so a typo is a 400 that names it, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _strip_control_characters(cls, value: Any) -> Any:
        # Control characters (NUL above all) are never meaningful and PostgreSQL refuses NUL outright.
        return clean_json(value)


class QueryParams(Schema):
    """Query-string parameters, with control characters removed as from request bodies (NUL in a
    filter value would otherwise reach PostgreSQL, which refuses it: a 500 instead of an empty list)."""

    @field_validator("*", mode="before")
    @classmethod
    def _strip_control_characters(cls, value: Any) -> Any:
        return clean_json(value)


# --- errors -----------------------------------------------------------------------------------------


class ErrorDetail(Schema):
    code: str = Field(description="Stable machine-readable code, e.g. invalid, not_found, conflict.")
    message: str = Field(description="A sentence saying what went wrong and what to do.")
    fields: dict[str, str] = Field(description="Per-field problems, keyed by field name.")


class ErrorOut(Schema):
    """The one error shape of every /api/v1 response that is not a success."""

    error: ErrorDetail


# --- references -------------------------------------------------------------------------------------


class DepartmentRef(Schema):
    id: int
    name: str
    slug: str


class AgentRef(Schema):
    id: int
    username: str
    name: str


class TeamRef(Schema):
    id: int
    name: str


class RequesterRef(Schema):
    email: str
    name: str


class CollaboratorOut(Schema):
    """A contact copied on a ticket: receives its public replies, may write to it by mail."""

    email: str
    name: str
    source: Literal["manual", "email_cc"] = Field(
        description="manual: added by an agent or a tool; email_cc: copied on an e-mail to the ticket."
    )
    added_by: str = Field(description="Who added them, as the audit trail names it.")
    added_at: datetime


class CollaboratorIn(InputSchema):
    email: str = Field(min_length=1, max_length=320, description="The address to copy on the ticket.")
    name: str = Field("", max_length=150, description="Their name, kept for a contact seen first here.")


# --- tickets ----------------------------------------------------------------------------------------


class HelpTopicRef(Schema):
    id: int
    name: str


class SlaTargetOut(Schema):
    """One SLA target of a ticket (response or resolution)."""

    due_at: datetime | None = Field(description="When it is due; null without a target for the severity.")
    met_at: datetime | None = Field(description="When it was met: first agent reply or action / resolve.")
    state: Literal["on_track", "at_risk", "breached", "met", "none"]
    level: int = Field(description="The highest escalation level reached for this target (0: none).")


class TicketSlaOut(Schema):
    """A ticket's SLA clock."""

    plan_id: int | None
    plan_source: Literal["filter", "help_topic", "department", "default"]
    state: Literal["on_track", "at_risk", "breached", "paused", "done"] = Field(
        description="The worst state of the running targets; paused while on hold; done when none runs."
    )
    paused: bool
    response: SlaTargetOut
    resolution: SlaTargetOut


class TicketOut(Schema):
    """A ticket as listed."""

    number: str
    subject: str
    status: Status
    resolution: Resolution | Literal[""]
    severity: Severity
    source: Source
    department: DepartmentRef
    assignee: AgentRef | None
    team: TeamRef | None
    requester: RequesterRef | None
    tags: list[str]
    due_at: datetime | None
    created_at: datetime
    acknowledged_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    last_activity_at: datetime
    version: int = Field(description="Send it back with PATCH; a stale one is refused with 409.")
    alert_count: int
    custom_fields: dict[str, Any] = Field(
        description="Values of the help topic's custom form, by field name (typed: numbers, true/false, "
        "lists for multiple choice, dates and times in ISO 8601 UTC)."
    )
    sla: TicketSlaOut | None = Field(description="The SLA clock; null when no SLA plan applies.")
    url: str


class LinkedTicketRef(Schema):
    number: str
    subject: str
    status: Literal["new", "in_progress", "on_hold", "resolved", "closed"]
    url: str


class LinkOut(Schema):
    """A link to another ticket, read from this one (the other ticket reads the reverse kind)."""

    kind: Literal["related", "duplicate_of", "has_duplicate", "parent_of", "child_of"] = Field(
        description="How the other ticket relates to this one, read from this ticket: this ticket is "
        "related to / a duplicate of / has the duplicate / the parent incident of / a child of the other."
    )
    ticket: LinkedTicketRef
    created_by: str = Field(description="Who linked them, as the audit trail names it.")
    created_at: datetime


class LinkIn(InputSchema):
    number: str = Field(min_length=1, max_length=32, description="The other ticket's number (SOC-1042).")
    kind: Literal["related", "duplicate_of", "has_duplicate", "parent_of", "child_of"] = Field(
        description="What this ticket is to the other one: parent_of makes the other its child incident."
    )


class MergeIn(InputSchema):
    into: str = Field(
        min_length=1, max_length=32, description="The number of the ticket that survives (the target)."
    )


class MergeOut(Schema):
    """One merge of a duplicate (source) into the ticket that survives (target)."""

    source: str
    target: str
    merged_at: datetime
    merged_by: str
    moved: dict[str, int] = Field(description="How many rows moved, by kind (thread, alerts, ...).")
    undone_at: datetime | None
    undone_by: str


class TicketDetailOut(TicketOut):
    """A ticket with everything known about it."""

    links: list[LinkOut] = Field(description="Links to other tickets you may see, oldest first.")

    observables: list[dict[str, Any]]
    help_topic: HelpTopicRef | None = Field(description="The help topic the ticket was opened on.")
    collaborators: list[CollaboratorOut] = Field(
        description="Contacts copied on the ticket besides the requester, first added first."
    )


class TicketPage(Schema):
    items: list[TicketOut]
    next: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class AttachmentIn(InputSchema):
    name: str = Field(min_length=1, max_length=255)
    content_base64: str = Field(description="The file's bytes, base64-encoded (standard alphabet).")


class RequesterIn(InputSchema):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field("", max_length=150)
    phone: str = Field("", max_length=50)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        try:
            validate_email(value.strip())
        except DjangoValidationError:
            raise ValueError("Enter an email address such as dana@example.com") from None
        return value.strip()


class TicketCreateIn(InputSchema):
    subject: str = Field(min_length=1, max_length=255)
    department: DbId | str | None = Field(
        None, description="Department id or slug; may be left out when the key is tied to a department."
    )
    body: str = Field("", description="The first thread entry (plain text).")
    requester: RequesterIn | None = None
    severity: Severity = Severity.MEDIUM
    source: Source = Source.API
    assignee: DbId | str | None = Field(None, description="Agent id or username.")
    team: DbId | str | None = Field(None, description="Team id or name.")
    tags: list[str] = Field(default_factory=list, max_length=50)
    due_at: datetime | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    help_topic: DbId | None = Field(
        None,
        description="Help topic id: its defaults (team, agent, severity; its department when none is "
        "given) apply, and `custom_fields` are checked against its form.",
    )
    custom_fields: dict[str, Any] = Field(
        default_factory=dict, description="Custom field values by field name (see the help topic's form)."
    )


class TicketPatchIn(InputSchema):
    """Only the fields sent are changed. For status, severity, department, subject and tags, null is the
    same as leaving the field out; for assignee, team, due_at it clears the value."""

    version: Version = Field(description="The version you last read; a stale one is refused with 409.")
    status: Status | None = None
    resolution: Resolution | None = Field(None, description="Required when status becomes resolved.")
    comment: str | None = Field(None, max_length=2000, description="Why the status changed.")
    severity: Severity | None = None
    assignee: DbId | str | None = Field(None, description="Agent id or username; null to unassign.")
    team: DbId | str | None = Field(None, description="Team id or name; null to clear.")
    department: DbId | str | None = Field(
        None, description="Department id or slug: transfers the ticket (send `reason` with it)."
    )
    reason: str | None = Field(
        None,
        max_length=1000,
        description="Why the ticket is transferred; required with `department`, kept in its thread.",
    )
    tags: list[str] | None = Field(None, max_length=50, description="Replaces all tags.")
    subject: str | None = Field(None, min_length=1, max_length=255)
    due_at: datetime | None = None
    help_topic: DbId | None = Field(
        None, description="Put the ticket on this help topic (send null to take it off its topic)."
    )
    custom_fields: dict[str, Any] | None = Field(
        None,
        description="Custom field values to set by name (others stay); an empty value clears one. Checked "
        "against the form of the help topic (the new one, when `help_topic` is sent too).",
    )


# --- thread -----------------------------------------------------------------------------------------


class AttachmentOut(Schema):
    id: int
    filename: str
    size: int
    content_type: str
    sha256: str
    download_url: str


class ThreadEntryOut(Schema):
    id: int
    kind: EntryKind
    author: str
    author_agent: str | None = Field(description="Username when an agent wrote it.")
    body: str
    body_format: str
    created_at: datetime
    attachments: list[AttachmentOut]


class ThreadOut(Schema):
    items: list[ThreadEntryOut]


class ReplyEmailOut(Schema):
    status: Literal["queued", "sending", "sent", "failed", "not_configured", "no_address"] = Field(
        description="queued: the worker sends it right after; not_configured: outbound mail is not set up, "
        "nothing was sent; no_address: the requester has no e-mail address."
    )
    to: list[str]
    error: str = Field("", description="Why the last attempt failed (status failed).")


class ThreadPostOut(ThreadEntryOut):
    email: ReplyEmailOut | None = Field(
        None, description="What became of a reply's e-mail to the requester; null for an internal note."
    )


class ThreadPostIn(InputSchema):
    kind: Literal["reply", "note"] = Field(description="reply: visible to the requester; note: internal.")
    body: str = ""
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    version: Version | None = Field(
        None, description="Optional: refuse with 409 if the ticket changed since."
    )
    extract_observables: bool = Field(
        False,
        description="Find IPs, domains, URLs, hashes... in this text and add them to the ticket "
        "(audited as observables you added).",
    )


# --- personal tokens --------------------------------------------------------------------------------

PersonalScope = Literal["tickets:read", "tickets:create", "tickets:write", "admin"]


class TokenIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[PersonalScope] = Field(min_length=1)
    expires_at: datetime | None = None
    allowed_cidrs: list[str] = Field(default_factory=list, max_length=50)


class TokenOut(Schema):
    prefix: str
    name: str
    scopes: list[str]
    allowed_cidrs: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(
        description="Last use, to the minute (it is not written on every call)."
    )
    last_used_ip: str | None = Field(description="The address of that last use.")
    revoked_at: datetime | None
    replaced_by: str | None = Field(
        description="Prefix of the token this one was rotated to; this one works until expires_at."
    )


class TokenRotateIn(InputSchema):
    grace_seconds: int | None = Field(
        None,
        ge=0,
        le=366 * 86400,
        description="Seconds the old token keeps working (default SOCDESK_API_KEY_ROTATION_GRACE; 0: none).",
    )


class TokenCreatedOut(TokenOut):
    key: str = Field(description="The token itself: shown once, store it now.")


class TokenList(Schema):
    items: list[TokenOut]


class AvailabilityIn(InputSchema):
    available: bool = Field(
        description="true: available (auto-assignment may give you new tickets); false: away."
    )


class AvailabilityOut(Schema):
    available: bool
    changed_at: datetime | None = Field(description="When it last changed; null if never.")
