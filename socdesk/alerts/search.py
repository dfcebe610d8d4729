"""The alerts app's part of ticket search: what alerts and observables add to a ticket's search
document, how a typed word is read as an observable, and the observable fields (`ip:`, `hash:`...).

Registered with socdesk.tickets.search by AlertsConfig.ready (tickets sits below alerts).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q
from django.db.models.functions import Substr

from socdesk.alerts import observables as obs
from socdesk.alerts.models import Alert, TicketObservable
from socdesk.tickets.search import DocumentParts

ALERTS_PER_TICKET = 50  # a grouped ticket's newest distinct alerts; older ones repeat the same words
DESCRIPTION_CHARS = 5_000
# field -> the observable types it matches (`host:` is a name or an address, whichever it is)
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "ip": ("ip",),
    "hash": ("hash",),
    "domain": ("domain", "hostname"),
    "host": ("host",),
    "user": ("user",),
}


def ticket_search_parts(ticket_ids: list[int]) -> dict[int, DocumentParts]:
    """Alert titles and descriptions (which carry the labels) and observable values of these tickets."""
    parts: dict[int, DocumentParts] = defaultdict(DocumentParts)
    counts: dict[int, int] = defaultdict(int)
    alerts = (
        Alert.objects.filter(ticket_id__in=ticket_ids)
        .order_by("ticket_id", "-last_seen", "-id")
        .values_list("ticket_id", "title", Substr("description", 1, DESCRIPTION_CHARS))
    )
    for ticket_id, title, description in alerts:
        if counts[ticket_id] < ALERTS_PER_TICKET:
            counts[ticket_id] += 1
            parts[ticket_id].body.extend([title, description])
    links = TicketObservable.objects.filter(ticket_id__in=ticket_ids).values_list(
        "ticket_id", "observable__value"
    )
    for ticket_id, value in links:
        parts[ticket_id].body.append(value)
        parts[ticket_id].identifiers.append(value)
    return parts


def normalised_term(text: str) -> str | None:
    """A typed word as the observable value it stands for: hxxp://evil[.]example -> http://evil.example."""
    pair = obs.normalise("auto", text)
    if pair is None or pair[0] == "other":
        return None
    return pair[1]


def observable_field(field: str, value: str) -> Q:
    """`ip:`, `hash:`, `domain:`, `host:`, `user:`: tickets carrying that observable (refanged,
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
