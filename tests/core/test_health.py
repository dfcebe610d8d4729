import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == connection.vendor


@pytest.mark.django_db
def test_healthz_reports_database_failure(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "error"


@pytest.mark.django_db
def test_healthz_tells_monitors_how_many_deliveries_wait_and_for_how_long(client):
    from datetime import timedelta

    from django.utils import timezone

    from socdesk.alerts.ingest import delivery_receive

    assert client.get("/healthz").json()["ingest"] == {
        "waiting": 0,
        "oldest_waiting_seconds": None,
        "failed": 0,
    }
    old = delivery_receive(adapter="alertmanager", body=b"{}")
    delivery_receive(adapter="alertmanager", body=b"{}")
    type(old).objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    ingest = client.get("/healthz").json()["ingest"]
    assert ingest["waiting"] == 2 and 299 <= ingest["oldest_waiting_seconds"] <= 330


@pytest.mark.django_db
def test_healthz_is_ok_when_the_backlog_cannot_be_read(client, monkeypatch):
    """A database not migrated yet (serve warns and starts anyway) answers SELECT 1 but has no tables."""
    from django.db import DatabaseError

    from socdesk.ops import views

    def no_table():  # fault injection: what the query raises before `socdesk upgrade`
        raise DatabaseError("no such table: alerts_webhookdelivery")

    monkeypatch.setattr(views, "ingest_backlog", no_table)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["ingest"] is None
