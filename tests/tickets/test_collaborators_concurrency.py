"""Two agents copying the same address on a ticket at the same moment: one adds it, the other is told it
is there already (never a database error, never two rows), whatever the database."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.tickets.models import Collaborator
from socdesk.tickets.services import collaborator_add, collaborators_add_from_email, ticket_create
from socdesk.tickets.services import collaborators as module


@pytest.mark.django_db(transaction=True)
def test_two_adds_of_one_address_at_once_add_it_once(monkeypatch):
    people = make_personas()
    ticket = ticket_create(actor=Actor.for_agent(people.alice), subject="Race", department=people.soc)
    if connection.vendor == "postgresql":
        # Both calls are inside their transactions, past their first reads, before the second takes the
        # ticket's lock: only the lock (and the unique constraint) can stop a second row. (SQLite's
        # IMMEDIATE transactions already queue the second call at its start.)
        together, normalise = threading.Barrier(2), module.normalise_address

        def normalise_together(email):
            address = normalise(email)
            together.wait(timeout=10)
            return address

        monkeypatch.setattr(module, "normalise_address", normalise_together)
    outcomes, errors = [], []

    def by_agent():
        try:
            collaborator_add(actor=Actor.for_agent(people.bob), ticket=ticket, email="eve@example.test")
            outcomes.append("added")
        except ServiceError as exc:
            outcomes.append(exc.fields.get("email", exc.message))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def by_mail():
        try:
            added = collaborators_add_from_email(
                actor=Actor.system("mail:pipe"), ticket=ticket, people=[("", "EVE@example.test")]
            )
            outcomes.append("added" if added else "skipped")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=by_agent), threading.Thread(target=by_mail)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) in (["added", "skipped"], ["added", "duplicate"])
    assert Collaborator.objects.filter(ticket=ticket).count() == 1
