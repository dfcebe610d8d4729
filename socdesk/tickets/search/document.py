"""What goes into a ticket's search document: the one definition, for every write and the rebuild.

title        the number (also its digits alone, so a bare 1045 finds SOC-1045) and the subject
body         every thread entry but system event lines, the requester, tags, custom field values
             (names and values), fields kept from integrations, and what the apps above add
             (alerts: titles, descriptions, labels and observable values)
identifiers  the number, the requester's address and the observable values, for substring search
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models.functions import Substr
from django.utils.html import strip_tags

from socdesk.core.text import clean_text
from socdesk.tickets.choices import EntryKind
from socdesk.tickets.models import ThreadEntry, Ticket, TicketSearch
from socdesk.tickets.search.registry import DocumentParts, contributors

ENTRY_CHARS = 20_000  # of one thread entry; a pasted log beyond that adds little to find it by
BODY_CHARS = 200_000  # of a whole document: PostgreSQL refuses a tsvector over 1 MB
EXTRA_CHARS = 5_000


def documents_for(ticket_ids: list[int]) -> list[TicketSearch]:
    """The search documents of these tickets (those that exist), read in a fixed number of queries."""
    tickets = list(
        Ticket.objects.filter(pk__in=ticket_ids).values_list(
            "pk", "number", "subject", "extra", "custom_fields", "requester__name", "requester__email"
        )
    )
    if not tickets:
        return []
    ids = [row[0] for row in tickets]
    parts: dict[int, DocumentParts] = defaultdict(DocumentParts)
    entries = (
        ThreadEntry.objects.filter(ticket_id__in=ids)
        .exclude(kind=EntryKind.EVENT)  # "status changed" lines: every ticket has them, nobody looks for them
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "author_label", "body_format", Substr("body", 1, ENTRY_CHARS))
    )
    for ticket_id, author, body_format, body in entries:
        text = strip_tags(body) if body_format == "html" else body
        parts[ticket_id].body.append(f"{author}: {text}" if author else text)
    for ticket_id, tag in Ticket.tags.through.objects.filter(ticket_id__in=ids).values_list(
        "ticket_id", "tag__name"
    ):
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
        custom = _flatten(custom_fields)[:EXTRA_CHARS]
        body = "\n".join(filter(None, [people, *mine.body, custom, _flatten(extra)[:EXTRA_CHARS]]))
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


def _flatten(value) -> str:
    """The scalar values of a JSON field (keys too), as words to match."""
    if isinstance(value, dict):
        return " ".join(f"{key} {_flatten(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return " ".join(_flatten(item) for item in value)
    return "" if value is None else str(value)
