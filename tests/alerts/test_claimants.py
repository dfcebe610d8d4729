"""Dead ingest loops: their claims go back to the queue within seconds, a live loop keeps its own,
and a loop that was only stalled never writes a delivery another loop took over (both databases)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from socdesk.alerts.ingest import claimants
from socdesk.alerts.ingest.claimants import (
    Heartbeat,
    claimant_beat,
    claimant_forget,
    claimant_register,
    dead_claims_requeue,
)
from socdesk.alerts.ingest.deliveries import (
    _claim_next_batch,
    _process_claimed,
    _turn_done,
    deliveries_drain,
    delivery_receive,
)
from socdesk.alerts.models import Alert, IngestClaimant, WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import seal_pending
from socdesk.audit.verify import verify_chain
from socdesk.tickets.models import Ticket

from .conftest import sample


@pytest.fixture(autouse=True)
def _no_claimant_left():
    yield
    claimants._current = ""  # a registered prefix must not leak into the next test's claims


def _receive(integration, count: int) -> list[int]:
    body = json.loads(sample("alertmanager_v4.json"))
    ids = []
    for i in range(count):
        body["alerts"][0]["fingerprint"] = f"crash-{i}"
        body["groupKey"] = f"crash-{i}"  # each its own notification group: own ticket
        ids.append(
            delivery_receive(
                adapter="alertmanager", body=json.dumps(body).encode(), integration=integration
            ).pk
        )
    return ids


def _later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def test_claims_of_a_loop_that_stopped_beating_are_requeued_and_audited(make_integration, settings):
    settings.SOCDESK_INGEST_CLAIMANT_TIMEOUT = 6
    ids = _receive(make_integration(), 3)
    prefix = claimant_register()
    claimed, token, turn = _claim_next_batch()
    _turn_done(turn)
    assert claimed == ids and token.startswith(prefix)
    assert deliveries_drain() == {}  # held: nobody else may take them (the lease is 300 s)

    # The process was killed: no more beats. Within the timeout it still counts as alive...
    assert dead_claims_requeue(now=_later(5)) == 0
    assert IngestClaimant.objects.filter(prefix=prefix).exists()
    # ... after it, its claims go back to the queue at once, and the trail says so.
    assert dead_claims_requeue(now=_later(7)) == 3
    assert not IngestClaimant.objects.filter(prefix=prefix).exists()
    assert set(WebhookDelivery.objects.values_list("claim_token", flat=True)) == {""}
    event = AuditEvent.objects.get(action="ingest.claimant_died")
    assert event.after["deliveries_requeued"] == 3
    assert event.after["claimants"][0]["prefix"] == prefix

    claimants._current = ""  # the next loop is another process
    assert deliveries_drain() == dict.fromkeys(ids, "processed")
    assert Ticket.objects.count() == 3
    assert list(WebhookDelivery.objects.values_list("attempts", flat=True)) == [2, 2, 2]
    seal_pending()
    assert verify_chain().ok


def test_a_live_loop_that_keeps_beating_keeps_its_claims(make_integration, settings):
    settings.SOCDESK_INGEST_CLAIMANT_TIMEOUT = 6
    _receive(make_integration(), 2)
    prefix = claimant_register()
    _claimed, token, turn = _claim_next_batch()
    _turn_done(turn)
    IngestClaimant.objects.filter(prefix=prefix).update(beat_at=_later(5))  # it beat just now (in 5 s)
    assert dead_claims_requeue(now=_later(10)) == 0  # 5 s after its last beat: alive
    assert set(WebhookDelivery.objects.values_list("claim_token", flat=True)) == {token}
    assert not AuditEvent.objects.filter(action="ingest.claimant_died").exists()
    assert claimant_beat(prefix)


def test_a_stalled_loop_taken_for_dead_never_writes_what_another_loop_took_over(make_integration, settings):
    """The heartbeat only decides when; the batch's check of its claim token decides who writes."""
    settings.SOCDESK_INGEST_CLAIMANT_TIMEOUT = 6
    ids = _receive(make_integration(), 4)
    claimant_register()
    stalled, stalled_token, turn = _claim_next_batch()  # loop A claims, then stalls (no beats)
    _turn_done(turn)
    assert dead_claims_requeue(now=_later(7)) == 4  # A is taken for dead

    claimant_register()  # loop B, another process, takes the deliveries and writes them
    assert deliveries_drain() == dict.fromkeys(ids, "processed")
    assert Ticket.objects.count() == 4

    # A wakes up and goes on with the batch it had claimed: nothing of it is written again.
    assert _process_claimed(stalled, token=stalled_token) == {}
    assert Ticket.objects.count() == 4
    assert list(Alert.objects.values_list("occurrence_count", flat=True)) == [1, 1, 1, 1]
    assert AuditEvent.objects.filter(action="alert.ingested").count() == 4


def test_a_stalled_loop_writes_what_nobody_took_while_it_was_requeued_but_not_yet_taken(make_integration):
    """Requeued but not claimed again: the stale claim token no longer matches, so A leaves them."""
    ids = _receive(make_integration(), 2)
    claimant_register()
    stalled, stalled_token, turn = _claim_next_batch()
    _turn_done(turn)
    assert dead_claims_requeue(now=_later(60)) == 2
    assert _process_claimed(stalled, token=stalled_token) == {}
    assert WebhookDelivery.objects.filter(pk__in=ids, status="pending", claim_token="").count() == 2
    claimants._current = ""
    assert deliveries_drain() == dict.fromkeys(ids, "processed")


def test_a_clean_stop_releases_what_the_loop_still_held(make_integration):
    ids = _receive(make_integration(), 2)
    prefix = claimant_register()
    _claimed, _token, turn = _claim_next_batch()
    _turn_done(turn)
    assert claimant_forget(prefix) == 2
    assert claimants.current_claimant() == ""
    assert deliveries_drain() == dict.fromkeys(ids, "processed")


def test_claims_outside_an_ingest_loop_carry_no_claimant(make_integration):
    """A web process (TheHive's synchronous API) runs no heartbeat: its claims lapse with the lease only."""
    _receive(make_integration(), 1)
    _claimed, token, turn = _claim_next_batch()
    _turn_done(turn)
    assert token.startswith(claimants.NO_CLAIMANT)
    claimant_register()  # some loop elsewhere, which then dies: not the holder of that claim
    assert dead_claims_requeue(now=_later(60)) == 0
    assert WebhookDelivery.objects.get().claim_token == token


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_and_registers_anew_when_taken_for_dead(settings):
    settings.SOCDESK_INGEST_HEARTBEAT_SECONDS = 0.05
    heartbeat = Heartbeat().start()
    try:
        first = heartbeat.prefix
        started = IngestClaimant.objects.get(prefix=first).beat_at
        deadline = time.monotonic() + 10
        while IngestClaimant.objects.get(prefix=first).beat_at == started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert IngestClaimant.objects.get(prefix=first).beat_at > started
        IngestClaimant.objects.filter(prefix=first).delete()  # as dead_claims_requeue does
        while heartbeat.prefix == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert heartbeat.prefix != first
        assert IngestClaimant.objects.filter(prefix=heartbeat.prefix).exists()
    finally:
        heartbeat.stop()
    assert not IngestClaimant.objects.exists()


@pytest.mark.django_db
def test_claim_tokens_are_not_indexed():
    """A claim and a finish each write a new copy of the delivery row: an index on its token would
    take entries at every write. Lookups by token come with the ids or read pending rows only."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, WebhookDelivery._meta.db_table)
    assert [name for name, c in constraints.items() if "claim_token" in c["columns"]] == []


@pytest.mark.django_db
def test_claims_find_room_beside_the_row_they_rewrite():
    """PostgreSQL: delivery pages are half filled by inserts, so a claim's new row version fits in the
    same page as a heap-only tuple (no index entries); with full pages none would."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("fillfactor and heap-only tuples are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'alerts_webhookdelivery'")
        assert cursor.fetchone()[0] == ["fillfactor=50"]
