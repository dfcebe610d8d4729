"""Keeping the search documents current: written in the caller's transaction, and rebuilt on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction

from socdesk.tickets.models import Ticket
from socdesk.tickets.search.document import documents_for
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
    documents, write = documents_for(ids), backend().write
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
