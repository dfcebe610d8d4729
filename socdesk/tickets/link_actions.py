"""The ticket page's link and merge parts: the actions of its Linked tickets panel and of the Undo on a
merge's thread line (run by views.ticket_action), and what the page shows about links and merges."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from socdesk.accounts.models import Agent
from socdesk.core.actor import Actor
from socdesk.tickets import services
from socdesk.tickets.choices import LINK_LABELS
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.selectors import (
    ticket_get_for_agent,
    ticket_links,
    ticket_merged_into,
    ticket_merges_received,
    tickets_visible_to,
)


def _other(actor: Actor, number: str) -> Ticket:
    """The other ticket named on the page, among those the agent may see (else 'not found')."""
    assert actor.agent is not None  # the console's actions are always an agent's
    return ticket_get_for_agent(actor.agent, number)


def do_link_add(actor: Actor, ticket: Ticket, data: dict[str, Any]) -> str:
    other = _other(actor, data["number"])
    services.ticket_link(actor=actor, ticket=ticket, other=other, kind=data["kind"])
    return f"Linked: this ticket is {LINK_LABELS[data['kind']].lower()} {other.number}."


def do_link_remove(actor: Actor, ticket: Ticket, data: dict[str, Any]) -> str:
    other = _other(actor, data["number"])
    services.ticket_unlink(actor=actor, ticket=ticket, other=other)
    return f"The link to {other.number} was removed."


def do_merge_undo(actor: Actor, ticket: Ticket, data: dict[str, Any]) -> str:
    source = _other(actor, data["number"])
    services.ticket_merge_undo(actor=actor, source=source)
    return f"The merge of {source.number} was undone: what it brought went back, and it is open again."


def link_context(agent: Agent, ticket: Ticket, entries: list[ThreadEntry]) -> dict[str, Any]:
    """The page's links, the merge that took this ticket away (if any), and an `undo_merge_of` number on
    each merge line of this survivor that may still be undone."""
    now = timezone.now()
    undoable = {
        merge.target_entry_id: merge.source.number
        for merge in ticket_merges_received(ticket)
        if services.merge_undo_refusal(merge, now) is None
    }
    for entry in entries:
        entry.undo_merge_of = undoable.get(entry.pk, "")  # type: ignore[attr-defined]
    return {
        "links": ticket_links(ticket, tickets_visible_to(agent)),
        "merged_into": ticket_merged_into(ticket),
    }
