"""Two agents merging the same duplicate into two different tickets at the same moment: one merge wins,
the other is refused, and nothing is half-moved, whatever the database."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.tickets.models import ThreadEntry, Ticket, TicketLink, TicketMerge
from socdesk.tickets.services import merge as module
from socdesk.tickets.services import ticket_create, ticket_merge, ticket_note


@pytest.mark.django_db(transaction=True)
def test_two_merges_of_one_source_at_once_one_wins_and_nothing_is_half_moved(monkeypatch):
    people = make_personas()
    alice, bob = Actor.for_agent(people.alice), Actor.for_agent(people.bob)
    source = ticket_create(actor=alice, subject="Duplicate report", department=people.soc, body="Same thing.")
    ticket_note(actor=bob, ticket=source, body="Probably the same as the others.")
    targets = [
        ticket_create(actor=alice, subject=f"Main case {n}", department=people.soc, body="The case.")
        for n in (1, 2)
    ]
    moving = set(ThreadEntry.objects.filter(ticket=source).values_list("pk", flat=True))
    if connection.vendor == "postgresql":
        # Both merges are inside their transactions before either takes the locks: only the row locks
        # (and the one-active-merge constraint) can stop the second. SQLite's IMMEDIATE transactions
        # already queue the second merge at its start.
        together, lock = threading.Barrier(2), module.lock_tickets

        def lock_together(*tickets):
            together.wait(timeout=10)
            return lock(*tickets)

        monkeypatch.setattr(module, "lock_tickets", lock_together)
    outcomes, errors = [], []

    def merge(actor, target):
        try:
            ticket_merge(actor=actor, source=source, target=target)
            outcomes.append(target.number)
        except ServiceError as exc:
            outcomes.append(exc.fields.get("source", exc.message))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=merge, args=(a, t)) for a, t in zip((alice, bob), targets, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    winner_number = next(o for o in outcomes if o != "merged")
    assert sorted(outcomes) == sorted([winner_number, "merged"])
    winner = Ticket.objects.get(number=winner_number)
    loser = next(t for t in targets if t.pk != winner.pk)
    merge_row = TicketMerge.objects.get()
    assert merge_row.target_id == winner.pk
    # Every entry of the source went to the winner; the loser got nothing, not even a thread line.
    assert moving <= set(ThreadEntry.objects.filter(ticket=winner).values_list("pk", flat=True))
    assert ThreadEntry.objects.filter(ticket=loser).count() == 1  # its first message only
    assert list(TicketLink.objects.values_list("to_ticket_id", flat=True)) == [winner.pk]
    assert Ticket.objects.get(pk=source.pk).resolution == "duplicate"
