"""Marking tickets for the next fold: the tickets app's hooks append their ids to the journal in the
transaction that changed them (one bulk insert per batch), and a fold is asked for once it commits."""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from socdesk.core import sql
from socdesk.reports.models import DirtyTicket

if TYPE_CHECKING:
    from socdesk.tickets.hooks import TicketChange
    from socdesk.tickets.models import Ticket
    from socdesk.tickets.services.lifecycle import TicketDraft

# A process asks the worker for a fold at most this often; the periodic fold catches anything between.
ENQUEUE_EVERY_SECONDS = 2.0
_last_enqueued = 0.0


def tickets_mark(ticket_ids: Collection[int]) -> None:
    """Append these tickets to the journal (the caller's transaction), and ask for a fold after commit."""
    ids = sorted({int(pk) for pk in ticket_ids})
    if not ids:
        return
    # Plain rows: nothing reads the entries' ids back, and an instance and the ORM's insert for each
    # cost more than the rows (a batch of alerts marks hundreds).
    sql.copy_rows(DirtyTicket, ["ticket_id"], [(pk,) for pk in ids])
    # robust: a queue that cannot take the job must not stop the callbacks after it (the periodic fold
    # folds the journal anyway).
    transaction.on_commit(_fold_soon, robust=True)


def mark_created(tickets: list[Ticket], _drafts: list[TicketDraft], _now: datetime) -> None:
    tickets_mark([ticket.pk for ticket in tickets])


def mark_changed(change: TicketChange) -> None:
    tickets_mark([change.ticket.pk])


def mark_touched(ticket_ids: Collection[int]) -> None:
    tickets_mark(ticket_ids)


def _fold_soon() -> None:
    """Enqueue a fold job, at most every ENQUEUE_EVERY_SECONDS per process (ingest commits often)."""
    global _last_enqueued
    from huey.contrib.djhuey import HUEY

    if HUEY.immediate:
        return  # tasks in-process (tests, SOCDESK_TASKS_IMMEDIATE): no fold inside every writer's commit
    now = time.monotonic()
    if now - _last_enqueued < ENQUEUE_EVERY_SECONDS:
        return
    _last_enqueued = now
    from socdesk.reports.tasks import fold_task

    fold_task()
