"""Links between tickets: related, duplicate of / has duplicate, parent / child incident.

A link is stored once (TicketLink) and read from both tickets, each side with its own label. Linking
and unlinking need the edit permission on both tickets, and each is audited on both. Refused with a
sentence: a ticket linked to itself, a second link between the same two tickets, a second parent, and a
parent link that would make a ticket its own ancestor.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, ServiceError
from socdesk.tickets.choices import LINK_LABELS, LINK_SIDES, LinkKind, link_side
from socdesk.tickets.models import Ticket, TicketLink
from socdesk.tickets.selectors import MAX_PARENT_DEPTH, parent_of
from socdesk.tickets.services.steps import lock_tickets, record_ticket_event, require_perm


def link_between(a: Ticket, b: Ticket) -> TicketLink | None:
    """The link between two tickets, whichever direction it was stored in (None: not linked)."""
    return TicketLink.objects.filter(Q(from_ticket=a, to_ticket=b) | Q(from_ticket=b, to_ticket=a)).first()


def _check_parent(parent: Ticket, child: Ticket) -> None:
    """Refuse a second parent for the child, and a parent that is the child or one of its descendants."""
    current = parent_of(child.pk)
    if current is not None:
        number = Ticket.objects.filter(pk=current).values_list("number", flat=True).first()
        raise ServiceError(
            f"{child.number} is already a child of {number}; a ticket has one parent incident. "
            "Remove that link first.",
            fields={"kind": "one_parent"},
        )
    ancestor: int | None = parent.pk
    for _ in range(MAX_PARENT_DEPTH):
        ancestor = parent_of(ancestor) if ancestor is not None else None
        if ancestor is None:
            return
        if ancestor == child.pk:
            raise ServiceError(
                f"{child.number} is above {parent.number} in its chain of parent incidents, so it cannot "
                f"also be its child.",
                fields={"kind": "cycle"},
            )
    raise ServiceError("That chain of parent incidents is too deep to extend.", fields={"kind": "cycle"})


def write_link(*, actor: Actor, ticket: Ticket, other: Ticket, side: str) -> TicketLink:
    """Store the link and audit it on both tickets (both locked and checked by the caller)."""
    kind, this_first = LINK_SIDES[side]
    first, second = (ticket, other) if this_first else (other, ticket)
    link = TicketLink.objects.create(
        from_ticket=first,
        to_ticket=second,
        kind=kind,
        created_at=timezone.now(),
        created_by=actor.label[:200],
    )
    for one, two in ((first, second), (second, first)):
        record_ticket_event(
            actor,
            "ticket.linked",
            one,
            after={"kind": link_side(kind, one is first), "ticket": two.number},
        )
    return link


def delete_link(*, actor: Actor, link: TicketLink, first: Ticket, second: Ticket) -> None:
    """Remove the link and audit it on both tickets (`first`, `second`: its tickets, locked)."""
    link.delete()
    for one, two in ((first, second), (second, first)):
        record_ticket_event(
            actor,
            "ticket.unlinked",
            one,
            before={"kind": link_side(link.kind, one is first), "ticket": two.number},
        )


def _locked_pair(actor: Actor, ticket: Ticket, other: Ticket) -> tuple[Ticket, Ticket]:
    """Both tickets locked, after checking the actor may see and edit both (a ticket they cannot see
    is not found, as if it did not exist)."""
    if ticket.pk == other.pk:
        raise ServiceError(
            f"A ticket cannot be linked to itself ({ticket.number}).", fields={"ticket": "self"}
        )
    ticket, other = lock_tickets(ticket, other)
    require_perm(actor, Perm.EDIT, ticket)
    require_perm(actor, Perm.EDIT, other)
    return ticket, other


@transaction.atomic
def ticket_link(*, actor: Actor, ticket: Ticket, other: Ticket, kind: str) -> TicketLink:
    """Link `other` to `ticket` as `kind`, read from `ticket`: related, duplicate_of, has_duplicate,
    parent_of or child_of. Needs the edit permission on both; nothing is written when refused."""
    if kind not in LINK_SIDES:
        raise ServiceError(
            f"Unknown link kind {str(kind)[:40]!r}: use one of {', '.join(LINK_SIDES)}.",
            fields={"kind": "invalid"},
        )
    ticket, other = _locked_pair(actor, ticket, other)
    existing = link_between(ticket, other)
    if existing is not None:
        seen = link_side(existing.kind, existing.from_ticket_id == ticket.pk)
        raise ServiceError(
            f"{ticket.number} is already linked to {other.number} ({LINK_LABELS[seen].lower()}); remove that "
            "link first to link them otherwise.",
            fields={"ticket": "already_linked"},
        )
    stored, this_first = LINK_SIDES[kind]
    if stored == LinkKind.PARENT:
        parent, child = (ticket, other) if this_first else (other, ticket)
        _check_parent(parent, child)
    return write_link(actor=actor, ticket=ticket, other=other, side=kind)


@transaction.atomic
def ticket_unlink(*, actor: Actor, ticket: Ticket, other: Ticket) -> None:
    """Remove the link between two tickets; needs the edit permission on both."""
    ticket, other = _locked_pair(actor, ticket, other)
    link = link_between(ticket, other)
    if link is None:
        raise NotFound(f"{ticket.number} is not linked to {other.number}.", fields={"ticket": "not_linked"})
    first, second = (ticket, other) if link.from_ticket_id == ticket.pk else (other, ticket)
    delete_link(actor=actor, link=link, first=first, second=second)
