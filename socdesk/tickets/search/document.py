"""What goes into a ticket's search document: the one definition, for every write and the rebuild.

title        the number (also its digits alone, so a bare 1045 finds SOC-1045) and the subject
body         every thread entry but system event lines, the requester, tags, custom field values
             (names and values), fields kept from integrations, and what the apps above add
             (alerts: titles, descriptions, labels and observable values)
identifiers  the number, the requester's address and the observable values, for substring search
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django.utils.html import strip_tags

from socdesk.accounts.models import Contact
from socdesk.core import sql
from socdesk.core.text import clean_text
from socdesk.tickets.choices import EntryKind
from socdesk.tickets.models import Tag, ThreadEntry, Ticket, TicketSearch
from socdesk.tickets.search.registry import DocumentParts, contributors

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


def documents_for(ticket_ids: list[int]) -> list[TicketSearch]:
    """The search documents of these tickets (those that exist), read in a fixed number of queries."""
    tickets = sql.rows_for_ids(TICKETS_SQL, ticket_ids)
    if not tickets:
        return []
    ids = [row[0] for row in tickets]
    parts: dict[int, DocumentParts] = defaultdict(DocumentParts)
    for ticket_id, author, body_format, body in sql.rows_for_ids(ENTRIES_SQL, ids):
        text = strip_tags(body) if body_format == "html" else body
        parts[ticket_id].body.append(f"{author}: {text}" if author else text)
    for ticket_id, tag in sql.rows_for_ids(TAGS_SQL, ids):
        parts[ticket_id].body.append(f"#{tag}")
    for contributor in contributors:
        for ticket_id, extra in contributor(ids).items():
            parts[ticket_id].body.extend(extra.body)
            parts[ticket_id].identifiers.extend(extra.identifiers)
    documents = []
    for pk, number, subject, extra, custom_fields, requester_name, requester_email in tickets:
        mine = parts[pk]
        digits = number.rsplit("-", 1)[-1]
        people = " ".join(filter(None, [requester_name, requester_email]))
        custom = _flatten(_json(custom_fields))[:EXTRA_CHARS]
        body = "\n".join(filter(None, [people, *mine.body, custom, _flatten(_json(extra))[:EXTRA_CHARS]]))
        identifiers = dict.fromkeys(filter(None, [number, requester_email, *mine.identifiers]))
        documents.append(
            TicketSearch(
                ticket_id=pk,
                title=clean_text(f"{number} {digits} {subject}"),
                body=clean_text(body[:BODY_CHARS]),
                identifiers=clean_text("\n".join(identifiers)[:BODY_CHARS]),
            )
        )
    return documents


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
