"""Ticket numbers stay unique when many requests create tickets at once."""

import threading

import pytest
from django.db import connection

from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gives_unique_numbers():
    people = make_personas()
    workers, per_worker = 8, 10
    errors = []

    def work():
        try:
            for _ in range(per_worker):
                ticket_create(actor=Actor.system("bench"), subject="parallel", department=people.soc)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == workers * per_worker == len(set(numbers))
