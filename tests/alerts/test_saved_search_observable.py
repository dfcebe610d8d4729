"""A saved search filtered on an observable: kept as type:value, counted without a lookup per search."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.alerts.models import Observable
from socdesk.alerts.ticket_observables import ticket_observable_add
from socdesk.core.actor import Actor
from socdesk.tickets.services import saved_search_create
from tests.console_helpers import client_for


def test_an_observable_chosen_by_id_is_saved_as_its_value_and_counted_in_bounded_queries(people, soc_ticket):
    actor = Actor.for_agent(people.alice)
    ticket_observable_add(actor=actor, ticket=soc_ticket, type="ip", value="203.0.113.7")
    observable = Observable.objects.get()
    saved = saved_search_create(actor=actor, name="IP 0", query=f"queue=all&observable={observable.pk}")
    assert saved.query == "queue=all&observable=ip%3A203.0.113.7"

    alice = client_for(people.alice)
    with CaptureQueriesContext(connection) as one:
        html = alice.get("/").content.decode()
    assert f'data-saved-count="{saved.pk}">1<' in html
    for n in range(1, 10):
        saved_search_create(actor=actor, name=f"IP {n}", query=f"queue=all&observable={observable.pk}")
    with CaptureQueriesContext(connection) as ten:
        alice.get("/")
    assert len(ten.captured_queries) == len(one.captured_queries)
