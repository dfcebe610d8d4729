"""Keeping the roll-ups: the incremental fold of journalled tickets, and the full rebuild.

Fold (run by the worker every few seconds and after writes; `socdesk reports fold`):

1. Claim up to `batch` journal rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent folds take
   different rows; SQLite's IMMEDIATE transaction holds the one write lock) and delete them.
2. Lock the tickets' facts in ticket order: a placeholder fact is inserted first for a ticket never
   folded (`ON CONFLICT DO NOTHING` waits for another fold inserting the same one), then the facts are
   read `FOR UPDATE`. Two folds that claimed the same ticket through different journal rows therefore
   run one after the other, and the second sees the first's fact: nothing is counted twice.
3. Read the tickets' current facts, apply new minus old to each roll-up with one additive upsert per
   table (keys sorted, so folds lock roll-up rows in one order and never deadlock), store the new facts.

All in one transaction: a fold that fails leaves the journal rows for the next one.

Rebuild (`socdesk reports rebuild`): empties the facts and roll-ups and recomputes them from every
ticket, a batch of tickets at a time (a fixed number of queries per batch), the roll-ups summed in
memory; facts and roll-ups go in with COPY on PostgreSQL (rows this transaction made, into tables it
emptied: nothing to conflict with; the rebuild-equals-fold test checks them against the fold's upserts).
It holds the reports lock exclusively; folds hold it shared, so none runs during a rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, Model

from socdesk.core import sql
from socdesk.reports.contributions import TABLES, Fact, Rows, accumulate, delta, summed
from socdesk.reports.facts import FACT_FIELDS, fact_of, facts_between, facts_read
from socdesk.reports.models import (
    DayAgent,
    DayCount,
    DayDuration,
    DayObservable,
    DayRule,
    DirtyTicket,
    TicketFact,
    WeekAgent,
    WeekDuration,
)
from socdesk.tickets.models import Ticket

REPORTS_LOCK_KEY = 0x50C_4E90
FACT_COLUMNS = ["ticket_id", *FACT_FIELDS, "observable_ids"]
FOLD_BATCH = 2000
REBUILD_BATCH = 10000
MODELS: dict[str, type[Model]] = {
    "count": DayCount,
    "duration": DayDuration,
    "rule": DayRule,
    "agent": DayAgent,
    "observable": DayObservable,
    "week_duration": WeekDuration,
    "week_agent": WeekAgent,
}


@dataclass
class FoldReport:
    """What a fold did: journal rows taken, distinct tickets recomputed."""

    journal_rows: int = 0
    tickets: int = 0


def fold(*, batch: int = FOLD_BATCH, until_empty: bool = True) -> FoldReport:
    """Fold the journal into the roll-ups, `batch` journal rows per transaction (all of it by default)."""
    report = FoldReport()
    while True:
        taken, tickets = _fold_batch(batch)
        report.journal_rows += taken
        report.tickets += tickets
        if not until_empty or taken < batch:
            return report


def _fold_batch(batch: int) -> tuple[int, int]:
    with transaction.atomic():
        sql.lock(REPORTS_LOCK_KEY, shared=True)
        claimed = list(
            sql.for_update_skip_locked(DirtyTicket.objects.order_by("id")).values_list("id", "ticket_id")[
                :batch
            ]
        )
        if not claimed:
            return 0, 0
        DirtyTicket.objects.filter(pk__in=[pk for pk, _ in claimed]).delete()
        ticket_ids = sorted({ticket_id for _, ticket_id in claimed})
        blank = _placeholder_values()
        sql.upsert_set(
            TicketFact, FACT_COLUMNS, [[pk, *blank] for pk in ticket_ids], unique=["ticket_id"], update=[]
        )
        stored = {
            row.ticket_id: row
            for row in sql.for_update(
                TicketFact.objects.filter(ticket_id__in=ticket_ids).order_by("ticket_id")
            )
        }
        current = facts_read(ticket_ids)
        change: Rows = {}
        for pk in ticket_ids:
            old = fact_of(stored[pk]) if pk in stored else None
            accumulate(change, delta(old, current.get(pk)))
        rollups_add(change)
        gone = [pk for pk in ticket_ids if pk not in current]
        TicketFact.objects.filter(ticket_id__in=gone).delete()
        facts_store(current.values())
        return len(claimed), len(ticket_ids)


def facts_store(facts: Iterable[Fact]) -> None:
    """Write these facts over the stored ones (inserting those not stored yet)."""
    rows = [_fact_values(fact) for fact in sorted(facts, key=lambda fact: fact.ticket_id)]
    sql.upsert_set(TicketFact, FACT_COLUMNS, rows, unique=["ticket_id"], update=FACT_COLUMNS[1:])


def rollups_add(rows: Rows) -> None:
    """Add rows (table -> key -> counts; negative counts take away) to the roll-up tables, keys sorted."""
    for table in sorted(rows):
        keyed = {key: counts for key, counts in rows[table].items() if any(counts)}
        if not keyed:
            continue
        keys, counts = TABLES[table]
        sql.upsert_add(MODELS[table], keys, counts, [(*key, *keyed[key]) for key in sorted(keyed)])
    # Rows whose counts all came back to zero (a ticket moved away) are left: readers skip them, and
    # the next `reports rebuild` drops them.


def rebuild(*, batch: int = REBUILD_BATCH, progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute every fact and roll-up from the tickets; returns the number of tickets counted."""
    with transaction.atomic():
        sql.lock(REPORTS_LOCK_KEY)
        # Journal rows committed before now are covered by this rebuild; later ones are folded after.
        last = DirtyTicket.objects.aggregate(last=Max("id"))["last"]
        if last is not None:
            DirtyTicket.objects.filter(id__lte=last).delete()
        models: list[type[Model]] = [TicketFact, *MODELS.values()]
        for model in models:
            model._default_manager.all().delete()
        total = Ticket.objects.count()
        done = 0
        after = 0
        rows: Rows = {}
        while True:
            ids = list(
                Ticket.objects.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            after = ids[-1]
            facts = facts_between(ids[0], ids[-1])
            # The tables were emptied above, in this transaction: plain COPY (PostgreSQL), no conflicts.
            sql.copy_rows(TicketFact, FACT_COLUMNS, [_fact_values(fact) for fact in facts.values()])
            accumulate(rows, summed(facts.values()))
            done += len(ids)
            if progress is not None:
                progress(done, total)
        for table in sorted(rows):
            keys, counts = TABLES[table]
            keyed = rows[table]
            sql.copy_rows(MODELS[table], [*keys, *counts], [(*key, *keyed[key]) for key in sorted(keyed)])
        return done


def _fact_values(fact: Fact) -> list[object]:
    return [fact.ticket_id, *(getattr(fact, name) for name in FACT_FIELDS), list(fact.observable_ids)]


def _placeholder_values() -> list[object]:
    """A placeholder fact's columns after its ticket id: each field's default (no `created_day`)."""
    blank = TicketFact()
    return [getattr(blank, name) for name in FACT_COLUMNS[1:]]
