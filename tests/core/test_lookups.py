"""`__in` lists and `sql.rows_for_ids`: one array parameter on PostgreSQL, the same rows as IN everywhere."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.models import Contact
from socdesk.tickets.models import ThreadEntry, Ticket


@pytest.fixture
def tickets(people):
    from socdesk.core.actor import Actor
    from socdesk.tickets.services import ticket_create

    actor = Actor.for_agent(people.alice)
    return [
        ticket_create(
            actor=actor,
            subject=f"Beacon {n}",
            department=people.soc,
            body="seen",
            requester_email=f"r{n}@example.test",
        )
        for n in range(4)
    ]


def test_lists_select_the_same_rows_as_in(tickets):
    ids = [t.pk for t in tickets]
    assert set(Ticket.objects.filter(pk__in=[ids[0], ids[2], None, ids[2]]).values_list("pk", flat=True)) == {
        ids[0],
        ids[2],
    }
    assert not Ticket.objects.filter(pk__in=[]).exists()
    assert not Ticket.objects.filter(pk__in=[None]).exists()
    assert Ticket.objects.exclude(pk__in=[ids[0]]).count() == 3
    assert Ticket.objects.exclude(pk__in=[]).count() == 4
    # a foreign key, with ids and with model instances
    assert ThreadEntry.objects.filter(ticket_id__in=ids[:2]).count() == 2
    assert ThreadEntry.objects.filter(ticket__in=tickets[:3]).count() == 3
    # a text column, and a subquery (which keeps Django's IN)
    emails = ["r1@example.test", "r3@example.test", "nobody@example.test"]
    assert Contact.objects.filter(email__in=emails).count() == 2
    assert Ticket.objects.filter(requester__in=Contact.objects.filter(email__in=emails)).count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the array form is PostgreSQL's")
def test_on_postgresql_a_list_is_one_array_parameter(tickets):
    ids = [t.pk for t in tickets]
    with CaptureQueriesContext(connection) as queries:
        list(Ticket.objects.filter(pk__in=ids).values_list("pk", flat=True))
        list(Contact.objects.filter(email__in=["r1@example.test"]).values_list("pk", flat=True))
    first, second = (q["sql"] for q in queries.captured_queries)
    assert "= ANY (" in first and "::bigint[]" in first
    assert "= ANY (" in second and "::varchar(254)[]" in second


def test_rows_for_ids_reads_the_rows_of_those_ids_only(tickets):
    from socdesk.core import sql

    ids = [t.pk for t in tickets]
    query = "SELECT id, subject FROM tickets_ticket WHERE {ids:id} ORDER BY id"
    assert sql.rows_for_ids(query, [ids[3], ids[1], ids[1]]) == [
        (ids[1], "Beacon 1"),
        (ids[3], "Beacon 3"),
    ]
    assert sql.rows_for_ids(query, [max(ids) + 1000]) == []
    with CaptureQueriesContext(connection) as queries:
        assert sql.rows_for_ids(query, []) == []
    assert not queries.captured_queries  # nothing to read: no statement
