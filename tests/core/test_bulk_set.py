"""bulk_set: saved instances' fields written back in one statement per batch, as bulk_update would store them.

PostgreSQL sends one array per column to a statement whose text depends only on the fields; SQLite joins
a VALUES list.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from socdesk.core.sql import bulk_set, insert_new
from socdesk.tickets.choices import Severity, Source
from socdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

FIELDS = ["subject", "severity", "assignee", "due_at", "extra", "custom_fields", "version", "resolved_at"]
ODD = 'tab\there, back\\slash, {braces}, "quotes", NULL, comma, and «ünïcode»'


def _tickets(people, tag: str, count: int) -> list[Ticket]:
    now = timezone.now()
    tickets = [
        Ticket(
            number=f"{tag}-{n}",
            subject="before",
            severity=Severity.LOW,
            source=Source.ALERT,
            department=people.soc,
            assignee=people.alice,
            due_at=now,
            extra={"n": n},
            created_at=now,
            last_activity_at=now,
        )
        for n in range(count)
    ]
    insert_new(tickets)
    return tickets


# Not UTC, to the microsecond: the column stores the instant whatever zone the value is in.
WHEN = (timezone.now() - timedelta(days=2, microseconds=3)).astimezone(timezone.get_fixed_timezone(330))


def _change(tickets: list[Ticket], people) -> None:
    for n, ticket in enumerate(tickets):
        ticket.subject = ODD if n % 2 else ""
        ticket.severity = Severity.CRITICAL  # a member: its value is stored, never its name
        ticket.assignee = None if n % 2 else people.bob  # NULLs between values, and first
        ticket.due_at = None if n % 3 == 0 else WHEN
        # JSON: objects with nulls, a JSON string that must stay a string, a list, an odd text.
        ticket.extra = [{"none": None, "big": 2**62, "yes": True}, '{"not": "an object"}', [ODD, 1.5], ODD][
            n % 4
        ]
        ticket.custom_fields = {"odd": ODD, "n": n}
        ticket.version = 7 + n
        ticket.resolved_at = None  # a column with no value at all but NULL


def _stored(tickets: list[Ticket]) -> list[tuple]:
    return list(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets])
        .order_by("id")
        .values_list(
            "subject", "severity", "assignee", "due_at", "extra", "custom_fields", "version", "resolved_at"
        )
    )


def test_values_read_back_exactly_as_bulk_update_stores_them(people):
    """Side by side with Django's own bulk_update: NULLs, JSON values and datetimes in any zone."""
    ours, django = _tickets(people, "ours", 6), _tickets(people, "django", 6)
    _change(ours, people)
    _change(django, people)
    bulk_set(ours, FIELDS)
    Ticket.objects.bulk_update(django, FIELDS)
    assert _stored(ours) == _stored(django)
    first, second = _stored(ours)[:2]
    assert first[2] == people.bob.pk and second[2] is None and first[3] is None and second[3] == WHEN
    assert second[4] == '{"not": "an object"}' and second[0] == ODD


def test_one_statement_per_batch_whose_text_does_not_depend_on_the_rows(people):
    tickets = _tickets(people, "t", 5)
    _change(tickets, people)
    sent: list[tuple[str, list]] = []

    def remember(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(remember):
        bulk_set(tickets, FIELDS, batch=2)
        bulk_set(tickets[:1], FIELDS)
    assert len(sent) == 4  # batches of 2, 2 and 1, then one
    assert _stored(tickets)[4][6] == 11
    if connection.vendor == "postgresql":
        # One array a column (the id's first), not one placeholder a value: psycopg parses the text once.
        assert len({sql for sql, _ in sent}) == 1
        assert [len(params) for _, params in sent] == [len(FIELDS) + 1] * 4
        assert sent[0][1][0] == [tickets[0].pk, tickets[1].pk]
