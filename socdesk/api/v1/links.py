"""A ticket's links (list, add, remove) and merging it into another ticket (and undoing that)."""

from __future__ import annotations

from ninja import Router, Schema
from ninja import Status as Reply

from socdesk.api.v1.schemas import LinkIn, LinkOut, MergeIn, MergeOut
from socdesk.api.v1.security import Caller, requires
from socdesk.api.v1.tickets import ERRORS, link_out
from socdesk.tickets import services
from socdesk.tickets.merge_movers import merge_count
from socdesk.tickets.models import TicketMerge
from socdesk.tickets.selectors import LinkedTicket, ticket_links

router = Router(tags=["tickets"])


class LinkList(Schema):
    items: list[LinkOut]


def merge_out(merge: TicketMerge) -> dict:
    return {
        "source": merge.source.number,
        "target": merge.target.number,
        "merged_at": merge.merged_at,
        "merged_by": merge.merged_by,
        "moved": {name: merge_count(record) for name, record in merge.moved.items()},
        "undone_at": merge.undone_at,
        "undone_by": merge.undone_by,
    }


@router.get(
    "/tickets/{number}/links",
    response={200: LinkList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="ticket_links",
    summary="List a ticket's links",
)
def link_list(request, number: str):
    """Links to the tickets you may see, oldest first, each read from this ticket (`kind`).
    Scope: tickets:read; 404 if the ticket is not visible to you."""
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    return {"items": [link_out(item) for item in ticket_links(ticket, caller.visible_tickets())]}


@router.post(
    "/tickets/{number}/links",
    response={201: LinkOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_link_add",
    summary="Link a ticket to another",
)
def link_add(request, number: str, payload: LinkIn):
    """Link the ticket `number` to the ticket `payload.number` as `kind` (read from this ticket). Needs
    the edit permission on both; 404 when either is not visible to you; 400 for the ticket itself, a
    second link between the same two tickets, a second parent or a cycle of parents. Scope: tickets:write."""
    caller: Caller = request.auth
    ticket, other = caller.get_ticket(number), caller.get_ticket(payload.number)
    link = services.ticket_link(actor=caller.actor, ticket=ticket, other=other, kind=payload.kind)
    return Reply(201, link_out(LinkedTicket(payload.kind, other, link)))


@router.delete(
    "/tickets/{number}/links/{other}",
    response={204: None} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_link_remove",
    summary="Remove a link",
)
def link_remove(request, number: str, other: str):
    """Remove the link between the two tickets, whichever way it was made. 404 when either is not
    visible to you or they are not linked. Scope: tickets:write."""
    caller: Caller = request.auth
    services.ticket_unlink(
        actor=caller.actor, ticket=caller.get_ticket(number), other=caller.get_ticket(other)
    )
    return Reply(204, None)


@router.post(
    "/tickets/{number}/merge",
    response={200: MergeOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_merge",
    summary="Merge a duplicate into another ticket",
)
def merge(request, number: str, payload: MergeIn):
    """Merge the ticket `number` (the duplicate) into `into` (the survivor): its thread, collaborators,
    tags, custom values the survivor lacks, alerts, de-duplication keys and observables move; it is
    closed as a duplicate with a link. Needs edit on both and close on the duplicate; 404 when either is
    not visible to you; 400 for the same ticket or when either was already merged. Scope: tickets:write."""
    caller: Caller = request.auth
    source, target = caller.get_ticket(number), caller.get_ticket(payload.into)
    return merge_out(services.ticket_merge(actor=caller.actor, source=source, target=target))


@router.post(
    "/tickets/{number}/merge/undo",
    response={200: MergeOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_merge_undo",
    summary="Undo a merge (the same day)",
)
def merge_undo(request, number: str):
    """Undo the merge of the ticket `number` (the duplicate) into another, on the day it was made (the
    installation's time zone): what moved goes back and it is reopened as it was. 404 when it is not
    visible to you or not merged; 400 after the day, with the reason. Scope: tickets:write."""
    caller: Caller = request.auth
    return merge_out(services.ticket_merge_undo(actor=caller.actor, source=caller.get_ticket(number)))
