"""Every queue column sorts, by one table of sortable columns; severity and status by rank, not spelling."""

from __future__ import annotations

import re

import pytest
from django.http import QueryDict

from socdesk.tickets import services
from socdesk.tickets.filters import TicketFilter, queue_tickets
from socdesk.tickets.sorting import SORT_COLUMNS, SORT_KEYS, sort_header
from tests.console_helpers import client_for

ROW_NUMBERS = re.compile(r'name="ticket" value="([^"]+)"')


@pytest.fixture
def spread(people):
    """Five tickets, one per severity, created in an order that is neither by rank nor alphabetical."""
    actor = people.actor(people.alice)
    made = {}
    for severity, subject, requester in (
        ("medium", "Beacon", "m@example.test"),
        ("critical", "Ransom note", "c@example.test"),
        ("info", "Scan", ""),
        ("high", "Admin login", "h@example.test"),
        ("low", "Password reset", "l@example.test"),
    ):
        made[severity] = services.ticket_create(
            actor=actor,
            subject=subject,
            department=people.soc,
            severity=severity,
            requester_email=requester,
            assignee=people.bob if severity in ("high", "info") else None,
        )
    return made


def _numbers(client, sort: str) -> list[str]:
    response = client.get(f"/tickets/?queue=all&sort={sort}")
    assert response.status_code == 200
    return ROW_NUMBERS.findall(response.content.decode())


def test_severity_sorts_by_rank_most_severe_first_and_reverses(people, spread):
    alice = client_for(people.alice)
    by_rank = [spread[s].number for s in ("critical", "high", "medium", "low", "info")]
    assert _numbers(alice, "severity") == by_rank
    assert _numbers(alice, "-severity") == by_rank[::-1]


def test_text_columns_sort_alphabetically_with_empty_values_last(people, spread):
    alice = client_for(people.alice)
    subjects = _numbers(alice, "subject")
    assert subjects == [spread[s].number for s in ("high", "medium", "low", "critical", "info")]
    assert _numbers(alice, "-subject") == subjects[::-1]
    # Unassigned tickets come after the assigned ones in both directions.
    assigned = {spread["high"].number, spread["info"].number}
    assert set(_numbers(alice, "assignee")[:2]) == assigned
    assert set(_numbers(alice, "-assignee")[:2]) == assigned
    assert _numbers(alice, "requester")[-1] == spread["info"].number
    assert _numbers(alice, "-requester")[-1] == spread["info"].number


@pytest.mark.parametrize("sort", SORT_KEYS)
def test_every_sort_key_answers_every_ticket_once(people, spread, sort):
    numbers = _numbers(client_for(people.alice), sort)
    assert sorted(numbers) == sorted(t.number for t in spread.values())


def test_every_column_of_the_queue_header_is_a_sort_link(people, spread):
    html = client_for(people.alice).get("/tickets/?queue=all&sort=-severity").content.decode()
    head = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    links = re.findall(r'data-sort="([^"]+)"', head)
    # Every column but the checkbox, each asking for its natural order (severity: back to most severe first).
    assert sorted(links) == sorted(c.key for c in SORT_COLUMNS if c.key != "due")
    # Sorted least severe first now: the header says so and its link goes back to most severe first.
    assert '<th aria-sort="ascending"><a href="?queue=all&amp;sort=severity" data-sort="severity">' in head


def test_unknown_sort_is_explained_not_a_500(people, spread):
    response = client_for(people.alice).get("/tickets/?queue=all&sort=severity;drop table")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown sort" in html and "use one of:" in html
    assert "{#" not in html and "{%" not in html  # no template comment leaks onto the page
    assert len(ROW_NUMBERS.findall(html)) == 5  # the default order instead


def test_sort_header_marks_the_direction_of_the_current_sort():
    header = sort_header("subject")
    assert header["subject"] == {"label": "Subject", "next": "-subject", "aria": "ascending", "arrow": "▾"}
    assert header["activity"]["aria"] == "" and header["activity"]["next"] == "activity"
    assert sort_header("-activity")["activity"]["aria"] == "ascending"
    assert sort_header("severity")["severity"]["aria"] == "descending"


@pytest.mark.parametrize("sort", ["severity", "-status", "assignee", "requester", "department"])
def test_sorted_queue_reads_its_rows_in_one_query(people, spread, sort, django_assert_num_queries):
    tickets = queue_tickets(people.alice, TicketFilter.from_querydict(QueryDict(f"queue=all&sort={sort}")))
    with django_assert_num_queries(1):
        rows = list(tickets.values("number")[:50])
    assert len(rows) == 5


def test_postgresql_reads_the_severity_sort_off_its_index(people, spread):
    """The rank expression of the sort and of the index (migration tickets 0003) stay the same."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the severity rank index exists on PostgreSQL only")
    for sort in ("severity", "-severity"):
        ticket_filter = TicketFilter.from_querydict(QueryDict(f"queue=all&sort={sort}"))
        tickets = queue_tickets(people.alice, ticket_filter)
        with connection.cursor() as cursor:
            # With sorting and full scans priced out, only an index that gives this order can serve it.
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = tickets.values("number")[:51].explain()
        assert "ticket_severity_rank_idx" in plan, plan
