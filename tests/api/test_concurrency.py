"""Two clients editing the same ticket version at once: exactly one wins, the other gets 409."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create
from tests.api.conftest import ApiClient, make_key


@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_of_one_version_one_wins():
    people = make_personas()
    ticket = ticket_create(actor=Actor.system("t"), subject="race", department=people.soc)
    key = make_key(["tickets:read", "tickets:write"])
    statuses, barrier = [], threading.Barrier(2)

    def edit(severity):
        try:
            barrier.wait(timeout=10)
            r = ApiClient(key).patch(f"tickets/{ticket.number}", {"version": 1, "severity": severity})
            statuses.append(r.status_code)
        finally:
            connection.close()  # each thread has its own connection; do not leak it

    threads = [threading.Thread(target=edit, args=(s,)) for s in ("low", "critical")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    assert Ticket.objects.get(pk=ticket.pk).version == 2
