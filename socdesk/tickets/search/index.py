"""Keeping the search documents current: written in the caller's transaction, and rebuilt on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.db import transaction

from socdesk.tickets.models import Ticket, TicketSearch
from socdesk.tickets.search.document import documents_for, documents_new
from socdesk.tickets.search.registry import NewTicket
from socdesk.tickets.search.sql import backend

REBUILD_CHUNK = 1000


def search_index(ticket_ids: Iterable[int | None]) -> None:
    """Rewrite the search documents of these tickets: one upsert for all of them.

    Called by every write that changes what a document holds (a new ticket, a thread entry, tags, a
    new subject, alerts and observables), inside that write's transaction, so a search never sees
    a ticket without what it was just given, and a rolled-back write leaves no trace in the index.
    """
    ids = sorted({int(pk) for pk in ticket_ids if pk is not None})
    if not ids:
        return
    _write(documents_for(ids))


def search_index_new(tickets: Sequence[NewTicket]) -> None:
    """Write the search documents of tickets opened in this transaction, from what their opener holds
    (nothing just written is read back): one upsert for all of them.

    Called by the opening (`ticket_create_many`) as soon as it has written the tickets, their first
    entries, tags and observables, before any after-create hook: a hook that adds to a ticket does so
    through the ticket services, which rewrite its document as every write does (`search_index`).
    """
    _write(documents_new(tickets))


def _write(documents: list[TicketSearch]) -> None:
    write = backend().write
    for start in range(0, len(documents), REBUILD_CHUNK):
        write(documents[start : start + REBUILD_CHUNK])


def search_rebuild(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Rewrite every ticket's search document, a chunk per transaction; returns how many were written.

    `progress(done, total)` is called after each chunk. Safe while the system runs: each chunk is
    written as the tickets are then, and writes in between keep their own documents current.
    """
    total = Ticket.objects.count()
    done, last = 0, 0
    while True:
        after = Ticket.objects.filter(pk__gt=last).order_by("pk")
        ids = list(after.values_list("pk", flat=True)[:REBUILD_CHUNK])
        if not ids:
            break
        with transaction.atomic():
            search_index(ids)
        done, last = done + len(ids), ids[-1]
        if progress:
            progress(done, max(total, done))
    backend().optimise()
    return done
