"""Workers racing for the same outgoing messages (several task runs and the sweep at once): each message
is claimed by one of them and reaches the mail server once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.mail.models import OutboundMessage
from socdesk.mail.sending import outbound_send
from socdesk.tickets.services import ticket_create, ticket_reply


@pytest.mark.django_db(transaction=True)
def test_racing_workers_send_each_message_once(smtp):
    people = make_personas()
    alice = Actor.for_agent(people.alice)
    tickets = [
        ticket_create(
            actor=alice, subject=f"Race {i}", department=people.soc, requester_email=f"user{i}@example.test"
        )
        for i in range(3)
    ]
    for ticket in tickets:
        ticket_reply(actor=alice, ticket=ticket, body="On it.")
    # Each ticket's auto-response and reply, queued for a worker (tasks do not run inline here).
    ids = list(OutboundMessage.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) == 6 and smtp.messages == []

    sent, errors, barrier = [], [], threading.Barrier(4)

    def worker(order):
        try:
            barrier.wait(timeout=10)
            sent.append(outbound_send(order))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection; do not leak it

    orders = [ids, list(reversed(ids)), ids, list(reversed(ids))]
    threads = [threading.Thread(target=worker, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(sent) == 6
    assert sorted(rcpt[0] for rcpt, _ in smtp.messages) == sorted(
        2 * [f"user{i}@example.test" for i in range(3)]
    )
    assert set(OutboundMessage.objects.values_list("status", "attempts")) == {("sent", 1)}
