"""Collaborators: contacts outside the SOC copied on a ticket (osTicket's word).

They receive the ticket's public replies and may write to it by mail. An agent adds or removes one by
address (`collaborator_add`, `collaborator_remove`); the mail app adds the addresses an e-mail was copied
to (`collaborators_add_from_email`), skipping silently what an agent would be told about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Contact
from socdesk.accounts.services import contact_get_or_create
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, ServiceError
from socdesk.core.text import clean_text
from socdesk.tickets.choices import CollaboratorSource
from socdesk.tickets.models import Collaborator, Ticket
from socdesk.tickets.services.steps import lock_ticket, record_ticket_event, require_perm

MAX_ADDRESS = 254  # RFC 5321's limit, and the Contact.email column's


def normalise_address(email: str) -> str:
    """The address as contacts store it (trimmed, lower-case, `<>` dropped); ServiceError when it is none."""
    address = clean_text(str(email or "")).strip().strip("<>").strip().lower()
    if not address:
        raise ServiceError(
            "Write the collaborator's e-mail address, such as dana@example.com.", fields={"email": "required"}
        )
    try:
        if len(address) > MAX_ADDRESS:
            raise ValidationError("too long")
        validate_email(address)
    except ValidationError:
        raise ServiceError(
            f"{address[:100]!r} is not an e-mail address; write it as name@example.com.",
            fields={"email": "invalid"},
        ) from None
    return address


@dataclass(frozen=True)
class _Refusal:
    """Why an address cannot be added to this ticket (the sentence an agent is told)."""

    code: str
    message: str


def _refusal(ticket: Ticket, address: str) -> _Refusal | None:
    """None when the address may become a collaborator on the ticket."""
    if ticket.requester is not None and ticket.requester.email == address:
        return _Refusal(
            "requester",
            f"{address} is the ticket's requester, who receives its replies already.",
        )
    if Agent.objects.filter(user__email__iexact=address, user__is_active=True).exists():
        return _Refusal(
            "agent",
            f"{address} is an agent's address; agents follow tickets in the console, not as collaborators.",
        )
    if Collaborator.objects.filter(ticket=ticket, contact__email=address).exists():
        return _Refusal("duplicate", f"{address} is already a collaborator on {ticket.number}.")
    return None


def _write(*, actor: Actor, ticket: Ticket, address: str, name: str, source: str) -> Collaborator:
    contact = contact_get_or_create(actor=actor, email=address, name=name)
    collaborator = Collaborator.objects.create(
        ticket=ticket,
        contact=contact,
        added_at=timezone.now(),
        added_by=actor.label[:200],
        source=source,
    )
    # No version bump: who is copied on the ticket changes nothing an agent may be editing.
    record_ticket_event(
        actor, "ticket.collaborator_added", ticket, after={"email": address, "source": source}
    )
    return collaborator


def _locked(actor: Actor, ticket: Ticket) -> Ticket:
    """The ticket locked (two adds of one address queue, then the second sees the first) and checked."""
    locked = lock_ticket(ticket)
    require_perm(actor, Perm.REPLY, locked)
    # lock_ticket reads only the department: the refusals compare with the requester.
    locked.requester = Contact.objects.filter(pk=locked.requester_id).first() if locked.requester_id else None
    return locked


@transaction.atomic
def collaborator_add(
    *,
    actor: Actor,
    ticket: Ticket,
    email: str,
    name: str = "",
    source: str = CollaboratorSource.MANUAL,
) -> Collaborator:
    """Copy a contact (by address, created on first sight) on the ticket; needs the reply permission.

    Refused with a sentence: an address that is not one, the ticket's requester, an agent's address,
    or someone already on the ticket (nothing is written).
    """
    address = normalise_address(email)
    ticket = _locked(actor, ticket)
    refusal = _refusal(ticket, address)
    if refusal is not None:
        raise ServiceError(refusal.message, fields={"email": refusal.code})
    return _write(actor=actor, ticket=ticket, address=address, name=clean_text(name).strip(), source=source)


@transaction.atomic
def collaborators_add_from_email(
    *, actor: Actor, ticket: Ticket, people: Iterable[tuple[str, str]]
) -> list[Collaborator]:
    """Copy on the ticket the (name, address) pairs an e-mail was sent to, skipping without a word those
    that are not addresses, the requester, agents, and who is on the ticket already (the mail app drops
    SOCdesk's own addresses before). The ones added, in order."""
    ticket = _locked(actor, ticket)
    added = []
    for name, email in people:
        try:
            address = normalise_address(email)
        except ServiceError:
            continue
        if _refusal(ticket, address) is None:
            added.append(
                _write(
                    actor=actor,
                    ticket=ticket,
                    address=address,
                    name=clean_text(name).strip(),
                    source=CollaboratorSource.EMAIL_CC,
                )
            )
    return added


@transaction.atomic
def collaborator_remove(*, actor: Actor, ticket: Ticket, email: str) -> None:
    """Take a collaborator off the ticket (the contact stays); needs the reply permission."""
    address = normalise_address(email)
    ticket = _locked(actor, ticket)
    found = Collaborator.objects.filter(ticket=ticket, contact__email=address).first()
    if found is None:
        raise NotFound(f"{address} is not a collaborator on {ticket.number}.", fields={"email": "not_found"})
    found.delete()
    record_ticket_event(
        actor, "ticket.collaborator_removed", ticket, before={"email": address, "source": found.source}
    )
