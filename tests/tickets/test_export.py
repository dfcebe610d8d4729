"""Exporting a queue, saved search or search from the console as CSV or JSON, streamed."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.audit.models import AuditEvent
from socdesk.tickets import services
from socdesk.tickets.export import HEADER, export_rows
from socdesk.tickets.models import Ticket
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db


def _ticket(people, subject, *, severity="medium", department=None, tags=(), email=""):
    return services.ticket_create(
        actor=people.actor(people.admin),
        subject=subject,
        department=department or people.soc,
        severity=severity,
        tags=list(tags),
        requester_email=email,
        requester_name="Dana Reyes" if email else "",
    )


def _body(response) -> str:
    assert response.streaming, "an export is streamed"
    return b"".join(response.streaming_content).decode()


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_body(response))))


def test_a_queue_exports_as_csv_with_every_column_in_the_queues_order(people):
    first = _ticket(
        people, "Beacon to 203.0.113.7", severity="critical", tags=["c2", "edr"], email="d@x.test"
    )
    second = _ticket(people, "Printer jam", severity="low")
    _ticket(people, "Wi-Fi down", department=people.it)  # alice cannot see IT's tickets
    response = client_for(people.alice).get("/tickets/export?queue=open&sort=-number&page=3&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="socdesk-tickets-')
    rows = _csv(response)
    assert [row["number"] for row in rows] == [first.number, second.number]  # the page number is ignored
    assert list(rows[0]) == HEADER
    assert rows[0]["subject"] == "Beacon to 203.0.113.7" and rows[0]["severity"] == "critical"
    assert rows[0]["department"] == "SOC" and rows[0]["tags"] == "c2; edr"
    assert rows[0]["requester_email"] == "d@x.test" and rows[0]["requester_name"] == "Dana Reyes"
    assert rows[0]["created_at"].endswith("Z") and rows[0]["resolved_at"] == ""


def test_a_filtered_search_exports_only_its_matches_as_json(people):
    hit = _ticket(people, "Beacon to 203.0.113.7", severity="critical")
    _ticket(people, "Beacon to 198.51.100.9", severity="low")
    _ticket(people, "Printer jam", severity="critical")
    response = client_for(people.alice).get("/tickets/export?q=beacon&severity=critical&format=json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    items = json.loads(_body(response))
    assert [item["number"] for item in items] == [hit.number]
    assert items[0]["tags"] == [] and items[0]["custom_fields"] == {}
    assert set(items[0]) == set(HEADER)


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(people):
    _ticket(people, '=HYPERLINK("http://evil.example","click")', tags=["@ops"])
    rows = _csv(client_for(people.alice).get("/tickets/export?queue=all"))
    assert rows[0]["subject"] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows[0]["tags"] == "'@ops"
    # JSON carries the text as it is: it is never run.
    items = json.loads(_body(client_for(people.alice).get("/tickets/export?queue=all&format=json")))
    assert items[0]["subject"].startswith("=HYPERLINK")


def test_another_departments_tickets_are_never_exported(people):
    _ticket(people, "Wi-Fi down", department=people.it)
    mine = _ticket(people, "Beacon")
    # Even asked for by id, IT's department is not alice's to read.
    rows = _csv(client_for(people.alice).get(f"/tickets/export?queue=all&department={people.it.pk}"))
    assert rows == []
    rows = _csv(client_for(people.carol).get("/tickets/export?queue=all"))
    assert [row["subject"] for row in rows] == ["Wi-Fi down"] and mine.number not in str(rows)


def test_an_export_is_audited_before_it_is_sent(people):
    _ticket(people, "Beacon")
    before = AuditEvent.objects.count()
    response = client_for(people.alice).get("/tickets/export?queue=open&severity=high&format=json")
    _body(response)
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "tickets.exported" and event.actor_label.startswith("alice")
    assert event.after == {"format": "json", "query": "queue=open&severity=high", "via": "console"}


@pytest.mark.parametrize(
    "query, sentence",
    [
        ("format=xlsx", "There is no export format 'xlsx'; use csv or json."),
        ("severity=urgent", "The export was not made:"),
    ],
)
def test_a_wrong_format_or_filter_is_a_sentence_and_nothing_is_recorded(people, query, sentence):
    before = AuditEvent.objects.count()
    response = client_for(people.alice).get(f"/tickets/export?{query}")
    assert response.status_code == 400 and sentence in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_the_queue_page_links_its_export_with_its_filters(people):
    _ticket(people, "Beacon", severity="critical")
    html = client_for(people.alice).get("/tickets/?queue=open&severity=critical&page=1").content.decode()
    assert 'href="/tickets/export?queue=open&amp;severity=critical&amp;format=csv"' in html
    assert 'href="/tickets/export?queue=open&amp;severity=critical&amp;format=json"' in html
    assert "Export all 1:" in html


def test_a_saved_search_exports_its_own_filter(people):
    _ticket(people, "Beacon", severity="critical")
    _ticket(people, "Printer jam", severity="low")
    saved = services.saved_search_create(
        actor=people.actor(people.alice), name="Criticals", query="queue=open&severity=critical"
    )
    html = client_for(people.alice).get(f"/tickets/saved/{saved.pk}/").content.decode()
    assert 'href="/tickets/export?queue=open&amp;severity=critical&amp;format=csv"' in html


def test_rows_are_read_in_chunks_with_one_tag_query_each(people):
    for n in range(5):
        _ticket(people, f"Alert {n}", tags=[f"t{n}"])
    qs = Ticket.objects.order_by("id")
    with CaptureQueriesContext(connection) as queries:
        rows = list(export_rows(qs, chunk=2))
    assert [row["tags"] for row in rows] == [[f"t{n}"] for n in range(5)]
    # The rows (one query, or one per chunk where the driver pages them), and one tags query per chunk.
    tag_queries = [
        q for q in queries.captured_queries if "tag" in q["sql"].lower() and "subject" not in q["sql"]
    ]
    assert len(tag_queries) == 3
    assert len(queries.captured_queries) <= 3 + 4
