"""Webhook endpoints over HTTP: 202 after the durable store, every error case, nothing lost or half-done."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from huey.contrib.djhuey import HUEY

from socdesk.accounts.services import apikey_create
from socdesk.alerts.ingest import deliveries_sweep
from socdesk.alerts.models import Alert, WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket

from .conftest import SETUP, sample

pytestmark = pytest.mark.django_db


def post(client, url, body: bytes, content_type="application/json", **headers):
    return client.post(url, data=body, content_type=content_type, headers=headers)


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"] and set(error) == {"code", "message", "fields"}
    if code:
        assert error["code"] == code
    return error


def assert_nothing_written():
    assert not WebhookDelivery.objects.exists()
    assert not Ticket.objects.exists() and not Alert.objects.exists()


def test_accepted_with_key_is_stored_verbatim_then_processed(
    client, ingest_key, make_integration, huey_immediate, django_capture_on_commit_callbacks
):
    make_integration("alertmanager")
    body = sample("alertmanager_v4.json")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "/api/v1/hooks/alertmanager", body, **{"X-API-Key": ingest_key})
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "delivery": WebhookDelivery.objects.get().pk}
    delivery = WebhookDelivery.objects.get()
    assert bytes(delivery.body) == body and delivery.content_type == "application/json"
    assert delivery.status == "processed" and delivery.api_key.name == "alert-tools"
    assert "X-API-Key" not in delivery.headers and delivery.client_ip == "127.0.0.1"
    ticket = Ticket.objects.get()
    event = AuditEvent.objects.get(action="ticket.created", target_id=str(ticket.pk))
    assert event.actor_type == "apikey" and event.actor_label == "key:alert-tools"


def test_a_webhook_is_announced_to_the_group_writer_until_its_row_is_written(
    client, ingest_key, make_integration
):
    """Concurrent webhooks join one group commit: the leader waits for those still on their way."""
    from django.db import connection

    from socdesk.alerts.ingest import group_commit

    make_integration("alertmanager")
    arriving_at_insert = []

    def observe(execute, sql, params, many, context):
        if sql.startswith("INSERT INTO") and "webhookdelivery" in sql:
            arriving_at_insert.append(group_commit._group._arriving)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(observe):
        accepted = post(
            client, "/api/v1/hooks/alertmanager", sample("alertmanager_v4.json"), **{"X-API-Key": ingest_key}
        )
        refused = post(client, "/api/v1/hooks/alertmanager", b"{", **{"X-API-Key": ingest_key})
    assert accepted.status_code == 202 and refused.status_code == 400
    # Inside the test's transaction the row is written directly, so the request is still announced.
    assert arriving_at_insert == [1]
    assert group_commit._group._arriving == 0  # both left: the stored one and the refused one


def test_bearer_key_and_integration_by_name(client, ingest_key, make_integration):
    make_integration("grafana", name="first")
    second = make_integration("grafana", name="noc-grafana")
    response = post(
        client, "/api/v1/hooks/grafana?integration=noc-grafana", sample("grafana_webhook.json"),
        Authorization=f"Bearer {ingest_key}",
    )  # fmt: skip
    assert response.status_code == 202
    assert WebhookDelivery.objects.get().integration == second
    unknown = post(
        client, "/api/v1/hooks/grafana?integration=nope", sample("grafana_webhook.json"),
        Authorization=f"Bearer {ingest_key}",
    )  # fmt: skip
    assert_error(unknown, 404, "not_found")


def test_token_url_for_tools_without_headers(
    client, make_integration, huey_immediate, django_capture_on_commit_callbacks
):
    integration = make_integration("splunk")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, f"/api/v1/hooks/splunk/{integration.token}", sample("splunk_webhook.json"))
    assert response.status_code == 202
    assert Ticket.objects.get().subject == "SSH Brute Force (203.0.113.7)"
    event = AuditEvent.objects.get(action="alert.ingested")
    assert event.actor_label == f"integration:{integration.name}"


@pytest.mark.parametrize("which", ["wrong", "other-adapter", "disabled"])
def test_bad_token_is_401_and_stores_nothing(client, make_integration, which):
    integration = make_integration("splunk", enabled=which != "disabled")
    url = {
        "wrong": "/api/v1/hooks/splunk/not-a-token",
        "other-adapter": f"/api/v1/hooks/wazuh/{integration.token}",
        "disabled": f"/api/v1/hooks/splunk/{integration.token}",
    }[which]
    assert_error(post(client, url, sample("splunk_webhook.json")), 401, "unauthorized")
    assert_nothing_written()


def test_missing_or_wrong_key_is_401_and_missing_scope_403(client, people):
    assert_error(post(client, "/api/v1/hooks/alertmanager", sample("alertmanager_v4.json")), 401)
    assert_error(
        post(
            client, "/api/v1/hooks/alertmanager", sample("alertmanager_v4.json"), **{"X-API-Key": "sdk_x_y"}
        ),
        401,
    )
    _key, raw = apikey_create(actor=SETUP, name="reader", scopes=["tickets:read"])
    error = assert_error(
        post(client, "/api/v1/hooks/alertmanager", sample("alertmanager_v4.json"), **{"X-API-Key": raw}), 403
    )
    assert "alerts:ingest" in error["message"]
    assert_nothing_written()


def test_unknown_adapter_is_404(client, ingest_key):
    error = assert_error(
        post(client, "/api/v1/hooks/nagios", b"{}", **{"X-API-Key": ingest_key}), 404, "not_found"
    )
    assert "alertmanager" in error["message"]
    assert_nothing_written()


def test_get_is_405(client, ingest_key):
    assert_error(client.get("/api/v1/hooks/alertmanager"), 405)


def test_body_over_the_limit_is_413(client, ingest_key, settings, people):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    error = assert_error(
        post(
            client, "/api/v1/hooks/alertmanager", sample("alertmanager_v4.json"), **{"X-API-Key": ingest_key}
        ),
        413,
        "too_large",
    )
    assert "200 bytes" in error["message"]
    assert_nothing_written()


def test_malformed_json_is_400_naming_line_and_column(client, ingest_key, people):
    body = b'{"alerts": [\n  {"status": "firing",, }\n]}'
    error = assert_error(post(client, "/api/v1/hooks/alertmanager", body, **{"X-API-Key": ingest_key}), 400)
    assert "line 2, column 23" in error["message"] and error["fields"]["body"] == "line 2, column 23"
    assert_nothing_written()


def test_missing_required_fields_are_400_listing_them(client, ingest_key, people):
    error = assert_error(
        post(client, "/api/v1/hooks/thehive", b'{"title": "x"}', **{"X-API-Key": ingest_key}), 400, "invalid"
    )
    assert error["fields"] == {"type": "required", "source": "required", "sourceRef": "required"}
    assert_nothing_written()


def test_odd_fields_are_accepted_stored_and_marked_failed(
    client, ingest_key, people, huey_immediate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client, "/api/v1/hooks/alertmanager", b'{"alerts": [1, 2]}', **{"X-API-Key": ingest_key}
        )
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert (
        delivery.status == "failed"
        and "alerts[0]" in delivery.error
        and bytes(delivery.body) == b'{"alerts": [1, 2]}'
    )
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_elastic_tolerates_a_wrong_or_missing_content_type(client, ingest_key, people, content_type):
    response = post(
        client, "/api/v1/hooks/elastic", sample("kibana_action_body.json"), content_type=content_type,
        **{"X-API-Key": ingest_key},
    )  # fmt: skip
    assert response.status_code == 202


def _sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "header, signature, status",
    [
        ("X-Grafana-Alert-Signature", "good", 202),
        ("X-Grafana-Alert-Signature", "sha256=good", 202),
        ("X-Grafana-Alert-Signature", "bad", 401),
        ("X-Other", "good", 401),
    ],
)
def test_grafana_hmac_signature(client, make_integration, header, signature, status):
    integration = make_integration("grafana", hmac_secret="s3cret")
    body = sample("grafana_webhook.json")
    value = signature.replace("good", _sign("s3cret", body)).replace("bad", _sign("other", body))
    response = post(client, f"/api/v1/hooks/grafana/{integration.token}", body, **{header: value})
    assert response.status_code == status
    if status == 401:
        assert response.json()["error"]["code"] == "bad_signature"
        assert_nothing_written()


def test_grafana_alternative_default_header_name(client, make_integration):
    integration = make_integration("grafana", hmac_secret="k")
    body = sample("grafana_webhook.json")
    headers = {"X-Grafana-Alerting-Signature": _sign("k", body)}
    assert post(client, f"/api/v1/hooks/grafana/{integration.token}", body, **headers).status_code == 202


@pytest.mark.parametrize("age, status", [(0, 202), (3600, 401)])
def test_grafana_signature_with_timestamp(client, make_integration, age, status):
    integration = make_integration(
        "grafana", hmac_secret="k", hmac_timestamp_header="X-Grafana-Alert-Timestamp"
    )
    body = sample("grafana_webhook.json")
    stamp = str(int(time.time()) - age)
    signature = hmac.new(b"k", stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"X-Grafana-Alert-Signature": signature, "X-Grafana-Alert-Timestamp": stamp}
    response = post(client, f"/api/v1/hooks/grafana/{integration.token}", body, **headers)
    assert response.status_code == status
    unsigned_stamp = post(
        client, f"/api/v1/hooks/grafana/{integration.token}", body, **{"X-Grafana-Alert-Signature": signature}
    )
    assert unsigned_stamp.status_code == 401


def test_grafana_custom_signature_header(client, make_integration):
    integration = make_integration("grafana", hmac_secret="k", hmac_header="X-Signature")
    body = sample("grafana_webhook.json")
    response = post(
        client, f"/api/v1/hooks/grafana/{integration.token}", body, **{"X-Signature": _sign("k", body)}
    )
    assert response.status_code == 202


def test_acknowledged_deliveries_survive_a_worker_outage(
    client, ingest_key, make_integration, django_capture_on_commit_callbacks
):
    """No worker: the task is queued but never run; the delivery waits as pending, the sweep processes it."""
    make_integration("suricata")
    HUEY.flush()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            response = post(
                client, "/api/v1/hooks/suricata", sample("suricata_eve.ndjson"), **{"X-API-Key": ingest_key}
            )
            assert response.status_code == 202
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["pending", "pending"]
    assert not Ticket.objects.exists()
    HUEY.flush()  # the queue is lost too (e.g. Redis restarted without persistence)
    assert deliveries_sweep(older_than=timedelta(0)) == 2
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"processed"}
    assert Ticket.objects.count() == 2 and sorted(
        Alert.objects.values_list("occurrence_count", flat=True)
    ) == [2, 2]


def test_queue_down_still_acknowledges_and_the_ingest_loop_processes_it(
    client, ingest_key, people, monkeypatch, django_capture_on_commit_callbacks
):
    """The reply touches no task queue: with it unreachable (Redis down) a delivery is still stored,
    acknowledged and then turned into a ticket by the ingest loop, which reads the database."""
    from socdesk.alerts.ingest import deliveries_drain

    def queue_unreachable(*args, **kwargs):  # fault injection: what enqueueing raises with Redis down
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(HUEY, "enqueue", queue_unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client, "/api/v1/hooks/alertmanager", sample("alertmanager_v4.json"), **{"X-API-Key": ingest_key}
        )
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.pk == response.json()["delivery"]
    assert deliveries_drain() == {delivery.pk: "processed"}
    assert Ticket.objects.count() == 1


def test_rate_limited_key_gets_429_and_nothing_is_stored(client, ingest_key, make_integration, settings):
    make_integration("alertmanager")
    settings.SOCDESK_API_RATE_LIMIT = 1
    body = sample("alertmanager_v4.json")
    assert post(client, "/api/v1/hooks/alertmanager", body, **{"X-API-Key": ingest_key}).status_code == 202
    response = post(client, "/api/v1/hooks/alertmanager", body, **{"X-API-Key": ingest_key})
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    assert WebhookDelivery.objects.count() == 1
