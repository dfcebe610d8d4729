"""50 concurrent deliveries of one new fingerprint make exactly one ticket (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from socdesk.alerts.models import Alert, DedupKey, WebhookDelivery
from socdesk.alerts.services import delivery_process, delivery_receive
from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket

from .conftest import sample

WORKERS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_deliveries_of_one_new_fingerprint_make_one_ticket(make_integration):
    integration = make_integration("alertmanager")
    body = sample("alertmanager_v4.json")
    start = threading.Barrier(WORKERS)
    errors: list[BaseException] = []
    outcomes: list[str] = []

    def one_tool_request() -> None:
        try:
            start.wait(timeout=30)
            delivery = delivery_receive(adapter="alertmanager", body=body, integration=integration)
            outcomes.append(delivery_process(delivery_id=delivery.pk))
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_tool_request) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert outcomes == ["processed"] * WORKERS, [
        d.error for d in WebhookDelivery.objects.exclude(status="processed")
    ]
    assert Ticket.objects.count() == 1
    assert DedupKey.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.occurrence_count == WORKERS
    assert AuditEvent.objects.filter(action="alert.ingested").count() == 1
    assert AuditEvent.objects.filter(action="alert.deduplicated").count() == WORKERS - 1


@pytest.mark.django_db(transaction=True)
def test_workers_draining_together_process_each_delivery_exactly_once(make_integration):
    """Four workers sweep one backlog: the conditional-UPDATE claims give each delivery to exactly one."""
    import json

    from socdesk.alerts.services import deliveries_sweep

    integration = make_integration("alertmanager")
    base = json.loads(sample("alertmanager_v4.json"))
    for i in range(40):
        base["alerts"][0]["fingerprint"] = f"fp-{i % 10}"  # 10 alerts, each repeated 4 times
        delivery_receive(adapter="alertmanager", body=json.dumps(base).encode(), integration=integration)
    start = threading.Barrier(4)
    done: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=30)
            done.append(deliveries_sweep(older_than=timedelta(0)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(done) == 40
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"processed"}
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
    assert Ticket.objects.count() == 10
    assert sorted(Alert.objects.values_list("occurrence_count", flat=True)) == [4] * 10
