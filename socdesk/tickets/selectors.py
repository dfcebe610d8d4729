"""Reads of tickets, always scoped to what the asking agent may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Prefetch, Q, QuerySet

from socdesk.accounts.models import Agent
from socdesk.accounts.selectors import department_perms, team_ids
from socdesk.core.errors import NotFound
from socdesk.core.text import clean_text
from socdesk.tickets.choices import LINK_LABELS, LinkKind, link_side
from socdesk.tickets.models import (
    Attachment,
    Collaborator,
    SavedSearch,
    ThreadEntry,
    Ticket,
    TicketLink,
    TicketMerge,
)


def visibility_q(agent: Agent, via: str = "") -> Q | None:
    """The condition for tickets the agent may see (None: everything, for admins); `via` names the
    relation to the ticket when the rows filtered are not tickets (e.g. "ticket__" for notifications)."""
    if agent.is_admin:
        return None
    q = Q(**{f"{via}assignee_id": agent.pk})
    teams = team_ids(agent)
    if teams:
        q |= Q(**{f"{via}team_id__in": teams})
    if not agent.limit_to_assigned:
        departments = [d for d, perms in department_perms(agent).items() if "view" in perms]
        if departments:
            q |= Q(**{f"{via}department_id__in": departments})
    return q


def normalise_number(number: str) -> str:
    """Ticket numbers are stored upper-case; an exact match uses the unique index (iexact would scan)."""
    return clean_text(number).strip().upper()


def tickets_visible_to(agent: Agent) -> QuerySet[Ticket]:
    """Every ticket the agent may see."""
    q = visibility_q(agent)
    return Ticket.objects.all() if q is None else Ticket.objects.filter(q)


def tickets_visible_to_key(key) -> QuerySet[Ticket]:
    """Tickets an API key without an agent may see: all, or its department's if it is limited to one."""
    department_id = getattr(key, "department_id", None)  # optional: keys may be tied to a department
    return Ticket.objects.filter(department_id=department_id) if department_id else Ticket.objects.all()


def ticket_get_for_agent(agent: Agent, number: str) -> Ticket:
    """The ticket with this number if the agent may see it; NotFound otherwise (never 'forbidden')."""
    return ticket_get_from(tickets_visible_to(agent), number)


def ticket_get_from(visible: QuerySet[Ticket], number: str) -> Ticket:
    """The ticket with this number among `visible` (a scoped queryset above); NotFound otherwise."""
    ticket = (
        visible.select_related("department", "assignee__user", "team", "requester__organisation")
        .prefetch_related("tags")
        .filter(number=normalise_number(number))
        .first()
    )
    if ticket is None:
        raise NotFound(f"Ticket {number} was not found.")
    return ticket


def ticket_thread(ticket: Ticket, *, include_internal: bool = True) -> QuerySet[ThreadEntry]:
    """The ticket's thread in order, with authors and attachments loaded in a fixed number of queries."""
    entries = ticket.entries.select_related("author_agent__user", "author_contact").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    if not include_internal:
        entries = entries.filter(kind__in=("message", "reply"))
    return entries.order_by("created_at", "id")


def ticket_collaborators(ticket: Ticket) -> QuerySet[Collaborator]:
    """The contacts copied on the ticket, first added first, with their contact loaded (the caller has
    already read the ticket through a scoped selector)."""
    return Collaborator.objects.filter(ticket=ticket).select_related("contact").order_by("added_at", "id")


def collaborator_addresses(ticket: Ticket) -> list[str]:
    """The addresses a ticket's public replies are copied to, besides the requester's (in the order they
    were added)."""
    return list(ticket_collaborators(ticket).values_list("contact__email", flat=True))


def collaborator_of(ticket: Ticket, address: str) -> bool:
    """Whether the address (compared ignoring case) is a collaborator on the ticket."""
    return Collaborator.objects.filter(ticket=ticket, contact__email=address.strip().lower()).exists()


@dataclass(frozen=True)
class LinkedTicket:
    """One link as read from one of its tickets: its side ("child_of"), label and the other ticket."""

    side: str
    ticket: Ticket
    link: TicketLink

    @property
    def label(self) -> str:
        return LINK_LABELS[self.side]


def ticket_links(ticket: Ticket, visible: QuerySet[Ticket]) -> list[LinkedTicket]:
    """The ticket's links to the `visible` tickets (a scoped queryset above), oldest first: a link to a
    ticket the reader may not see is left out, so it tells nothing about that ticket."""
    links = (
        TicketLink.objects.filter(Q(from_ticket=ticket) | Q(to_ticket=ticket))
        .filter(
            Q(from_ticket=ticket, to_ticket__in=visible.values("pk"))
            | Q(to_ticket=ticket, from_ticket__in=visible.values("pk"))
        )
        .select_related("from_ticket", "to_ticket")
        .order_by("created_at", "id")
    )
    found = []
    for link in links:
        first = link.from_ticket_id == ticket.pk
        found.append(
            LinkedTicket(link_side(link.kind, first), link.to_ticket if first else link.from_ticket, link)
        )
    return found


def ticket_merged_into(ticket: Ticket) -> TicketMerge | None:
    """The merge that took this ticket into another and was not undone (None: it was not merged away)."""
    return TicketMerge.objects.filter(source=ticket, undone_at__isnull=True).select_related("target").first()


# Merges chain at most this deep before a lookup stops following them (a merge into a ticket that was
# itself merged away is refused, so real chains come only from merging a survivor later).
MAX_MERGE_CHAIN = 50


def ticket_merge_survivor(ticket: Ticket) -> Ticket:
    """The ticket that now holds this one: the target of its active merge, followed along a chain of
    merges (a ticket not merged away, or whose merge was undone, is its own survivor)."""
    current, seen = ticket, {ticket.pk}
    for _ in range(MAX_MERGE_CHAIN):
        target_id = (
            TicketMerge.objects.filter(source_id=current.pk, undone_at__isnull=True)
            .values_list("target_id", flat=True)
            .first()
        )
        if target_id is None or target_id in seen:
            break
        seen.add(target_id)
        current = Ticket.objects.select_related("requester", "department").get(pk=target_id)
    return current


def ticket_merges_received(ticket: Ticket) -> list[TicketMerge]:
    """The merges into this ticket that are not undone, with their sources, newest first."""
    return list(
        TicketMerge.objects.filter(target=ticket, undone_at__isnull=True).select_related("source", "target")
    )


def attachment_get_for_agent(agent: Agent, attachment_id: int) -> Attachment:
    """An attachment whose ticket the agent may see; NotFound otherwise."""
    return attachment_get_from(tickets_visible_to(agent), attachment_id)


def attachment_get_from(visible: QuerySet[Ticket], attachment_id: int) -> Attachment:
    """An attachment on one of the `visible` tickets (a scoped queryset above); NotFound otherwise."""
    attachment = (
        Attachment.objects.select_related("entry__ticket")
        .filter(pk=attachment_id, entry__ticket__in=visible)
        .first()
    )
    if attachment is None:
        raise NotFound("That attachment was not found.")
    return attachment


def saved_searches_visible_to(agent: Agent) -> QuerySet[SavedSearch]:
    """The agent's own saved searches and those shared with a department where they hold a role
    (an admin sees every shared one), in tab order: own first, then shared, each by position."""
    if agent.is_admin:
        shared = Q(department__isnull=False)
    else:
        shared = Q(department_id__in=list(department_perms(agent)))
    return (
        SavedSearch.objects.filter(Q(owner_id=agent.pk) | shared)
        .select_related("department", "owner__user")
        .order_by(
            # Own searches first (0), then shared ones; ties keep each list's own positions.
            models.Case(models.When(owner_id=agent.pk, then=0), default=1),
            "position",
            "id",
        )
    )


def saved_search_get_for_agent(agent: Agent, saved_search_id: int) -> SavedSearch:
    """A saved search the agent may see; NotFound otherwise (another department's is never told apart)."""
    found = saved_searches_visible_to(agent).filter(pk=saved_search_id).first()
    if found is None:
        raise NotFound("That saved search was not found.")
    return found


# A parent chain longer than this is refused rather than walked further (incidents nest a few deep).
MAX_PARENT_DEPTH = 100


def parent_of(ticket_id: int) -> int | None:
    """The ticket's parent incident's id (None: it has none)."""
    return (
        TicketLink.objects.filter(to_ticket_id=ticket_id, kind=LinkKind.PARENT)
        .values_list("from_ticket_id", flat=True)
        .first()
    )


def parent_chain_loops(ticket_id: int) -> bool:
    """Whether walking up the parent incidents from this ticket comes back to it (or goes on too long)."""
    ancestor: int | None = ticket_id
    for _ in range(MAX_PARENT_DEPTH):
        ancestor = parent_of(ancestor) if ancestor is not None else None
        if ancestor is None:
            return False
        if ancestor == ticket_id:
            return True
    return True
