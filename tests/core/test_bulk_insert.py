"""insert_new and copy_rows: what a batch of alerts writes with (COPY on PostgreSQL, INSERT on SQLite).

Every value must read back exactly as Django's own insert would have stored it, whatever its field.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socdesk.alerts.models import AlertObservable, Observable, TicketObservable
from socdesk.audit.models import AuditEvent
from socdesk.core.sql import copy_rows, insert_new, next_counter_values, reserved
from socdesk.tickets.choices import EntryKind, Severity, Source
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket

pytestmark = pytest.mark.django_db


def _raw(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_new_rows_get_ascending_ids_in_list_order_and_read_back_unchanged(soc_ticket):
    when = timezone.now() - timedelta(days=3, microseconds=7)
    events = [
        AuditEvent(
            occurred_at=when,
            actor_type="system",
            actor_id="bench",
            actor_label="Bench ✓ «quoted» \\ back\tslash",
            ip="2001:db8::1",
            action="alert.ingested",
            before=None,
            after={"nested": [1, "two", None, {"x": True}], "text": "line\nbreak"},
            content_hash="0" * 64,
        ),
        # A JSON value that is a string stays a string (it must not be parsed as JSON text).
        AuditEvent(
            occurred_at=when, actor_type="key", actor_label="k", action="a", after='{"not": "an object"}'
        ),
        AuditEvent(occurred_at=when, actor_type="key", actor_label="k", action="b", after=["x"], ip=None),
    ]
    insert_new(events)
    ids = [event.pk for event in events]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert all(not event._state.adding for event in events)
    stored = {e.pk: e for e in AuditEvent.objects.filter(pk__in=ids)}
    first = stored[ids[0]]
    assert first.occurred_at == when and first.ip == "2001:db8::1"
    assert first.actor_label == "Bench ✓ «quoted» \\ back\tslash"
    assert first.after == {"nested": [1, "two", None, {"x": True}], "text": "line\nbreak"}
    assert first.before is None and first.seq is None
    assert stored[ids[1]].after == '{"not": "an object"}'
    assert stored[ids[2]].after == ["x"] and stored[ids[2]].ip is None


def test_choices_are_stored_as_their_values_and_foreign_keys_as_ids(people):
    now = timezone.now()
    tickets = [
        Ticket(
            number=f"T-{n}",
            subject=f"Subject {n}",
            severity=Severity.HIGH,
            source=Source.ALERT,
            department=people.soc,
            extra={"k": n},
            created_at=now,
            last_activity_at=now,
        )
        for n in range(3)
    ]
    insert_new(tickets)
    rows = _raw(
        "SELECT severity, source, department_id, status, version FROM tickets_ticket WHERE id = %s",
        [tickets[0].pk],
    )
    # The stored text, "high", never the member's name.
    assert rows == [("high", "alert", people.soc.pk, tickets[0].status, tickets[0].version)]
    assert Ticket.objects.get(pk=tickets[2].pk).extra == {"k": 2}


def test_automatic_timestamps_and_other_fields_are_prepared_as_django_would(soc_ticket):
    entry = soc_ticket.entries.get()
    files = [
        Attachment(
            entry=entry,
            file="attachments/ab/abc",
            filename="a.txt",
            size=5,
            sha256="a" * 64,
            content_type="x",
        )
    ]
    before = timezone.now()
    insert_new(files)
    stored = Attachment.objects.get(pk=files[0].pk)
    assert stored.created_at >= before and stored.file.name == "attachments/ab/abc" and stored.size == 5


def test_rows_without_instances_go_in_with_their_defaults_and_ids(soc_ticket):
    now = timezone.now()
    observable = Observable.objects.create(
        type="ip", value="203.0.113.9", value_hash="h" * 64, first_seen=now, last_seen=now
    )
    copy_rows(
        TicketObservable,
        ["ticket_id", "observable_id", "ioc", "sighted", "origin", "added_at"],
        [[soc_ticket.pk, observable.pk, True, False, "alert", now]],
    )
    link = TicketObservable.objects.get()
    assert (link.ticket_id, link.observable_id, link.ioc, link.sighted, link.added_at) == (
        soc_ticket.pk,
        observable.pk,
        True,
        False,
        now,
    )
    copy_rows(AlertObservable, ["alert_id", "observable_id"], [])  # nothing to write: no statement


def test_a_copy_counts_as_one_query_and_new_ids_continue_the_sequence(soc_ticket):
    entries = [
        ThreadEntry(
            ticket=soc_ticket, kind=EntryKind.EVENT, author_label="x", body=str(n), created_at=timezone.now()
        )
        for n in range(50)
    ]
    with CaptureQueriesContext(connection) as queries:
        insert_new(entries)
    # Ids and the insert (PostgreSQL: nextval + COPY; SQLite: one bulk INSERT), never one per row.
    assert len(queries) <= 2
    later = ThreadEntry.objects.create(
        ticket=soc_ticket, kind=EntryKind.EVENT, author_label="x", body="after", created_at=timezone.now()
    )
    assert later.pk > max(entry.pk for entry in entries)  # the identity sequence moved past the batch
    assert [e.body for e in ThreadEntry.objects.filter(pk__in=[x.pk for x in entries]).order_by("id")] == [
        str(n) for n in range(50)
    ]


def test_a_row_the_database_refuses_fails_the_whole_insert_with_djangos_error(soc_ticket):
    now = timezone.now()
    observable = Observable.objects.create(
        type="ip", value="1", value_hash="i" * 64, first_seen=now, last_seen=now
    )
    row = [soc_ticket.pk, observable.pk, False, False, "alert", now]
    names = ["ticket_id", "observable_id", "ioc", "sighted", "origin", "added_at"]
    # The same link twice breaks its unique constraint: Django's IntegrityError (not the driver's), and
    # the savepoint leaves nothing behind, not even the first row.
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_rows(TicketObservable, names, [row, list(row)])
    assert not TicketObservable.objects.exists()


@pytest.mark.parametrize("copies", [1, 5], ids=["a few rows: one INSERT", "more rows: COPY"])
def test_rows_read_back_exactly_as_bulk_create_stores_them(people, copies):
    """Side by side with Django's own bulk insert, on values COPY's text format must escape."""
    when = timezone.now().astimezone(timezone.get_fixed_timezone(-330))  # not UTC
    odd = 'tab\there, back\\slash, \\N, \\., cr\r\nlf, \u2028, quote " and «ünïcode»'

    def events(tag: str) -> list[AuditEvent]:
        return [
            AuditEvent(
                occurred_at=when,
                actor_type="key",
                actor_id=tag,
                actor_label=odd,
                ip=ip,
                action="x",
                target_label=str(12345),
                before={"odd": odd, "big": 2**62, "none": None, "yes": True},
                after=after,
                content_hash=tag,
            )
            for ip, after in (("::ffff:10.0.0.1", odd), ("10.0.0.2", [odd, 1.5]), (None, None)) * copies
        ]

    def tickets(tag: str) -> list[Ticket]:
        return [
            Ticket(
                number=f"{tag}-{n}",
                subject=odd,
                severity=Severity.CRITICAL,
                source="alert",
                department=people.soc,
                extra={"odd": odd},
                created_at=when,
                last_activity_at=when,
            )
            for n in range(2 * copies)
        ]

    for make, model, key in ((events, AuditEvent, "actor_id"), (tickets, Ticket, "number__startswith")):
        model.objects.bulk_create(make("django"))
        insert_new(make("ours"))
        stored = {}
        for tag in ("django", "ours"):
            rows = model.objects.filter(**{key: tag}).order_by("id").values()
            stored[tag] = [
                {k: v for k, v in row.items() if k not in ("id", "actor_id", "number", "content_hash")}
                for row in rows
            ]
        assert stored["ours"] == stored["django"] and len(stored["ours"]) >= 2


def test_a_batch_reserves_all_its_ids_and_numbers_in_one_query(people):
    """ticket_create_many asks for the ids of every table it writes, and the ticket numbers, at once."""
    from socdesk.core.actor import Actor
    from socdesk.tickets.services import TicketDraft, ticket_create_many

    actor = Actor.system("test")
    drafts = [
        TicketDraft(actor=actor, subject=f"s{n}", department=people.soc, body="b", tags=["x"])
        for n in range(3)
    ]
    with CaptureQueriesContext(connection) as queries:
        tickets = ticket_create_many(drafts)
    asked = [q["sql"] for q in queries if "nextval" in q["sql"]]
    assert len(asked) == (1 if connection.vendor == "postgresql" else 0)
    numbers = [int(t.number.rsplit("-", 1)[1]) for t in tickets]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    ids = [t.pk for t in tickets]
    assert ids == sorted(ids)
    entries = ThreadEntry.objects.filter(ticket__in=tickets).order_by("id")
    assert [e.ticket_id for e in entries] == ids  # the first lines, in draft order
    assert (
        AuditEvent.objects.filter(action="ticket.created", target_id__in=[str(i) for i in ids]).count() == 3
    )


def test_a_reservation_too_small_draws_the_rest_and_one_too_large_wastes_only_numbers(soc_ticket):
    def entry(n: int) -> ThreadEntry:
        return ThreadEntry(
            ticket=soc_ticket, kind=EntryKind.EVENT, author_label="x", body=str(n), created_at=timezone.now()
        )

    with reserved({ThreadEntry: 2}, {"ticket_number": (1, 1001)}):
        few = [entry(n) for n in range(5)]
        insert_new(few)  # two reserved ids, three drawn as usual
        numbers = next_counter_values("ticket_number", 3, 1001)
    ids = [e.pk for e in few]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    with reserved({ThreadEntry: 10}):
        one = [entry(9)]
        insert_new(one)
    later = [entry(10)]
    insert_new(later)  # outside the block: the eight left over are never handed out
    assert later[0].pk > one[0].pk > max(ids)
    assert ThreadEntry.objects.filter(pk__in=[*ids, one[0].pk, later[0].pk]).count() == 7


def test_upsert_set_inserts_new_rows_sets_named_columns_of_stored_ones_or_leaves_them():
    from datetime import date

    from socdesk.core.sql import upsert_set
    from socdesk.reports.models import TicketFact

    # Every column is named (as for bulk_create, the others would have no value on insert).
    names = [field.attname for field in TicketFact._meta.concrete_fields]

    def row(ticket_id, **values):
        return [getattr(TicketFact(ticket_id=ticket_id, **values), name) for name in names]

    TicketFact.objects.create(ticket_id=1, severity="low", created_day=date(2026, 1, 2), alerts=3)
    TicketFact.objects.create(ticket_id=2, severity="low", rule="kept")
    upsert_set(
        TicketFact,
        names,
        [
            row(1, severity="high", alerts=7, observable_ids=[4, 5]),
            row(3, severity="medium", created_day=date(2026, 2, 3), team_id=5),
        ],
        unique=["ticket_id"],
        update=["severity", "created_day", "observable_ids"],
    )
    first, third = TicketFact.objects.get(ticket_id=1), TicketFact.objects.get(ticket_id=3)
    # Only the named columns of a stored row change; a new row gets every value given.
    assert (first.severity, first.created_day, first.alerts, first.observable_ids) == (
        "high",
        None,
        3,
        [4, 5],
    )
    assert (third.severity, third.created_day, third.team_id, third.observable_ids) == (
        "medium",
        date(2026, 2, 3),
        5,
        [],
    )
    # Without columns to update, a stored row is left as it is and a new one inserted.
    upsert_set(
        TicketFact,
        names,
        [row(2, severity="critical", observable_ids=[9]), row(4)],
        unique=["ticket_id"],
        update=[],
    )
    second = TicketFact.objects.get(ticket_id=2)
    assert (second.severity, second.rule, second.observable_ids) == ("low", "kept", [])
    assert TicketFact.objects.filter(ticket_id=4, severity="", created_day=None).exists()


def test_upsert_set_returns_the_named_fields_of_rows_inserted_or_updated_but_not_of_rows_left():
    from socdesk.core.sql import upsert_set
    from socdesk.reports.models import TicketFact

    names = [field.attname for field in TicketFact._meta.concrete_fields]

    def row(ticket_id, **values):
        return [getattr(TicketFact(ticket_id=ticket_id, **values), name) for name in names]

    TicketFact.objects.create(ticket_id=1, severity="low", alerts=3)
    TicketFact.objects.create(ticket_id=2, severity="low", alerts=4)
    updated = upsert_set(
        TicketFact,
        names,
        [row(1, severity="high", alerts=7), row(5, severity="medium", alerts=1)],
        unique=["ticket_id"],
        update=["severity"],
        returning=["ticket_id", "severity", "alerts"],
    )
    # The stored row as it is now (its count kept), and the new one.
    assert sorted(updated) == [(1, "high", 3), (5, "medium", 1)]
    left = upsert_set(
        TicketFact,
        names,
        [row(2, severity="critical"), row(6)],
        unique=["ticket_id"],
        update=[],
        returning=["ticket_id"],
    )
    assert left == [(6,)]
    assert upsert_set(TicketFact, names, [row(7)], unique=["ticket_id"], update=[]) == []


def test_related_objects_are_checked_as_djangos_insert_checks_them(people, soc_ticket):
    """An unsaved related object refuses the batch; one saved after it was assigned gives its id."""
    now = timezone.now()
    unsaved = Ticket(
        number="T-unsaved", subject="s", department=people.soc, created_at=now, last_activity_at=now
    )
    entry = ThreadEntry(ticket=unsaved, kind=EntryKind.EVENT, author_label="x", body="b", created_at=now)
    with pytest.raises(ValueError, match="unsaved related object 'ticket'"):
        insert_new([entry])
    insert_new([unsaved])  # saved after the entry was given it: the entry takes its id now
    insert_new([entry])
    assert entry.ticket_id == unsaved.pk
    assert ThreadEntry.objects.get(pk=entry.pk).ticket_id == unsaved.pk
    # A related object whose id changed since it was assigned is no longer held for the row.
    moved = ThreadEntry(ticket=soc_ticket, kind=EntryKind.EVENT, author_label="x", body="c", created_at=now)
    moved.ticket_id = unsaved.pk
    insert_new([moved])
    assert not ThreadEntry.ticket.is_cached(moved)
    assert ThreadEntry.objects.get(pk=moved.pk).ticket_id == unsaved.pk
