"""50 concurrent deliveries of one new fingerprint make exactly one ticket (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert, DedupKey, WebhookDelivery
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

    from socdesk.alerts.ingest import deliveries_sweep

    integration = make_integration("alertmanager")
    base = json.loads(sample("alertmanager_v4.json"))
    for i in range(40):
        base["alerts"][0]["fingerprint"] = f"fp-{i % 10}"  # 10 alerts, each repeated 4 times
        base["groupKey"] = f"fp-{i % 10}"  # each alert its own notification group
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


@pytest.mark.django_db(transaction=True)
def test_ingest_loops_draining_together_take_each_delivery_once(make_integration, settings):
    """Three loops (`socdesk ingest` processes) on one backlog, in small batches: each delivery once,
    every alert counted once, and on PostgreSQL no loop waits for another's claim (SKIP LOCKED)."""
    import json

    from socdesk.alerts.ingest import deliveries_drain

    settings.SOCDESK_DELIVERY_BATCH = 4
    integration = make_integration("alertmanager")
    base = json.loads(sample("alertmanager_v4.json"))
    for i in range(60):
        base["alerts"][0]["fingerprint"] = f"fp-{i % 15}"  # 15 alerts, each 4 times
        base["groupKey"] = f"fp-{i % 15}"  # each alert its own notification group
        delivery_receive(adapter="alertmanager", body=json.dumps(base).encode(), integration=integration)
    start = threading.Barrier(3)
    taken: list[list[int]] = [[], [], []]
    errors: list[BaseException] = []

    def loop(mine: list[int]) -> None:
        try:
            start.wait(timeout=30)
            while done := deliveries_drain():
                mine += list(done)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=loop, args=(mine,)) for mine in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    everything = [pk for mine in taken for pk in mine]
    assert len(everything) == len(set(everything)) == 60
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"processed"}
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
    assert sorted(Alert.objects.values_list("occurrence_count", flat=True)) == [4] * 15
    assert Ticket.objects.count() == 15


def _claim_ids() -> list[int]:
    """Claim the next batch and give its turn back at once (these tests write nothing)."""
    from socdesk.alerts.ingest.deliveries import _claim_next_batch, _turn_done

    ids, _token, turn = _claim_next_batch()
    _turn_done(turn)
    return ids


@pytest.mark.django_db(transaction=True)
def test_a_loop_skips_deliveries_another_is_claiming_and_keeps_to_the_byte_budget(settings):
    """PostgreSQL: rows locked by another claim are passed over at once; a batch stops at its byte
    budget, but always takes its first delivery, however large."""
    import psycopg

    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claims are PostgreSQL's; SQLite has one writer at a time")
    small = b'{"alerts": []}'
    ids = [delivery_receive(adapter="alertmanager", body=small).pk for _ in range(3)]
    big = delivery_receive(adapter="alertmanager", body=b" " * 5000).pk
    tail = [delivery_receive(adapter="alertmanager", body=small).pk for _ in range(2)]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as other:
        # Another writer has the first two rows locked (the sweeper's claim, say).
        other.execute("SELECT id FROM alerts_webhookdelivery WHERE id = ANY(%s) FOR UPDATE", [ids[:2]])
        settings.SOCDESK_DELIVERY_BATCH_BYTES = 100
        started = time.monotonic()
        assert _claim_ids() == [ids[2]]  # the big one would exceed the 100 bytes left
        assert time.monotonic() - started < 2  # skipped, not waited for
        assert _claim_ids() == [big]  # first of its batch: taken although over the budget
        assert _claim_ids() == tail
        assert _claim_ids() == []  # the locked two are still the other's
        other.rollback()
    assert _claim_ids() == ids[:2]


@pytest.mark.django_db(transaction=True)
def test_batches_are_written_in_the_order_they_were_claimed(settings):
    """PostgreSQL: two loops, each with one delivery; the second is ready first but waits for the first,
    so an alert's `resolved` notice is never written before the alert itself (it would be lost)."""
    import json

    from socdesk.accounts.services import department_create
    from socdesk.alerts.ingest.deliveries import _claim_next_batch, _process_claimed, _turn_done
    from socdesk.core.actor import Actor

    if connection.vendor != "postgresql":
        pytest.skip("one ingest loop on SQLite: its batches are written in order already")
    department_create(actor=Actor.system("test"), name="SOC")
    settings.SOCDESK_DELIVERY_BATCH = 1
    payload = json.loads(sample("alertmanager_v4.json"))
    firing = delivery_receive(adapter="alertmanager", body=json.dumps(payload).encode()).pk
    payload["status"] = payload["alerts"][0]["status"] = "resolved"
    resolved = delivery_receive(adapter="alertmanager", body=json.dumps(payload).encode()).pk
    first, first_token, first_turn = _claim_next_batch()
    assert first == [firing]
    outcome: dict[int, str] = {}
    errors: list[BaseException] = []

    def second_loop() -> None:
        try:
            ids, token, turn = _claim_next_batch()
            try:
                outcome.update(_process_claimed(ids, token=token, after_turn=turn - 1))
            finally:
                _turn_done(turn)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=second_loop)
    thread.start()
    thread.join(timeout=1.5)
    assert thread.is_alive() and not outcome  # waiting for the first batch to be written
    assert WebhookDelivery.objects.get(pk=resolved).status == "pending"
    try:
        _process_claimed(first, token=first_token, after_turn=first_turn - 1)
    finally:
        _turn_done(first_turn)
    thread.join(timeout=30)
    assert not errors, errors
    assert outcome == {resolved: "processed"}
    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.resolved_at is not None
