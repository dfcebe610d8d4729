"""Who seals, and what an event is built from: writers only insert, the workers' ingest loops seal."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from socdesk.alerts.ingest.loop import start_ingest_thread
from socdesk.audit.chain import content_hash
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import _COLUMNS, audit_event, record
from socdesk.audit.verify import verify_chain
from socdesk.core.actor import Actor
from socdesk.core.clock import recording_at


def test_an_event_fills_the_models_columns_in_their_order():
    assert tuple(field.attname for field in AuditEvent._meta.concrete_fields) == _COLUMNS
    event = audit_event(
        actor=Actor(kind="agent", label="alice", ident="3", ip="192.0.2.1"),
        action="ticket.assigned",
        target_type="ticket",
        target_id="42",
        target_label="SOC-42 Phish",
        before={"assignee": None},
        after={"assignee": 3},
    )
    assert event.pk is None and event.seq is None and (event.prev_hash, event.chain_hash) == ("", "")
    actor = (event.actor_type, event.actor_id, event.actor_label, event.ip)
    assert actor == ("agent", "3", "alice", "192.0.2.1")
    assert (event.action, event.target_type, event.target_id) == ("ticket.assigned", "ticket", "42")
    assert event.target_label == "SOC-42 Phish"
    assert (event.before, event.after) == ({"assignee": None}, {"assignee": 3})
    assert event.content_hash == content_hash(event.hashed_content())


@pytest.mark.parametrize(
    ("ip", "stored", "expected_hash"),
    [
        ("2001:DB8::0:1", "2001:db8::1", "0a24acb19d878daa9a9350559db92a37bde03fe6767b3c245523f6588b697c21"),
        ("not-an-address", None, "b1a662642e7011c5d6efb31e593dab9e34c63439bec983202dc8445358e73b9c"),
        (None, None, "b1a662642e7011c5d6efb31e593dab9e34c63439bec983202dc8445358e73b9c"),
    ],
)
def test_the_content_hash_of_an_event_stays_what_it_was(ip, stored, expected_hash):
    due = datetime(2026, 12, 1, tzinfo=UTC)
    """Hashes written by earlier versions must verify: these were computed before audit_event was sped up."""
    with recording_at(datetime(2026, 11, 30, 22, 0, 0, 123456, tzinfo=UTC)):
        event = audit_event(
            actor=Actor(kind="apikey", label="key:zoë", ident="7", ip=ip),
            action="ticket.created",
            target_type="ticket",
            target_id="42",
            target_label="SOC-42 Phish",
            before={"status": "new", "n": 1.5, "nul": "a\x00b\tc", "k": (1, 2)},
            after={"tags": ["x", "日本語"], "due": due, "none": None, "back": "\\b"},
        )
    assert event.ip == stored
    assert event.before == {"status": "new", "n": 1.5, "nul": "ab\tc", "k": [1, 2]}
    assert event.after == {"tags": ["x", "日本語"], "due": str(due), "none": None, "back": "\\b"}
    assert event.content_hash == expected_hash


def _record_committed(n: int) -> list[int]:
    ids = []
    for i in range(n):
        with transaction.atomic():
            ids.append(record(actor=Actor.system("test"), action="test.happened", after={"i": i}).pk)
    return ids


@pytest.mark.django_db(transaction=True)
def test_a_commit_leaves_its_events_to_the_sealer():
    """A request or batch pays for its insert only: the chain is linked later, by a worker."""
    ids = _record_committed(3)
    unsealed = AuditEvent.objects.filter(seq__isnull=True).order_by("id").values_list("pk", flat=True)
    assert list(unsealed) == ids


@pytest.mark.django_db(transaction=True)
def test_the_ingest_loop_seals_what_any_process_committed():
    """The promise of docs/audit.md: a running worker links committed events into the chain promptly."""
    ids = _record_committed(5)
    thread, stop = start_ingest_thread()
    try:
        deadline = time.monotonic() + 30  # "about a second"; the margin is for a loaded test machine
        while AuditEvent.objects.filter(seq__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(AuditEvent.objects.order_by("seq").values_list("pk", flat=True)) == ids
    finally:
        stop.set()
        thread.join(timeout=30)
        connection.close()
    assert not thread.is_alive()
    assert verify_chain().ok
