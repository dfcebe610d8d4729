"""The alerts app's part of ticket search: what alerts and observables add to a ticket's search
document, how a typed word is read as an observable, and the observable fields (`ip:`, `hash:`...).

Registered with socdesk.tickets.search by AlertsConfig.ready (tickets sits below alerts).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q

from socdesk.alerts import observables as obs
from socdesk.alerts.models import Alert, Observable, TicketObservable
from socdesk.core import sql
from socdesk.tickets.search import DocumentParts, NewTicket

ALERTS_PER_TICKET = 50  # a grouped ticket's newest distinct alerts; older ones repeat the same words
DESCRIPTION_CHARS = 5_000
# field -> the observable types it matches (`host:` is a name or an address, whichever it is)
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "ip": ("ip",),
    "hash": ("hash",),
    "domain": ("domain", "hostname"),
    "host": ("host",),
    "user": ("user",),
    "file": ("filename",),
}


# Written once rather than built by the ORM on every write (see socdesk.core.sql.rows_for_ids).
ALERTS_SQL = (
    f"SELECT ticket_id, title, SUBSTR(description, 1, {DESCRIPTION_CHARS}) FROM {Alert._meta.db_table}"
    " WHERE {ids:ticket_id} ORDER BY ticket_id, last_seen DESC, id DESC"
)
OBSERVABLES_SQL = (
    f"SELECT link.ticket_id, o.value FROM {TicketObservable._meta.db_table} link"
    f" JOIN {Observable._meta.db_table} o ON o.id = link.observable_id"
    " WHERE {ids:link.ticket_id} ORDER BY link.id"
)


def ticket_search_parts(ticket_ids: list[int]) -> dict[int, DocumentParts]:
    """Alert titles and descriptions (which carry the labels) and observable values of these tickets."""
    parts: dict[int, DocumentParts] = defaultdict(DocumentParts)
    counts: dict[int, int] = defaultdict(int)
    for ticket_id, title, description in sql.rows_for_ids(ALERTS_SQL, ticket_ids):
        if counts[ticket_id] < ALERTS_PER_TICKET:
            counts[ticket_id] += 1
            parts[ticket_id].body.extend([title, description])
    for ticket_id, value in sql.rows_for_ids(OBSERVABLES_SQL, ticket_ids):
        parts[ticket_id].body.append(value)
        parts[ticket_id].identifiers.append(value)
    return parts


def new_ticket_search_parts(new: list[NewTicket]) -> dict[int, DocumentParts]:
    """`ticket_search_parts` of tickets being opened, from their drafts, with no query.

    Such a ticket has no alert yet (alert ingest attaches its alerts after the opening returns), and
    its observables are its draft's, each (type, value) linked once, in the draft's order, by the
    opening (`observables_link_found`, fresh: the link ids, which order them, follow that order).
    """
    parts = {}
    for item in new:
        values = [value for _kind, value in dict.fromkeys(item.draft.observables)]
        if values:
            parts[item.ticket.pk] = DocumentParts(body=values, identifiers=list(values))
    return parts


def normalised_term(text: str) -> str | None:
    """A typed word as the observable value it stands for: hxxp://evil[.]example -> http://evil.example."""
    pair = obs.normalise("auto", text)
    if pair is None or pair[0] == "other":
        return None
    return pair[1]


def observable_field(field: str, value: str) -> Q:
    """`ip:`, `hash:`, `domain:`, `host:`, `user:`, `file:`: tickets carrying that observable (refanged,
    normalised as on ingest); ValueError with a message when the value is not one of that kind."""
    hashes = []
    for kind in FIELD_TYPES[field]:
        pair = obs.normalise(kind, value)
        if pair is not None:
            hashes.append(obs.value_hash(*pair))
            if kind == "domain" and pair[0] == "domain":  # internal names are stored as host names
                hashes.append(obs.value_hash("hostname", pair[1]))
    if not hashes:
        raise ValueError(f"{value!r} is not a valid {field} value for {field}: in the search.")
    carrying = TicketObservable.objects.filter(observable__value_hash__in=hashes).values("ticket_id")
    return Q(pk__in=carrying)
