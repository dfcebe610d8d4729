"""The webhook acknowledgement's shortcuts give what the general code gives: the kept headers read from
META, and delivery columns prepared once per process."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from socdesk.alerts.ingest import group_commit, kept_headers
from socdesk.alerts.ingest.deliveries import KEPT_HEADERS
from socdesk.alerts.models import WebhookDelivery


def test_kept_headers_are_those_request_headers_gives():
    request = RequestFactory().post(
        "/api/v1/hooks/grafana",
        data=b"{}",
        content_type="application/json; charset=utf-8",
        headers={
            "User-Agent": "Grafana/11.1",
            "X-Grafana-Alert-Signature": "sha256=ab",
            "X-Forwarded-For": "198.51.100.7",
            "X-Request-Id": "r-1",
            "X-Splunk-Request-Channel": "c-1",
            "X-API-Key": "sdk_secret",  # never kept
            "Cookie": "a=b",
        },
    )
    expected = {name: value for name, value in request.headers.items() if name in KEPT_HEADERS}
    assert kept_headers(request.META) == expected and len(expected) == len(KEPT_HEADERS)
    bare = RequestFactory().post("/api/v1/hooks/grafana", data=b"{}", content_type="application/json")
    assert kept_headers(bare.META) == {"Content-Type": "application/json"}


@pytest.mark.django_db
def test_delivery_columns_prepared_once_are_those_each_row_would_get(make_integration):
    first, second = make_integration("alertmanager"), make_integration("grafana")

    def delivery(integration, **values):
        return WebhookDelivery(
            integration=integration,
            adapter=integration.adapter,
            body=b'{"a": 1}',
            content_type=values.pop("content_type", "application/json"),
            headers={"User-Agent": "x"},
            received_at=timezone.now(),
            client_ip=values.pop("client_ip", "127.0.0.1"),
            **values,
        )

    def prepared_one_by_one(row):
        fields = group_commit._fields()
        return [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]

    rows = [
        delivery(first),
        delivery(second, content_type="text/plain", client_ip="2001:db8::1", attempts=3, error="e"),
        delivery(first, client_ip=None, status="failed", alert_count=2),
        delivery(second),
    ]
    for row in rows + rows:  # the second round reads what the first remembered
        assert _comparable(group_commit._values(row)) == _comparable(prepared_one_by_one(row))
    # What a row stores is what it was given, whichever rows came before it.
    ids = [group_commit.insert(row) for row in rows]
    stored = WebhookDelivery.objects.in_bulk(ids)
    assert [(stored[i].integration_id, stored[i].client_ip, stored[i].attempts) for i in ids] == [
        (first.pk, "127.0.0.1", 0),
        (second.pk, "2001:db8::1", 3),
        (first.pk, None, 0),
        (second.pk, "127.0.0.1", 0),
    ]
    assert [stored[i].content_type for i in ids][:2] == ["application/json", "text/plain"]


def _comparable(values):
    # Database adapters wrap some values (bytes, an IP address, JSON) in objects without equality.
    return [
        bytes(value)
        if isinstance(value, memoryview)
        else value
        if isinstance(value, (int, str, bytes, type(None)))
        else repr(value)
        for value in values
    ]


@pytest.mark.django_db
def test_delivery_rows_go_to_postgresql_with_their_values_beside_the_statement():
    if connection.vendor != "postgresql":
        pytest.skip("server-side binding is PostgreSQL's; SQLite binds in-process")
    import psycopg

    with group_commit._cursor() as cursor:
        # Django's own wrapper (query logging, error translation) around a server-binding cursor
        # that sends the statement as it is written, with PostgreSQL's own placeholders.
        assert not isinstance(cursor.cursor, psycopg.ClientCursor)
        assert isinstance(cursor.cursor, psycopg.RawCursor)
        cursor.execute("SELECT $1::text, $2::int, $3::bytea", ["it's", 7, b"\x00\x01"])
        assert cursor.fetchone() == ("it's", 7, b"\x00\x01")


@pytest.mark.django_db
def test_a_group_insert_on_postgresql_is_logged_and_stores_each_row_in_order(make_integration):
    if connection.vendor != "postgresql":
        pytest.skip("numbered placeholders are PostgreSQL's")
    from django.test.utils import CaptureQueriesContext

    integration = make_integration("alertmanager")
    rows = [
        group_commit._values(
            WebhookDelivery(
                integration=integration if number % 2 else None,
                adapter="alertmanager",
                body=b'{"n": %d}' % number,
                content_type="application/json",
                headers={"X-Request-Id": str(number)},
                received_at=timezone.now(),
                client_ip="2001:db8::1" if number % 3 else None,
                alert_count=number,
            )
        )
        for number in range(7)
    ]
    with CaptureQueriesContext(connection) as queries:
        ids = group_commit._insert_rows(rows)
    [query] = queries.captured_queries
    assert "%s" not in query["sql"] and "$91" in query["sql"]  # seven rows of thirteen columns
    stored = WebhookDelivery.objects.in_bulk(ids)
    assert [stored[i].alert_count for i in ids] == list(range(7))
    assert [bytes(stored[i].body) for i in ids] == [b'{"n": %d}' % number for number in range(7)]
    assert [stored[i].headers["X-Request-Id"] for i in ids] == [str(number) for number in range(7)]
    assert [stored[i].integration_id for i in ids] == [integration.pk if n % 2 else None for n in range(7)]
    assert [stored[i].client_ip for i in ids] == ["2001:db8::1" if n % 3 else None for n in range(7)]
