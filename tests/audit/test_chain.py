"""The audit chain: sealing, verifying, tampering, append-only enforcement, concurrent writers."""

import enum
import io
import itertools
import json
import threading
from datetime import date

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from socdesk.audit.chain import GENESIS, link_hash, to_json_safe
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record, seal_pending
from socdesk.audit.verify import verify_chain
from socdesk.core.actor import Actor
from socdesk.core.text import clean_json


def _events(n, label="job"):
    for i in range(n):
        record(
            actor=Actor.system(label),
            action="test.happened",
            target_type="thing",
            target_id=str(i),
            after={"i": i},
        )


@pytest.mark.django_db
def test_sealing_links_every_event_in_order():
    _events(5)
    assert seal_pending() == 5
    chain = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.chain_hash
        assert after.chain_hash == link_hash(before.chain_hash, after.content_hash)
    assert verify_chain().ok and verify_chain().checked == 5


@pytest.mark.django_db
def test_unicode_ip_and_json_values_survive_the_round_trip():
    record(
        actor=Actor(kind="agent", label="zoë", ident="7", ip="2001:DB8::0:1"),
        action="test.happened",
        after={"nested": {"list": [1, 2.5, None, True]}, "text": "日本語"},
    )
    seal_pending()
    assert AuditEvent.objects.get().ip == "2001:db8::1"
    assert verify_chain().ok


def _tamper(sql, params):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute(sql, params)


@pytest.mark.django_db(transaction=True)
def test_verify_names_the_tampered_event():
    _events(4)
    seal_pending()
    target = AuditEvent.objects.get(seq=3)
    _tamper("UPDATE audit_auditevent SET actor_label = %s WHERE id = %s", ["mallory", target.pk])
    result = verify_chain()
    assert not result.ok and result.broken_event_id == target.pk and result.checked == 2
    assert result.reason == "content does not match its hash"
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert f"id={target.pk}" in err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_verify_detects_a_removed_event():
    _events(3)
    seal_pending()
    middle = AuditEvent.objects.get(seq=2)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [middle.pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
    result = verify_chain()
    assert not result.ok and result.broken_seq == 3 and "gap" in result.reason


@pytest.mark.django_db
def test_database_refuses_changing_a_sealed_event():
    _events(1)
    seal_pending()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(action="nothing.happened")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.all().delete()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"content_hash": "0" * 64},
        {"action": "nothing.happened"},
        {"actor_label": "someone else"},
        {"target_id": "9"},
    ],
)
def test_database_refuses_changing_an_unsealed_events_content(change):
    """The guard's condition (a trigger WHEN clause on both databases) refuses any change of what is
    hashed before sealing too, and lets the sealer's own update through."""
    _events(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(**change)
    assert seal_pending() == 1
    assert verify_chain().ok


@pytest.mark.django_db
def test_verify_command_and_export():
    _events(3)
    out = io.StringIO()
    call_command("audit", "verify", stdout=out, stderr=io.StringIO())
    assert "OK: 3 audit events checked" in out.getvalue()
    out = io.StringIO()
    call_command("audit", "export", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["seq"] for r in rows] == [1, 2, 3] and rows[0]["after"] == {"i": 0}
    assert rows[1]["prev_hash"] == rows[0]["chain_hash"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_linear_chain():
    """Threads record and seal at the same time; the chain ends up complete and verifiable."""
    workers, per_worker = 8, 15
    errors = []

    def work(n):
        try:
            for i in range(per_worker):
                with transaction.atomic():
                    record(actor=Actor.system(f"w{n}"), action="test.happened", target_id=str(i))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seal_pending()
    total = workers * per_worker
    assert AuditEvent.objects.filter(seq__isnull=False).count() == total
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, total + 1))
    assert verify_chain().ok


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(max_codepoint=0x2FF)),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=5), children, max_size=4
        )
    ),
    max_leaves=12,
)


class _Level(enum.IntEnum):
    LOW = 1


class _Colour(enum.StrEnum):
    RED = "red"


class _Ratio(float):
    def __repr__(self) -> str:
        return "not json"


json_values = st.recursive(
    json_values
    | st.floats()
    | st.sampled_from([_Level.LOW, _Colour.RED, _Ratio(0.5), date(2026, 11, 30), ("a", 1)]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(
            st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=5)
            | st.integers(-20, 20)
            | st.none()
            | st.booleans(),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(json_values)
@settings(max_examples=500, deadline=None)
def test_json_safe_values_are_the_cleaned_round_trip(value):
    """The shortcuts (a copy for plain data, no walk when nothing is escaped) give what the full clean
    of the round trip gives, down to the types: controls, enums, tuples, floats, non-str keys or not."""
    expected = clean_json(json.loads(json.dumps(value, default=str, ensure_ascii=False)))
    assert repr(to_json_safe(value)) == repr(expected)


def test_json_safe_copies_plain_values():
    """The copy shares no container with the caller's value, which the caller may change afterwards."""
    after = {"tags": ["a"], "extra": {"k": 1}}
    safe = to_json_safe(after)
    after["tags"].append("b")
    after["extra"]["k"] = 2
    assert safe == {"tags": ["a"], "extra": {"k": 1}}


def test_json_safe_refuses_a_cycle_as_json_does():
    """A value that contains itself is refused with json's own error, not the copy's recursion."""
    looped: dict = {"a": 1}
    looped["self"] = looped
    with pytest.raises(ValueError, match="Circular reference"):
        to_json_safe(looped)
