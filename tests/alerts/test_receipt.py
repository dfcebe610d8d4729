"""Hot paths of machine requests: the WSGI short way in, group commit, remembered keys, the ingest loop."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
from django.core import signals
from django.db import close_old_connections, connection
from django.utils import timezone

from socdesk.accounts.models import ApiKey
from socdesk.accounts.services import apikey_create, apikey_revoke
from socdesk.alerts.ingest import group_commit as delivery_writer
from socdesk.alerts.ingest.loop import start_ingest_thread
from socdesk.alerts.models import WebhookDelivery
from socdesk.tickets.models import Ticket

from .conftest import SETUP, sample


def wsgi(method: str, path: str, body: bytes = b"", **headers) -> tuple[str, dict, bytes]:
    """Call the application gunicorn/granian serve (socdesk.wsgi), exactly as a WSGI server does."""
    from socdesk.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.7",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
    }
    started: dict = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"], started["headers"] = status, dict(response_headers)

    # As Django's test client does: the test's database connection must survive the request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, start_response)
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return started["status"], started["headers"], content


@pytest.mark.django_db
def test_the_wsgi_short_way_stores_and_acknowledges_a_delivery(ingest_key, make_integration):
    make_integration("alertmanager")
    status, headers, content = wsgi(
        "POST", "/api/v1/hooks/alertmanager", sample("alertmanager_v4.json"), x_api_key=ingest_key
    )
    assert status == "202 Accepted" and headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    delivery = WebhookDelivery.objects.get()
    assert json.loads(content) == {"status": "accepted", "delivery": delivery.pk}
    assert delivery.client_ip == "192.0.2.7" and bytes(delivery.body) == sample("alertmanager_v4.json")


@pytest.mark.parametrize("delivery_id", [1, 987654321012])
def test_the_acknowledgement_is_the_json_django_would_write(delivery_id):
    from django.http import JsonResponse

    from socdesk.alerts.views import accepted_response

    written = JsonResponse({"status": "accepted", "delivery": delivery_id}, status=202)
    response = accepted_response(delivery_id)
    assert response.content == written.content
    assert response.status_code == 202 and response["Content-Type"] == written["Content-Type"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/api/v1/hooks/alertmanager", "sdk_nope_wrong"),  # a wrong key
        ("/api/v1/hooks/no-such-tool", None),  # an unknown adapter
        ("/api/v1/hooks/alertmanager/not-a-token", None),  # a wrong URL token
    ],
)
def test_the_short_way_answers_errors_exactly_as_the_urlconf_does(client, ingest_key, path, key):
    body = sample("alertmanager_v4.json")
    headers = {"X-API-Key": key or ingest_key}
    status, _headers, content = wsgi("POST", path, body, x_api_key=headers["X-API-Key"])
    through_django = client.post(path, data=body, content_type="application/json", headers=headers)
    assert int(status.split()[0]) == through_django.status_code >= 400
    assert json.loads(content) == through_django.json()
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_other_methods_and_paths_under_hooks_go_through_django(ingest_key):
    status, headers, _ = wsgi("GET", "/api/v1/hooks/alertmanager", x_api_key=ingest_key)
    assert status.startswith("405") and headers["Allow"] == "POST, PUT"
    status, _, _ = wsgi("POST", "/api/v1/hooks/alertmanager/a/b", b"{}", x_api_key=ingest_key)
    assert status[0] == "4"  # answered by Django's URLconf and middleware, not the hook view
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_a_crash_in_the_short_way_is_a_500_the_tool_retries_and_nothing_is_stored(
    ingest_key, make_integration, monkeypatch
):
    from socdesk.alerts import views

    def database_gone(**kwargs):  # fault injection: what the insert raises with the database down
        raise ConnectionError("server closed the connection unexpectedly")

    make_integration("alertmanager")
    monkeypatch.setattr(views, "delivery_receive", database_gone)
    status, _, content = wsgi(
        "POST", "/api/v1/hooks/alertmanager", sample("alertmanager_v4.json"), x_api_key=ingest_key
    )
    assert status.startswith("500")
    assert json.loads(content)["error"]["code"] == "server_error"
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_replies_share_one_insert_and_a_bad_row_fails_alone(make_integration, monkeypatch):
    """Group commit: while one INSERT is in flight the others queue and go in the next one together;
    when that one fails (a row naming a key that does not exist) the rows are retried one by one."""
    integration = make_integration("alertmanager")
    real_insert, sizes, first_write = delivery_writer._insert_rows, [], threading.Event()

    def slow_first_write(rows):  # hold the first INSERT until every other reply has queued
        sizes.append(len(rows))
        if len(sizes) == 1:
            first_write.wait(timeout=30)
        return real_insert(rows)

    monkeypatch.setattr(delivery_writer, "_insert_rows", slow_first_write)
    results: dict[int, object] = {}

    def reply(index: int) -> None:
        try:
            delivery = WebhookDelivery(
                adapter="alertmanager",
                body=f"body {index}".encode(),
                integration=integration,
                api_key_id=999_999 if index == 5 else None,  # no such key: a foreign-key violation
                received_at=timezone.now(),
            )
            results[index] = delivery_writer.insert(delivery)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=reply, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(delivery_writer._group._queue) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    first_write.set()
    for thread in threads:
        thread.join(timeout=60)

    assert sizes[:2] == [1, 7]  # the first alone, the seven that queued behind it in one INSERT
    assert isinstance(results.pop(5), Exception)
    stored = dict(WebhookDelivery.objects.values_list("id", "body"))
    assert sorted(bytes(stored[pk]) for pk in results.values()) == sorted(
        f"body {i}".encode() for i in results
    )
    assert len(stored) == 7


@pytest.mark.django_db
def test_a_key_revoked_here_is_refused_at_once_and_elsewhere_within_the_cache_time(client, settings, people):
    key, raw = apikey_create(actor=SETUP, name="tool", scopes=["alerts:ingest"])
    headers = {"X-API-Key": raw}

    def status():
        return client.post(
            "/api/v1/hooks/alertmanager",
            data=sample("alertmanager_v4.json"),
            content_type="application/json",
            headers=headers,
        ).status_code

    assert status() == 202
    # Revoked by another process: this one never hears of it and honours the key until it expires.
    ApiKey.objects.filter(pk=key.pk).update(revoked_at="2026-01-01T00:00:00Z")
    assert status() == 202
    settings.SOCDESK_LOOKUP_CACHE_SECONDS = 0
    assert status() == 401
    settings.SOCDESK_LOOKUP_CACHE_SECONDS = 5
    second, raw = apikey_create(actor=SETUP, name="tool-2", scopes=["alerts:ingest"])
    headers["X-API-Key"] = raw
    assert status() == 202
    apikey_revoke(actor=SETUP, key=second)  # revoked in this process: forgotten at once
    assert status() == 401


@pytest.mark.django_db(transaction=True)
def test_the_ingest_loop_turns_waiting_deliveries_into_tickets_and_stops(make_integration, caplog):
    integration = make_integration("alertmanager")
    thread, stop = start_ingest_thread()
    try:
        payload = json.loads(sample("alertmanager_v4.json"))
        for index in range(3):
            payload["alerts"][0]["fingerprint"] = f"loop-{index}"
            payload["groupKey"] = f"loop-{index}"  # each its own notification group: own ticket
            delivery_writer.insert(
                WebhookDelivery(
                    adapter="alertmanager",
                    body=json.dumps(payload).encode(),
                    integration=integration,
                    received_at=timezone.now(),
                )
            )
        deadline = time.monotonic() + 30
        while WebhookDelivery.objects.filter(status="pending").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"processed"}
        assert Ticket.objects.count() == 3
    finally:
        stop.set()
        thread.join(timeout=30)
        connection.close()
    assert not thread.is_alive()
    # The operator's line, written once the batch's commit returned (so checked once the loop stopped).
    assert "ingested" in caplog.text and "webhook deliveries in" in caplog.text


@pytest.mark.django_db
def test_osticket_tickets_take_the_short_way_with_the_same_answers(client, people, monkeypatch):
    _key, raw = apikey_create(actor=SETUP, name="kibana", scopes=["tickets:create"])
    body = json.dumps(
        {"name": "Ann", "email": "ann@corp.example", "subject": "Phish", "message": "Look"}
    ).encode()
    status, headers, content = wsgi("POST", "/api/http.php/tickets.json", body, x_api_key=raw)
    assert status == "201 Created" and content.decode() == Ticket.objects.get().number
    status, _, content = wsgi("POST", "/api/tickets.json", body, x_api_key="sdk_wrong_key")
    django = client.post(
        "/api/tickets.json", data=body, content_type="application/json", headers={"X-API-Key": "x"}
    )
    assert (
        (int(status.split()[0]), content)
        == (django.status_code, django.content)
        == (401, b"Valid API key required")
    )

    from socdesk.api import osticket

    def database_gone(drafts, **kwargs):  # fault injection: the database went away mid-request
        raise ConnectionError("server closed the connection unexpectedly")

    monkeypatch.setattr(osticket, "ticket_create_many", database_gone)
    status, headers, content = wsgi("POST", "/api/tickets.json", body, x_api_key=raw)
    assert status.startswith("500") and headers["Content-Type"].startswith("text/plain")
    assert b"Retry it" in content and Ticket.objects.count() == 1


@pytest.mark.django_db
def test_the_short_way_keeps_https_redirect_host_check_and_security_headers(
    ingest_key, make_integration, settings
):
    make_integration("alertmanager")
    body = sample("alertmanager_v4.json")
    settings.SECURE_SSL_REDIRECT = True
    status, headers, _ = wsgi("POST", "/api/v1/hooks/alertmanager", body, x_api_key=ingest_key)
    assert status.startswith("301") and headers["Location"] == "https://testserver/api/v1/hooks/alertmanager"
    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = ["socdesk.example"]
    status, _, content = wsgi("POST", "/api/v1/hooks/alertmanager", body, x_api_key=ingest_key)
    assert status.startswith("400") and json.loads(content)["error"]["code"] == "bad_request"
    assert not WebhookDelivery.objects.exists()
    settings.ALLOWED_HOSTS = ["testserver"]
    status, headers, _ = wsgi("POST", "/api/v1/hooks/alertmanager", body, x_api_key=ingest_key)
    assert status.startswith("202") and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
