"""What goes into a ticket's search document: the one definition, for every write and the rebuild.

title        the number (also its digits alone, so a bare 1045 finds SOC-1045) and the subject
body         every thread entry but system event lines, the requester, tags, custom field values
             (names and values), fields kept from integrations, and what the apps above add
             (alerts: titles, descriptions, labels and observable values)
identifiers  the number, the requester's address and the observable values, for substring search

A document is composed (`_compose`) from its ingredients, gathered either by reading the ticket back
(`documents_for`: any ticket, the rebuild) or from what the opener of a new ticket holds
(`documents_new`: no read of what was just written). Both gather the same ingredients the same way;
tests/tickets/test_search_new_documents.py holds them to byte-identical documents on both databases.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import strip_tags

from socdesk.accounts.models import Contact
from socdesk.core import sql
from socdesk.core.text import clean_text
from socdesk.tickets.choices import EntryKind
from socdesk.tickets.models import Tag, ThreadEntry, Ticket, TicketSearch
from socdesk.tickets.search.registry import DocumentParts, NewTicket, contributors
from socdesk.tickets.search.sql import backend

ENTRY_CHARS = 20_000  # of one thread entry; a pasted log beyond that adds little to find it by
BODY_CHARS = 200_000  # of a whole document: PostgreSQL refuses a tsvector over 1 MB
EXTRA_CHARS = 5_000


# Written once rather than built by the ORM on every write (see socdesk.core.sql.rows_for_ids).
TICKETS_SQL = (
    "SELECT t.id, t.number, t.subject, t.extra, t.custom_fields, c.name, c.email"
    f" FROM {Ticket._meta.db_table} t LEFT JOIN {Contact._meta.db_table} c ON c.id = t.requester_id"
    " WHERE {ids:t.id}"
)
ENTRIES_SQL = (
    f"SELECT ticket_id, author_label, body_format, SUBSTR(body, 1, {ENTRY_CHARS})"
    f" FROM {ThreadEntry._meta.db_table}"
    # "status changed" lines: every ticket has them, nobody looks for them
    f" WHERE {{ids:ticket_id}} AND kind <> '{EntryKind.EVENT.value}'"
    " ORDER BY ticket_id, created_at, id"
)
TAGS_SQL = (
    f"SELECT tt.ticket_id, tag.name FROM {Ticket.tags.through._meta.db_table} tt"
    f" JOIN {Tag._meta.db_table} tag ON tag.id = tt.tag_id"
    " WHERE {ids:tt.ticket_id} ORDER BY tt.id"
)


@dataclass
class Ingredients:
    """What one ticket's document is made of, as the database hands it back (JSON decoded)."""

    number: str
    subject: str
    extra: Any
    custom_fields: Any
    requester_name: str | None
    requester_email: str | None
    # thread entries, then tags, then each contributor's part, in the order contributors registered
    parts: DocumentParts = field(default_factory=DocumentParts)


def documents_for(ticket_ids: list[int]) -> list[TicketSearch]:
    """The search documents of these tickets (those that exist), read in a fixed number of queries."""
    tickets = sql.rows_for_ids(TICKETS_SQL, ticket_ids)
    if not tickets:
        return []
    gathered = {
        pk: Ingredients(number, subject, _json(extra), _json(custom), name, email)
        for pk, number, subject, extra, custom, name, email in tickets
    }
    ids = list(gathered)
    for ticket_id, author, body_format, body in sql.rows_for_ids(ENTRIES_SQL, ids):
        gathered[ticket_id].parts.body.append(_entry_text(author, body_format, body))
    for ticket_id, tag in sql.rows_for_ids(TAGS_SQL, ids):
        gathered[ticket_id].parts.body.append(_tag_text(tag))
    for contributor, _ in contributors:
        _add(gathered, contributor(ids))
    return [_compose(pk, ingredients) for pk, ingredients in gathered.items()]


def documents_new(new: Sequence[NewTicket]) -> list[TicketSearch]:
    """The search documents of tickets opened in this transaction, from what their opener holds.

    Reads nothing but what the contributors cannot know from the drafts, and a ticket whose JSON
    fields the database would hand back in a way that cannot be told here (see the `json_read_back`
    of socdesk.tickets.search.sql), which is read back as `documents_for` reads any ticket.
    """
    engine = backend()
    gathered: dict[int, Ingredients] = {}
    unread: list[int] = []
    for item in new:
        ticket, entry = item.ticket, item.entry
        try:
            extra, custom = engine.json_read_back(ticket.extra), engine.json_read_back(ticket.custom_fields)
        except ValueError:
            unread.append(ticket.pk)
            continue
        requester = ticket.requester
        ingredients = Ingredients(
            ticket.number,
            ticket.subject,
            extra,
            custom,
            requester.name if requester is not None else None,
            requester.email if requester is not None else None,
        )
        if entry is not None and entry.kind != EntryKind.EVENT:
            text = _entry_text(entry.author_label, entry.body_format, entry.body[:ENTRY_CHARS])
            ingredients.parts.body.append(text)
        ingredients.parts.body.extend(_tag_text(tag) for tag in item.tags)
        gathered[ticket.pk] = ingredients
    held = [item for item in new if item.ticket.pk in gathered]
    for _, contributor_new in contributors:
        _add(gathered, contributor_new(held))
    return [_compose(pk, ingredients) for pk, ingredients in gathered.items()] + documents_for(unread)


def _add(gathered: dict[int, Ingredients], contributed: dict[int, DocumentParts]) -> None:
    for ticket_id, extra in contributed.items():
        gathered[ticket_id].parts.body.extend(extra.body)
        gathered[ticket_id].parts.identifiers.extend(extra.identifiers)


def _entry_text(author: str, body_format: str, body: str) -> str:
    text = strip_tags(body) if body_format == "html" else body
    return f"{author}: {text}" if author else text


def _tag_text(name: str) -> str:
    return f"#{name}"


def _compose(pk: int, ingredients: Ingredients) -> TicketSearch:
    """The document itself: the one place that says how the ingredients are put together."""
    number, parts = ingredients.number, ingredients.parts
    digits = number.rsplit("-", 1)[-1]
    people = " ".join(filter(None, [ingredients.requester_name, ingredients.requester_email]))
    custom = _flatten(ingredients.custom_fields)[:EXTRA_CHARS]
    extra = _flatten(ingredients.extra)[:EXTRA_CHARS]
    body = "\n".join(filter(None, [people, *parts.body, custom, extra]))
    identifiers = dict.fromkeys(filter(None, [number, ingredients.requester_email, *parts.identifiers]))
    return TicketSearch(
        ticket_id=pk,
        title=clean_text(f"{number} {digits} {ingredients.subject}"),
        body=clean_text(body[:BODY_CHARS]),
        identifiers=clean_text("\n".join(identifiers)[:BODY_CHARS]),
    )


def _json(value: Any) -> Any:
    """A JSON column as read by plain SQL: text on both databases here (Django decodes it in the ORM)."""
    return json.loads(value) if isinstance(value, str) else value


def _flatten(value: Any) -> str:
    """The scalar values of a JSON field (keys too), as words to match."""
    if isinstance(value, dict):
        return " ".join(f"{key} {_flatten(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return " ".join(_flatten(item) for item in value)
    return "" if value is None else str(value)
