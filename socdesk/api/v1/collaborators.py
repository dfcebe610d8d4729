"""A ticket's collaborators: list, add (by address) and remove (contacts copied on the ticket)."""

from __future__ import annotations

from ninja import Query, Router, Schema
from ninja import Status as Reply
from pydantic import Field

from socdesk.api.v1.schemas import CollaboratorIn, CollaboratorOut, QueryParams
from socdesk.api.v1.security import Caller, requires
from socdesk.api.v1.tickets import ERRORS, collaborator_out
from socdesk.tickets import services
from socdesk.tickets.selectors import ticket_collaborators

router = Router(tags=["tickets"])


class CollaboratorList(Schema):
    items: list[CollaboratorOut]


class CollaboratorRemoveParams(QueryParams):
    email: str = Field(min_length=1, max_length=320, description="The collaborator's address.")


@router.get(
    "/tickets/{number}/collaborators",
    response={200: CollaboratorList} | ERRORS,
    auth=requires("tickets:read"),
    url_name="ticket_collaborators",
    summary="List a ticket's collaborators",
)
def collaborator_list(request, number: str):
    """Contacts copied on the ticket, first added first. Scope: tickets:read; 404 if not visible to you."""
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    return {"items": [collaborator_out(c) for c in ticket_collaborators(ticket)]}


@router.post(
    "/tickets/{number}/collaborators",
    response={201: CollaboratorOut} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_collaborator_add",
    summary="Add a collaborator",
)
def collaborator_add(request, number: str, payload: CollaboratorIn):
    """Copy a contact (by address, created on first sight) on the ticket: its public replies are meant
    for them too (docs/email.md, Sending) and they may write to it by mail. Refused (400) for an address
    that is not one, the requester, an agent's address, or someone already on the ticket.
    Scope: tickets:write."""
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    added = services.collaborator_add(
        actor=caller.actor, ticket=ticket, email=payload.email, name=payload.name
    )
    return Reply(201, collaborator_out(added))


@router.delete(
    "/tickets/{number}/collaborators",
    response={204: None} | ERRORS,
    auth=requires("tickets:write"),
    url_name="ticket_collaborator_remove",
    summary="Remove a collaborator",
)
def collaborator_remove(request, number: str, params: Query[CollaboratorRemoveParams]):
    """Take the collaborator `?email=` off the ticket (the contact stays). 404 when the ticket is not
    visible to you or the address is not a collaborator on it. Scope: tickets:write."""
    caller: Caller = request.auth
    ticket = caller.get_ticket(number)
    services.collaborator_remove(actor=caller.actor, ticket=ticket, email=params.email)
    return Reply(204, None)
