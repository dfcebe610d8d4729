"""Two folds at once never count a ticket twice: on PostgreSQL they claim different journal rows (SKIP
LOCKED) and wait on each other's facts; on SQLite the IMMEDIATE transaction runs them one at a time."""

from __future__ import annotations

import importlib
import threading

import pytest
from django.db import connection

from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.reports.fold import REPORTS_LOCK_KEY, fold, rebuild
from socdesk.reports.journal import tickets_mark
from socdesk.reports.models import DirtyTicket
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft, ticket_create_many

from .test_rollups_agree import rollup_rows

TICKETS = 40
MARKS = 5  # journal rows per ticket, in a row


@pytest.mark.django_db(transaction=True)
def test_two_folds_at_once_count_each_ticket_once():
    people = make_personas()
    ids = [
        ticket.pk
        for ticket in ticket_create_many(
            [
                TicketDraft(actor=Actor.system("ingest"), subject=f"Alert {i}", department=people.soc)
                for i in range(TICKETS)
            ]
        )
    ]
    fold()
    # Every ticket changes and is journalled MARKS times in a row; folds of one journal row at a time
    # then take rows of the same ticket at the same moment, and both read its fact before either writes.
    Ticket.objects.filter(pk__in=ids).update(severity="critical")
    Ticket.objects.filter(pk__in=ids[::2]).update(team=people.tier1)
    Ticket.objects.filter(pk__in=ids[1::3]).update(severity="low", department=people.it)
    for pk in ids:
        for _ in range(MARKS):
            tickets_mark([pk])
    assert DirtyTicket.objects.count() == MARKS * TICKETS
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    folded: list[int] = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            folded.append(fold(batch=1).journal_rows)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(folded) == MARKS * TICKETS and not DirtyTicket.objects.exists()
    after_folds = rollup_rows()
    rebuild()
    assert rollup_rows() == after_folds


@pytest.mark.django_db(transaction=True)
def test_a_fold_waits_for_the_upgrade_filling_the_weekly_rollups():
    """The migration that fills the weekly tables holds the reports lock exclusively, as a rebuild does,
    so a fold (which takes it shared) cannot change the daily rows while they are being summed."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: a fold cannot run beside the fill")
    from django.apps import apps
    from django.db import connections, transaction

    fill = importlib.import_module("socdesk.reports.migrations.0003_weekly_duration_agent_rollups")
    taken: list[bool] = []

    def fold_tries_its_lock() -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock_shared(%s)", [REPORTS_LOCK_KEY])
            taken.append(cursor.fetchone()[0])
            if taken[-1]:
                cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [REPORTS_LOCK_KEY])
        connections.close_all()

    with transaction.atomic():
        fill.sum_daily_rows_into_weeks(apps, None)
        during = threading.Thread(target=fold_tries_its_lock)
        during.start()
        during.join()
    after = threading.Thread(target=fold_tries_its_lock)
    after.start()
    after.join()
    assert taken == [False, True]
