"""Several changes to one ticket in one step (a PATCH, a console form, a bulk action): all or nothing.

`ticket_update` holds the rules that connect the per-change services: which change calls which service,
in which order, what a comment or resolution needs, and when a change that changes nothing is skipped
or refused. Every channel that changes ticket fields calls it, so the same change gives the same
result and the same audit events wherever it comes from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Final

from django.db import transaction

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Department, Team
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_text
from socdesk.tickets.choices import Status
from socdesk.tickets.models import Ticket
from socdesk.tickets.services.assignment import ticket_assign, ticket_release, ticket_transfer
from socdesk.tickets.services.fields import ticket_change_severity, ticket_change_status, ticket_edit
from socdesk.tickets.services.steps import check_version, lock_ticket, require_perm
from socdesk.tickets.services.tags import ticket_set_tags


class Unset:
    """The type of UNSET: a field the caller did not send, as opposed to None (which may clear it)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()


@dataclass(frozen=True, kw_only=True)
class TicketChanges:
    """What one request changes on a ticket; a field left UNSET is not touched.

    None clears `assignee`, `team` and `due_at`; for the other fields None means the same as UNSET.
    An empty `resolution`, `comment` or `reason` counts as not given. `reason` says why the ticket
    changes `department` (a transfer needs one).
    """

    subject: str | Unset | None = UNSET
    due_at: datetime | Unset | None = UNSET
    status: str | Unset | None = UNSET
    resolution: str | Unset | None = UNSET
    comment: str | Unset | None = UNSET
    severity: str | Unset | None = UNSET
    assignee: Agent | Unset | None = UNSET
    team: Team | Unset | None = UNSET
    department: Department | Unset | None = UNSET
    reason: str | Unset | None = UNSET
    tags: Iterable[str] | Unset | None = UNSET

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> TicketChanges:
        """The changes named by a {field: value} mapping; an unknown field is refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ServiceError(
                f"Unknown ticket field(s): {', '.join(unknown)}; a ticket change may set: "
                f"{', '.join(sorted(known))}.",
                fields=dict.fromkeys(unknown, "unknown"),
            )
        return cls(**values)

    def given(self, name: str) -> Any:
        """The value sent for a field that None leaves as is (None when not sent)."""
        value = getattr(self, name)
        return None if value is UNSET or value == "" else value


@transaction.atomic
def ticket_update(
    *,
    actor: Actor,
    ticket: Ticket,
    changes: TicketChanges | Mapping[str, Any],
    expected_version: int | None = None,
    refuse_unchanged: bool = False,
) -> Ticket:
    """Apply several changes to a ticket, each through its own service, all or nothing.

    The version is checked once, under the row lock, before anything is written; if any change is
    refused, none is kept (nor its thread line or audit event). A sent value equal to the current one
    is skipped, so a client can send the state it wants; with `refuse_unchanged` it is refused instead,
    with the service's sentence ("The severity is already high."), for a person who asked for that one
    change.
    """
    if not isinstance(changes, TicketChanges):
        changes = TicketChanges.from_mapping(changes)
    ticket = lock_ticket(ticket)
    require_perm(actor, Perm.VIEW, ticket)
    check_version(ticket, expected_version)
    status, resolution, comment = (changes.given(n) for n in ("status", "resolution", "comment"))
    if comment and status is None:
        raise ServiceError(
            "A comment is recorded with a status change; send it together with status, or post it "
            "to the thread as a note.",
            fields={"comment": "needs_status"},
        )
    if resolution is not None and status is None and resolution != ticket.resolution:
        raise ServiceError(
            'Send the resolution together with "status": "resolved".', fields={"resolution": "needs_status"}
        )

    def wanted(new: Any, current: Any) -> bool:
        return refuse_unchanged or new != current

    department, reason = changes.given("department"), changes.given("reason")
    if reason is not None and department is None:
        raise ServiceError(
            "A reason is recorded with a transfer; send it together with the department, or post it "
            "to the thread as a note.",
            fields={"reason": "needs_department"},
        )
    if department is not None and wanted(department.pk, ticket.department_id):
        ticket = ticket_transfer(actor=actor, ticket=ticket, department=department, reason=reason or "")
    # Read after a transfer, which may have cleared an assignee or team that no longer fits.
    # isinstance rather than `is UNSET`: the same test, and one mypy narrows.
    agent = ticket.assignee if isinstance(changes.assignee, Unset) else changes.assignee
    team = ticket.team if isinstance(changes.team, Unset) else changes.team
    if (changes.assignee is not UNSET or changes.team is not UNSET) and wanted(
        (agent, team), (ticket.assignee, ticket.team)
    ):
        if agent is None and team == ticket.team and ticket.assignee is not None:
            ticket = ticket_release(actor=actor, ticket=ticket)
        else:
            ticket = ticket_assign(actor=actor, ticket=ticket, agent=agent, team=team)
    if status is not None and wanted(status, ticket.status):
        ticket = ticket_change_status(
            actor=actor, ticket=ticket, status=status, resolution=resolution or "", comment=comment or ""
        )
    elif status is not None and resolution not in (None, ticket.resolution):
        raise ServiceError(
            f"The ticket is already {Status(ticket.status).label.lower()}; its resolution changes only "
            "when it is resolved again.",
            fields={"resolution": "unchanged_status"},
        )
    severity = changes.given("severity")
    if severity is not None and wanted(severity, ticket.severity):
        ticket = ticket_change_severity(actor=actor, ticket=ticket, severity=severity)
    tags = None if isinstance(changes.tags, Unset) else changes.tags
    if tags is not None:
        ticket = ticket_set_tags(actor=actor, ticket=ticket, tags=tags)
    edits: dict[str, Any] = {}
    subject = None if isinstance(changes.subject, Unset) else changes.subject
    if subject is not None and wanted(clean_text(subject).strip(), ticket.subject):
        edits["subject"] = subject
    if changes.due_at is not UNSET and wanted(changes.due_at, ticket.due_at):
        edits["due_at"] = changes.due_at
    if edits:
        ticket = ticket_edit(actor=actor, ticket=ticket, **edits)
    return ticket
