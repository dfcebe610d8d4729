"""Bulk ingest of a batch: the same outcome as one alert at a time, in a constant number of queries."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socdesk.alerts.ingest import deliveries_process, delivery_process, delivery_receive
from socdesk.alerts.models import Alert, DedupKey, WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.core.models import next_counter_value
from socdesk.core.sql import next_counter_values
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import TICKET_NUMBER_COUNTER, TICKET_NUMBER_START

from .conftest import sample

pytestmark = pytest.mark.django_db


def body(
    fingerprint: str, *, name: str = "SSHBruteForce", status: str = "firing", severity="critical"
) -> bytes:
    payload = json.loads(sample("alertmanager_v4.json"))
    alert = payload["alerts"][0]
    alert["fingerprint"], alert["status"] = fingerprint, status
    alert["labels"] |= {"alertname": name, "severity": severity}
    alert["annotations"]["summary"] = f"{name} {fingerprint}"
    payload["status"] = status
    payload["groupKey"] = fingerprint  # each alert its own notification group (grouping is tested apart)
    return json.dumps(payload).encode()


# New, repeat, a second key, a join by grouping key, a repeat that raises the severity, a resolved
# notice, then the resolved alert firing again: every branch of the bulk plan and of its fallback.
SCENARIO = [
    ("a", {}),
    ("a", {}),
    ("b", {"name": "PortScan"}),
    ("c", {}),  # same alertname as a: joins a's ticket (grouping key)
    ("b", {"name": "PortScan"}),
    ("d", {"name": "Beaconing", "severity": "warning"}),
    ("d", {"name": "Beaconing", "severity": "critical"}),  # raises the severity
    ("a", {}),
    ("b", {"name": "PortScan", "status": "resolved"}),
    ("b", {"name": "PortScan"}),
]


def outcome(integration) -> list[tuple]:
    """What the analyst sees, minus numbers and times: alerts with their counts, tickets, threads."""
    rows = []
    for alert in (
        Alert.objects.filter(integration=integration).select_related("ticket").order_by("fingerprint")
    ):
        ticket = alert.ticket
        entries = [
            e.body.split(" — ")[0].replace(integration.name, "NAME")
            for e in ThreadEntry.objects.filter(ticket=ticket).order_by("created_at", "id")
        ]
        rows.append(
            (
                alert.fingerprint,
                alert.occurrence_count,
                alert.status,
                alert.severity,
                ticket.subject,
                ticket.severity,
                ticket.status,
                sorted(ticket.tags.values_list("name", flat=True)),
                sorted(entries),
            )
        )
    return rows


def test_a_batch_in_bulk_ends_as_one_delivery_at_a_time_would(make_integration):
    one_by_one = make_integration("alertmanager", name="one", grouping_key="labels.alertname")
    for fingerprint, fields in SCENARIO:
        delivery = delivery_receive(
            adapter="alertmanager", body=body(fingerprint, **fields), integration=one_by_one
        )
        assert delivery_process(delivery_id=delivery.pk) == "processed"

    bulk = make_integration("alertmanager", name="bulk", grouping_key="labels.alertname")
    ids = [
        delivery_receive(adapter="alertmanager", body=body(fingerprint, **fields), integration=bulk).pk
        for fingerprint, fields in SCENARIO
    ]
    assert deliveries_process(delivery_ids=ids) == dict.fromkeys(ids, "processed")

    expected = outcome(one_by_one)
    assert outcome(bulk) == expected
    assert [row[:3] for row in expected] == [
        ("a", 3, "firing"),
        ("b", 3, "firing"),
        ("c", 1, "firing"),
        ("d", 2, "firing"),
    ]
    assert Ticket.objects.filter(alerts__integration=bulk).distinct().count() == 3
    assert set(WebhookDelivery.objects.filter(pk__in=ids).values_list("alert_count", flat=True)) == {1}


def test_a_flood_batch_costs_a_constant_number_of_queries(make_integration, django_assert_max_num_queries):
    """200 deliveries, 140 new alerts and 60 repeats: a few dozen statements, not 20 per alert."""
    integration = make_integration("alertmanager")
    ids = [
        delivery_receive(adapter="alertmanager", body=body(f"fp{i % 140}"), integration=integration).pk
        for i in range(200)
    ]
    # 40 before search; the batch's search documents add a fixed six (read five tables, one upsert). The
    # routing steps and notifications add a fixed handful: the filters' version row (twice: creation and
    # alert-repeated filters) and, in a process that has none yet, the ruleset's build; the assignment
    # policies; the departments' and the default SLA plan; who asked for new-ticket notifications.
    with django_assert_max_num_queries(46 + 5):
        assert len(deliveries_process(delivery_ids=ids)) == 200
    assert Ticket.objects.count() == 140
    assert sorted(set(Alert.objects.values_list("occurrence_count", flat=True))) == [1, 2]
    assert AuditEvent.objects.filter(action="ticket.created").count() == 140
    assert AuditEvent.objects.filter(action="alert.ingested").count() == 140
    assert AuditEvent.objects.filter(action="alert.deduplicated").count() == 60
    # Each repeated alert has its one repeat line, each ticket its first message.
    assert ThreadEntry.objects.filter(kind="event").count() == 60
    assert ThreadEntry.objects.filter(kind="message").count() == 140


def test_tickets_a_batch_opens_are_written_once_with_their_alert_count(make_integration):
    """New tickets go in with their alerts' occurrences and the batch time, and their new de-dup keys
    with the ticket: no UPDATE rewrites them (a second copy of each row and index entry); a repeat
    on a ticket of an earlier batch updates it once (activity time and recount together)."""
    integration = make_integration("alertmanager")
    first = [
        delivery_receive(adapter="alertmanager", body=body(f"fp{i % 3}"), integration=integration).pk
        for i in range(7)  # fp0 three times, fp1 and fp2 twice: repeats of tickets opened just now
    ]
    with CaptureQueriesContext(connection) as opening:
        assert set(deliveries_process(delivery_ids=first).values()) == {"processed"}
    ticket_updates = [
        q["sql"] for q in opening.captured_queries if q["sql"].startswith('UPDATE "tickets_ticket"')
    ]
    assert ticket_updates == []
    key_writes = [q["sql"] for q in opening.captured_queries if '"alerts_dedupkey"' in q["sql"]]
    assert [q for q in key_writes if q.startswith("UPDATE")] == []
    assert dict(DedupKey.objects.values_list("alerts__fingerprint", "ticket__alerts__fingerprint")) == {
        "fp0": "fp0",
        "fp1": "fp1",
        "fp2": "fp2",
    }
    counts = dict(Ticket.objects.values_list("alerts__fingerprint", "alert_occurrences"))
    assert counts == {"fp0": 3, "fp1": 2, "fp2": 2}
    opened_at = dict(Ticket.objects.values_list("alerts__fingerprint", "last_activity_at"))

    again = [delivery_receive(adapter="alertmanager", body=body("fp1"), integration=integration).pk]
    with CaptureQueriesContext(connection) as repeating:
        assert deliveries_process(delivery_ids=again) == {again[0]: "processed"}
    ticket_updates = [
        q["sql"] for q in repeating.captured_queries if q["sql"].startswith('UPDATE "tickets_ticket"')
    ]
    assert len(ticket_updates) == 1  # its activity time and its recount, in one statement
    ticket = Ticket.objects.get(alerts__fingerprint="fp1")
    assert ticket.alert_occurrences == 3 and ticket.last_activity_at > opened_at["fp1"]
    assert Ticket.objects.get(alerts__fingerprint="fp0").alert_occurrences == 3


def test_counter_values_in_bulk_follow_the_single_ones():
    name, start = TICKET_NUMBER_COUNTER, TICKET_NUMBER_START  # a PostgreSQL sequence, or a SQLite row
    first = next_counter_value(name, start)
    many = next_counter_values(name, 5, start)
    after = next_counter_value(name, start)
    assert many == list(range(first + 1, first + 6)) and after == first + 6
    assert next_counter_values(name, 0) == []


def test_bulk_repeats_keep_last_seen_and_credit_each_sender(make_integration):
    """Two tools' keys repeat one alert in one batch: one audit event per delivery, crediting its sender."""
    from socdesk.accounts.services import apikey_create

    from .conftest import SETUP

    integration = make_integration("alertmanager")
    first = delivery_receive(adapter="alertmanager", body=body("fp"), integration=integration)
    delivery_process(delivery_id=first.pk)
    keys = [apikey_create(actor=SETUP, name=f"tool-{n}", scopes=["alerts:ingest"])[0] for n in range(2)]
    ids = [
        delivery_receive(
            adapter="alertmanager", body=body("fp"), integration=integration, api_key=keys[n % 2]
        ).pk
        for n in range(5)
    ]
    assert deliveries_process(delivery_ids=ids) == dict.fromkeys(ids, "processed")
    alert = Alert.objects.get()
    assert alert.occurrence_count == 6 and alert.last_seen >= alert.first_seen  # a real time, both databases
    events = AuditEvent.objects.filter(action="alert.deduplicated").order_by("id")
    assert [(e.actor_label, e.after["occurrence_count"]) for e in events] == [
        ("key:tool-0", 2),
        ("key:tool-1", 3),
        ("key:tool-0", 4),
        ("key:tool-1", 5),
        ("key:tool-0", 6),
    ]
    assert [e.before["occurrence_count"] for e in events] == [1, 2, 3, 4, 5]


def test_a_personal_tokens_alerts_open_tickets_through_the_checked_service(people, caplog):
    """An agent's token may only open tickets where the agent may: the bulk path leaves those alerts
    to ticket_create (no failed batch, no warning) and the ticket says who opened it."""
    from socdesk.accounts.services import apikey_create

    from .conftest import SETUP

    key, _raw = apikey_create(actor=SETUP, name="alice-script", scopes=["alerts:ingest"], agent=people.alice)
    ids = [delivery_receive(adapter="alertmanager", body=body(f"mine-{n}"), api_key=key).pk for n in range(2)]
    ids.append(delivery_receive(adapter="alertmanager", body=body("mine-0"), api_key=key).pk)
    assert deliveries_process(delivery_ids=ids) == dict.fromkeys(ids, "processed")
    assert "re-running them one at a time" not in caplog.text
    assert Ticket.objects.count() == 2
    assert set(ThreadEntry.objects.filter(kind="note").values_list("author_agent", flat=True)) == {
        people.alice.pk
    }
    repeat = ThreadEntry.objects.get(kind="event", body__startswith="Alert repeated")
    assert repeat.author_agent_id == people.alice.pk


def test_a_crashed_delivery_is_retried_after_a_pause_not_at_once(make_integration, monkeypatch):
    """The ingest loop goes straight on while it finds work: a crashed delivery must not come back in
    the next batch and burn its attempts within a second."""
    from socdesk.alerts import adapters
    from socdesk.alerts.ingest.deliveries import MAX_ATTEMPTS, RETRY_PAUSE_SECONDS, deliveries_drain

    def adapter_bug(*args, **kwargs):  # fault injection: an adapter crashing on this payload
        raise RuntimeError("adapter bug")

    integration = make_integration("alertmanager")
    delivery = delivery_receive(adapter="alertmanager", body=body("x"), integration=integration)
    monkeypatch.setattr(adapters, "normalise", adapter_bug)
    assert deliveries_drain() == {delivery.pk: "pending"}
    assert deliveries_drain() == {}  # paused: not taken again at once
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "adapter bug" in delivery.error
    # Claimable again once its claim looks a lease old: that is RETRY_PAUSE_SECONDS from now.
    lapses_in = (
        delivery.claimed_at + timedelta(seconds=settings.SOCDESK_DELIVERY_LEASE_SECONDS) - timezone.now()
    )
    assert RETRY_PAUSE_SECONDS - 5 <= lapses_in.total_seconds() <= RETRY_PAUSE_SECONDS
    assert MAX_ATTEMPTS > 1


def test_reading_a_delivery_before_its_batch_is_written_touches_no_database(
    make_integration, django_assert_num_queries
):
    """Adapters and observable extraction run outside the batch's transaction and ingest lock (so one
    loop prepares while another writes): they must not read or write anything."""
    from socdesk.alerts.ingest.prepare import prepare_delivery as _prepare

    integration = make_integration("alertmanager")
    delivery = delivery_receive(adapter="alertmanager", body=body("prep-1"), integration=integration)
    delivery = WebhookDelivery.objects.select_related("integration__department").get(pk=delivery.pk)
    with django_assert_num_queries(0):
        ready = _prepare(delivery)
    assert ready.error is None and ready.crash is None
    [item] = ready.items
    assert item.alert.fingerprint == "prep-1" and item.actor is None
    assert ("ip", "203.0.113.7") in item.pairs  # from the description: found before the write
    broken = delivery_receive(adapter="alertmanager", body=b"{not json", integration=integration)
    broken = WebhookDelivery.objects.select_related("integration__department").get(pk=broken.pk)
    with django_assert_num_queries(0):
        failed = _prepare(broken)
    assert failed.items == [] and "line 1" in failed.error.message


def test_a_crash_while_finding_observables_holds_back_that_delivery_only(make_integration, monkeypatch):
    """Extraction runs before the batch's transaction: a bug there must settle like an adapter's (that
    delivery retried later, then failed), never leave the whole batch claimed."""
    from socdesk.alerts.ingest import deliveries_drain
    from socdesk.alerts.ingest import prepare as ticketing

    real = ticketing.observable_pairs

    def extraction_bug(alert):  # fault injection: extraction crashing on one alert's text
        if alert.fingerprint == "bad":
            raise RuntimeError("extraction bug")
        return real(alert)

    integration = make_integration("alertmanager")
    ids = [
        delivery_receive(adapter="alertmanager", body=body(fp), integration=integration).pk
        for fp in ("good-1", "bad", "good-2")
    ]
    monkeypatch.setattr(ticketing, "observable_pairs", extraction_bug)
    assert deliveries_drain() == {ids[0]: "processed", ids[1]: "pending", ids[2]: "processed"}
    bad = WebhookDelivery.objects.get(pk=ids[1])
    assert bad.attempts == 1 and "extraction bug" in bad.error
    assert sorted(Alert.objects.values_list("fingerprint", flat=True)) == ["good-1", "good-2"]


def test_recount_refuses_active_tickets_without_their_time_and_writes_nothing(make_integration):
    from socdesk.alerts.ingest.write import alert_occurrences_refresh

    integration = make_integration("alertmanager")
    delivery = delivery_receive(adapter="alertmanager", body=body("fp"), integration=integration)
    assert delivery_process(delivery_id=delivery.pk) == "processed"
    ticket = Ticket.objects.get()
    Ticket.objects.filter(pk=ticket.pk).update(alert_occurrences=0)
    with pytest.raises(ValueError, match="need `now`, their activity time"):
        alert_occurrences_refresh({ticket.pk}, active=[ticket])
    assert Ticket.objects.get().alert_occurrences == 0
    alert_occurrences_refresh({ticket.pk}, active=[ticket], now=timezone.now())
    assert Ticket.objects.get().alert_occurrences == 1
