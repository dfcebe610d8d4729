"""Round-robin under concurrency: processes opening tickets at the same moment never pick by a stale
pointer (both databases; on PostgreSQL the policy row lock is what makes it hold)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from socdesk.accounts.services import access_grant, agent_create
from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.routing.services.assignment import assignment_policy_set
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create

WRITERS = 4
EACH = 9


@pytest.mark.django_db(transaction=True)
def test_concurrent_ticket_openings_share_the_round_robin_fairly():
    people = make_personas()
    setup = Actor.system("test-setup")
    dave = agent_create(actor=setup, username="dave", email="dave@example.test", password=None)
    access_grant(actor=setup, agent=dave, department=people.soc, role=people.analyst)
    assignment_policy_set(actor=setup, department=people.soc, mode="round_robin")
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def open_tickets(writer: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(EACH):
                ticket_create(actor=setup, subject=f"writer {writer} ticket {i}", department=people.soc)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_tickets, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    order = [a for (a,) in Ticket.objects.order_by("pk").values_list("assignee_id")]
    assert len(order) == WRITERS * EACH
    # Each opening read the pointer the previous one wrote: strict turns, so equal shares.
    agents = [people.alice.pk, people.bob.pk, dave.pk]
    assert order == [agents[i % 3] for i in range(len(order))]
    assert set(Counter(order).values()) == {WRITERS * EACH // 3}
