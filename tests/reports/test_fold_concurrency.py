"""Two folds at once never count a ticket twice: on PostgreSQL they claim different journal rows (SKIP
LOCKED) and wait on each other's facts; on SQLite the IMMEDIATE transaction runs them one at a time."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.reports.fold import fold, rebuild
from socdesk.reports.journal import tickets_mark
from socdesk.reports.models import DirtyTicket
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft, ticket_create_many

from .test_rollups_agree import rollup_rows

TICKETS = 80


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
    # Tickets change and each is journalled twice in a row: with an odd batch, the two rows of a ticket
    # at each batch's edge go to two folds claiming at the same moment.
    Ticket.objects.filter(pk__in=ids).update(severity="critical")
    Ticket.objects.filter(pk__in=ids[::2]).update(team=people.tier1)
    Ticket.objects.filter(pk__in=ids[1::3]).update(severity="low", department=people.it)
    for pk in ids:
        tickets_mark([pk])
        tickets_mark([pk])
    assert DirtyTicket.objects.count() == 2 * TICKETS
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    folded: list[int] = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            folded.append(fold(batch=7).journal_rows)
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
    assert sum(folded) == 2 * TICKETS and not DirtyTicket.objects.exists()
    after_folds = rollup_rows()
    rebuild()
    assert rollup_rows() == after_folds
