"""The ingest pipeline: new ticket, repeats, grouping, resolve, new ticket after close, durability."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from socdesk.alerts.choices import DeliveryStatus
from socdesk.alerts.ingest import deliveries_sweep, delivery_claim, delivery_process, delivery_receive
from socdesk.alerts.models import Alert, AlertRaw, DedupKey, TicketObservable, WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.tickets.choices import Status
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import ticket_change_status

from .conftest import sample

pytestmark = pytest.mark.django_db


def deliver(adapter: str, body: bytes, integration=None) -> WebhookDelivery:
    delivery = delivery_receive(adapter=adapter, body=body, integration=integration, client_ip="192.0.2.10")
    delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def resolve(ticket, people):
    actor = Actor.for_agent(people.alice)
    ticket = ticket_change_status(actor=actor, ticket=ticket, status=Status.IN_PROGRESS)
    return ticket_change_status(
        actor=actor, ticket=ticket, status=Status.RESOLVED, resolution="true_positive"
    )


def test_new_alert_opens_one_ticket_with_alert_raw_observables_and_audit(make_integration):
    integration = make_integration("alertmanager", default_tags=["prometheus"])
    delivery = deliver("alertmanager", sample("alertmanager_v4.json"), integration)
    assert delivery.status == DeliveryStatus.PROCESSED and delivery.alert_count == 1
    ticket = Ticket.objects.get()
    assert ticket.source == "alert" and ticket.severity == "critical"
    assert ticket.subject == "SSH brute force on web01" and ticket.department == integration.department
    assert {"prometheus", "alertmanager"} <= set(ticket.tags.values_list("name", flat=True))
    alert = Alert.objects.get()
    assert alert.ticket == ticket and alert.occurrence_count == 1 and alert.delivery == delivery
    assert AlertRaw.objects.get(alert=alert).payload["fingerprint"] == "1a30ba71cca2921f"
    values = set(TicketObservable.objects.filter(ticket=ticket).values_list("observable__value", flat=True))
    assert {"web01", "203.0.113.7"} <= values
    assert AuditEvent.objects.filter(action="alert.ingested", target_id=str(alert.pk)).exists()
    assert AuditEvent.objects.filter(action="ticket.created", target_id=str(ticket.pk)).exists()


def test_repeat_counts_on_the_open_ticket_with_one_coalesced_note(make_integration):
    integration = make_integration("alertmanager")
    deliver("alertmanager", sample("alertmanager_v4.json"), integration)
    version = Ticket.objects.get().version
    for _ in range(4):
        deliver("alertmanager", sample("alertmanager_v4.json"), integration)
    ticket = Ticket.objects.get()
    assert ticket.version == version  # repeats never make an agent's open edit stale
    alert = Alert.objects.get()
    assert alert.occurrence_count == 5
    repeat_lines = ThreadEntry.objects.filter(ticket=ticket, body__startswith="Alert repeated")
    assert repeat_lines.count() == 1 and "5 occurrences" in repeat_lines.get().body
    assert AuditEvent.objects.filter(action="alert.deduplicated").count() == 4


def test_lists_do_not_load_the_raw_payload(make_integration):
    deliver("alertmanager", sample("alertmanager_v4.json"), make_integration("alertmanager"))
    sql = str(Alert.objects.all().query)
    assert "payload" not in sql


def test_resolved_marks_the_alert_and_notes_it_without_closing_by_default(make_integration):
    integration = make_integration("alertmanager")
    deliver("alertmanager", sample("alertmanager_v4.json"), integration)
    deliver("alertmanager", sample("alertmanager_v4_resolved.json"), integration)
    deliver("alertmanager", sample("alertmanager_v4_resolved.json"), integration)  # resent: no-op
    alert = Alert.objects.get()
    ticket = Ticket.objects.get()
    assert alert.status == "resolved" and alert.occurrence_count == 1
    assert ticket.status == Status.NEW
    assert (
        ThreadEntry.objects.filter(ticket=ticket, body__startswith="Alert resolved at the source").count()
        == 1
    )
    assert AuditEvent.objects.filter(action="alert.resolved").count() == 1


def test_auto_resolve_waits_for_every_alert_on_the_ticket(make_integration):
    integration = make_integration("alertmanager", grouping_key="labels.alertname", auto_resolve=True)
    deliver("alertmanager", sample("alertmanager_v4_two_alerts.json"), integration)
    ticket = Ticket.objects.get()
    assert Alert.objects.filter(ticket=ticket).count() == 2
    deliver("alertmanager", sample("alertmanager_v4_resolved.json"), integration)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW  # web02 still fires
    both = json.loads(sample("alertmanager_v4_two_alerts.json"))
    for entry in both["alerts"]:
        entry["status"] = "resolved"
    deliver("alertmanager", json.dumps(both).encode(), integration)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.resolution == "not_applicable"


def test_after_the_ticket_is_resolved_a_repeat_opens_a_new_linked_ticket(make_integration, people):
    integration = make_integration("alertmanager")
    deliver("alertmanager", sample("alertmanager_v4.json"), integration)
    first = Ticket.objects.get()
    resolve(first, people)
    deliver("alertmanager", sample("alertmanager_v4.json"), integration)
    second = Ticket.objects.exclude(pk=first.pk).get()
    assert second.extra["previous_ticket"] == first.number
    new_alert = Alert.objects.get(ticket=second)
    assert new_alert.previous_ticket == first and new_alert.occurrence_count == 1
    assert first.number in second.entries.first().body
    assert DedupKey.objects.get().ticket == second


def test_resolved_for_an_unknown_alert_creates_nothing(make_integration):
    delivery = deliver(
        "alertmanager", sample("alertmanager_v4_resolved.json"), make_integration("alertmanager")
    )
    assert delivery.status == DeliveryStatus.PROCESSED
    assert not Ticket.objects.exists() and not Alert.objects.exists()


def test_grouping_key_puts_different_alerts_into_one_ticket(make_integration):
    integration = make_integration("alertmanager", grouping_key="labels.alertname")
    deliver("alertmanager", sample("alertmanager_v4_two_alerts.json"), integration)
    ticket = Ticket.objects.get()
    assert sorted(Alert.objects.values_list("fingerprint", flat=True)) == [
        "1a30ba71cca2921f",
        "2b41cb82ddb3a32f",
    ]
    assert ThreadEntry.objects.filter(ticket=ticket, body__startswith="Another alert joined").count() == 1


def test_without_grouping_two_fingerprints_are_two_tickets(make_integration):
    integration = make_integration("alertmanager", group_by="fingerprint")
    deliver("alertmanager", sample("alertmanager_v4_two_alerts.json"), integration)
    assert Ticket.objects.count() == 2


def test_wazuh_events_of_one_rule_agent_and_source_share_a_ticket(make_integration):
    integration = make_integration("wazuh")
    deliver("wazuh", sample("wazuh_alert.json"), integration)
    deliver("wazuh", sample("wazuh_alert.json").replace(b"1713060605.1234567", b"1713060700.1"), integration)
    assert Ticket.objects.count() == 1 and Alert.objects.count() == 2


def test_thehive_ioc_flags_reach_the_ticket(make_integration):
    body = json.loads(sample("thehive_v1_alert.json"))
    body["observables"][0]["ioc"] = True
    deliver("thehive", json.dumps(body).encode(), make_integration("thehive"))
    link = TicketObservable.objects.get(observable__value="203.0.113.7")
    assert link.ioc and link.observable.ioc


def test_adapter_failure_marks_the_delivery_failed_and_keeps_it(make_integration):
    integration = make_integration("generic")
    delivery = deliver("generic", b'{"title": ""}', integration)
    assert delivery.status == DeliveryStatus.FAILED and "title" in delivery.error
    assert bytes(delivery.body) == b'{"title": ""}'
    assert not Ticket.objects.exists() and not Alert.objects.exists()


def test_a_failing_alert_rolls_back_the_whole_delivery(make_integration, monkeypatch):
    """No half-written delivery: when the second alert of a delivery is refused, the first is not kept
    either. The bulk write fails first, then the one-at-a-time re-run fails the delivery alone."""
    from socdesk.alerts.ingest import plan as ticketing

    real_row, calls = ticketing.alert_row, []

    def second_one_fails(**kwargs):  # fault injection: every second alert row, in either path
        calls.append(1)
        if len(calls) % 2 == 0:
            raise ServiceError("Refused for the test.")
        return real_row(**kwargs)

    monkeypatch.setattr(ticketing, "alert_row", second_one_fails)
    delivery = deliver(
        "alertmanager", sample("alertmanager_v4_two_alerts.json"), make_integration("alertmanager")
    )
    assert delivery.status == DeliveryStatus.FAILED and delivery.error == "Refused for the test."
    assert not Ticket.objects.exists() and not Alert.objects.exists() and not DedupKey.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="alert.").exists()


def test_processing_is_idempotent(make_integration):
    delivery = deliver("alertmanager", sample("alertmanager_v4.json"), make_integration("alertmanager"))
    assert delivery_process(delivery_id=delivery.pk) == "skipped"
    assert Alert.objects.get().occurrence_count == 1


def test_claim_is_exclusive():
    delivery = delivery_receive(adapter="alertmanager", body=sample("alertmanager_v4.json"))
    assert delivery_claim(delivery.pk) is True
    assert delivery_claim(delivery.pk) is False


def test_worker_down_deliveries_stay_pending_and_the_sweep_processes_them(make_integration):
    integration = make_integration("alertmanager")
    body = sample("alertmanager_v4.json")
    ids = [delivery_receive(adapter="alertmanager", body=body, integration=integration).pk for _ in range(3)]
    # nothing ran them (no worker; on_commit callbacks never fire inside this test transaction)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
    assert deliveries_sweep(older_than=timedelta(hours=1)) == 0  # too recent for the sweep
    assert deliveries_sweep(older_than=timedelta(0)) == 3
    assert set(WebhookDelivery.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"processed"}
    assert Alert.objects.get().occurrence_count == 3
    event = AuditEvent.objects.filter(action="alert.ingested").get()
    assert event.actor_label == "alert-sweeper for integration:" + integration.name


def test_a_crashed_worker_claim_is_taken_over_after_the_lease(make_integration, settings):
    delivery = delivery_receive(adapter="alertmanager", body=sample("alertmanager_v4.json"))
    assert delivery_claim(delivery.pk)  # a worker took it and died
    assert deliveries_sweep(older_than=timedelta(0)) == 0
    settings.SOCDESK_DELIVERY_LEASE_SECONDS = -1  # lease expired
    assert deliveries_sweep(older_than=timedelta(0)) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED and delivery.attempts == 2


def test_receive_and_process_at_once_returns_the_alerts(make_integration):
    from socdesk.alerts.ingest import delivery_receive_and_process

    integration = make_integration("thehive")
    delivery, alerts = delivery_receive_and_process(
        adapter="thehive", body=sample("thehive_v1_alert.json"), integration=integration
    )
    assert delivery.status == "processed" and [a.external_id for a in alerts] == ["1713060605.1234567"]
    _again, repeat = delivery_receive_and_process(
        adapter="thehive", body=sample("thehive_v1_alert.json"), integration=integration
    )
    assert repeat[0].pk == alerts[0].pk and repeat[0].occurrence_count == 2
    failed, none = delivery_receive_and_process(
        adapter="thehive", body=b'{"title": "x"}', integration=integration
    )
    assert failed.status == "failed" and "sourceRef" in failed.error and none == []


def test_failed_deliveries_can_be_requeued_after_fixing_the_integration(make_integration, people):
    from socdesk.alerts.ingest import deliveries_requeue

    integration = make_integration("generic", field_map={"title": "nothing.here"})
    delivery = deliver("generic", sample("generic_custom.json"), integration)
    assert delivery.status == "failed"
    integration.field_map = {"title": "event.name", "fingerprint": "event.key"}
    integration.save()
    assert deliveries_requeue(actor=Actor.for_agent(people.admin), delivery_ids=[delivery.pk]) == 1
    assert deliveries_requeue(actor=Actor.for_agent(people.admin), delivery_ids=[delivery.pk]) == 0
    assert delivery_process(delivery_id=delivery.pk) == "processed"
    assert Ticket.objects.get().subject == "Impossible travel for jdoe"
    assert AuditEvent.objects.filter(action="delivery.requeued", actor_label="admin").exists()


def test_personal_token_ingest_respects_the_agent_and_a_refused_auto_resolve_keeps_the_alert(
    make_integration, people
):
    from socdesk.accounts.services import access_grant, agent_create, apikey_create, role_create

    setup = Actor.system("test-setup")
    reporter = role_create(actor=setup, name="Reporter", permissions=["view", "create"])
    dana = agent_create(actor=setup, username="dana", email="dana@example.test", password="x" * 12)
    access_grant(actor=setup, agent=dana, department=people.soc, role=reporter)
    key, _raw = apikey_create(actor=setup, name="dana-token", scopes=["alerts:ingest"], agent=dana)
    integration = make_integration("alertmanager", auto_resolve=True)
    for fixture in ("alertmanager_v4.json", "alertmanager_v4_resolved.json"):
        delivery = delivery_receive(
            adapter="alertmanager", body=sample(fixture), integration=integration, api_key=key
        )
        assert delivery_process(delivery_id=delivery.pk) == "processed"
    ticket = Ticket.objects.get()
    assert Alert.objects.get().status == "resolved" and ticket.status == Status.NEW
    assert ThreadEntry.objects.filter(ticket=ticket, body__startswith="Auto-resolve was refused").exists()
    # carol's token cannot open tickets in SOC: the delivery fails with the reason, nothing is half-written
    carol_key, _ = apikey_create(
        actor=setup, name="carol-token", scopes=["alerts:ingest"], agent=people.carol
    )
    other = make_integration("grafana")
    delivery = delivery_receive(
        adapter="grafana", body=sample("grafana_webhook.json"), integration=other, api_key=carol_key
    )
    assert delivery_process(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert "may not open tickets in SOC" in delivery.error and Ticket.objects.count() == 1


def test_a_more_severe_alert_raises_the_ticket_severity_never_lowers_it(make_integration):
    integration = make_integration("alertmanager", grouping_key="labels.alertname")
    body = json.loads(sample("alertmanager_v4_two_alerts.json"))
    web02 = {**body, "alerts": [body["alerts"][1]]}  # severity warning → medium
    web01 = {**body, "alerts": [body["alerts"][0]]}  # severity critical
    deliver("alertmanager", json.dumps(web02).encode(), integration)
    ticket = Ticket.objects.get()
    assert ticket.severity == "medium"
    deliver("alertmanager", json.dumps(web01).encode(), integration)  # joins the ticket
    ticket.refresh_from_db()
    assert ticket.severity == "critical"
    assert AuditEvent.objects.filter(action="ticket.severity_changed", target_id=str(ticket.pk)).count() == 1
    deliver("alertmanager", json.dumps(web02).encode(), integration)  # a medium repeat changes nothing
    ticket.refresh_from_db()
    assert ticket.severity == "critical"
    web02["alerts"][0]["labels"]["severity"] = (
        "critical"  # the same alert, now critical: its own severity rises
    )
    deliver("alertmanager", json.dumps(web02).encode(), integration)
    assert Alert.objects.get(fingerprint="2b41cb82ddb3a32f").severity == "critical"
    assert AuditEvent.objects.filter(action="ticket.severity_changed").count() == 1


def test_nul_characters_are_dropped_so_postgresql_can_store_the_alert(make_integration):
    """Found by fuzzing: JSON allows \\u0000, PostgreSQL text and jsonb do not."""
    body = (
        b'{"search_name": "SSH\\u0000 Brute Force?", '
        b'"result": {"\\u0000src": "203.0.113.7\\u0000", "u": "\\ud800"}}'
    )
    delivery = deliver("splunk", body, make_integration("splunk"))
    assert delivery.status == "processed", delivery.error
    assert bytes(delivery.body) == body  # the delivery keeps the bytes as sent
    alert = Alert.objects.get()
    assert alert.rule == "SSH Brute Force?"  # the detection rule's name is scrubbed like the title
    assert alert.title.startswith("SSH Brute Force?") and AlertRaw.objects.get().payload["result"] == {
        "src": "203.0.113.7",
        "u": "\ufffd",
    }


def test_one_failing_delivery_in_a_batch_leaves_the_others_processed(make_integration, monkeypatch):
    """The batch runs without savepoints; a failure re-runs it isolated: the bad one fails alone, whole."""
    from socdesk.alerts import ingest as services

    integration = make_integration("alertmanager", group_by="fingerprint")  # three tickets
    bodies = []
    for index in range(3):
        body = json.loads(sample("alertmanager_v4.json"))
        body["alerts"][0]["fingerprint"] = f"batch-{index}"
        body["groupKey"] = f"batch-{index}"
        bodies.append(json.dumps(body).encode())
    ids = [delivery_receive(adapter="alertmanager", body=b, integration=integration).pk for b in bodies]
    from socdesk.alerts.ingest import plan as ticketing

    real_row = ticketing.alert_row

    def middle_one_fails(**kwargs):  # fault injection: the bulk write and the re-run both refuse it
        if kwargs["alert"].fingerprint == "batch-1":
            raise ServiceError("Refused for the test.")
        return real_row(**kwargs)

    monkeypatch.setattr(ticketing, "alert_row", middle_one_fails)
    outcome = services.deliveries_process(delivery_ids=ids)
    assert outcome == {ids[0]: "processed", ids[1]: "failed", ids[2]: "processed"}
    assert sorted(Alert.objects.values_list("fingerprint", flat=True)) == ["batch-0", "batch-2"]
    assert Ticket.objects.count() == 2
    assert WebhookDelivery.objects.get(pk=ids[1]).error == "Refused for the test."
    assert AuditEvent.objects.filter(action="alert.ingested").count() == 2


def test_a_batch_processes_every_delivery_in_one_go(make_integration):
    integration = make_integration("alertmanager")
    body = sample("alertmanager_v4.json")
    ids = [delivery_receive(adapter="alertmanager", body=body, integration=integration).pk for _ in range(4)]
    from socdesk.alerts.ingest import deliveries_process

    assert deliveries_process(delivery_ids=ids) == dict.fromkeys(ids, "processed")
    assert Alert.objects.get().occurrence_count == 4 and Ticket.objects.count() == 1
    # One audit event per repeated delivery, however the deliveries were batched (docs/audit.md).
    events = AuditEvent.objects.filter(action="alert.deduplicated").order_by("id")
    assert [(e.before["occurrence_count"], e.after["occurrence_count"]) for e in events] == [
        (1, 2),
        (2, 3),
        (3, 4),
    ]


def test_drain_takes_the_oldest_waiting_deliveries_and_then_finds_none(
    make_integration, django_assert_num_queries
):
    from socdesk.alerts.ingest import deliveries_drain

    integration = make_integration("alertmanager")
    body = sample("alertmanager_v4.json")
    ids = [delivery_receive(adapter="alertmanager", body=body, integration=integration).pk for _ in range(3)]
    assert deliveries_drain() == dict.fromkeys(ids, "processed")  # one batch took all three
    with django_assert_num_queries(1):
        assert deliveries_drain() == {}  # the idle loop's look: one indexed query
    assert Alert.objects.get().occurrence_count == 3


def test_drain_bounds_a_batch_by_body_bytes(make_integration, settings):
    from socdesk.alerts.ingest import deliveries_drain

    integration = make_integration("alertmanager")
    body = sample("alertmanager_v4.json")
    ids = [delivery_receive(adapter="alertmanager", body=body, integration=integration).pk for _ in range(4)]
    settings.SOCDESK_DELIVERY_BATCH_BYTES = 2 * len(body)
    assert list(deliveries_drain()) == ids[:2]  # two bodies' worth
    settings.SOCDESK_DELIVERY_BATCH_BYTES = 1
    assert list(deliveries_drain()) == ids[2:3]  # the oldest is taken however large
    assert WebhookDelivery.objects.get(pk=ids[3]).status == DeliveryStatus.PENDING


def test_a_delivery_of_many_resolved_notices_is_processed_in_one_go(make_integration):
    """Resolved notices are matched to the firing alerts their keys left behind in one query that
    neither database refuses, however many notices a body holds (SQLite caps expression depth)."""
    integration = make_integration("generic")
    firing = [{"title": f"probe {n}", "fingerprint": f"fp-{n}"} for n in range(3)]
    deliver("generic", json.dumps(firing).encode(), integration)
    Ticket.objects.update(status=Status.CLOSED)  # closed by an analyst while the alerts still fire
    resolved = [{"title": f"probe {n}", "fingerprint": f"fp-{n}", "status": "resolved"} for n in range(1200)]
    delivery = deliver("generic", json.dumps(resolved).encode(), integration)
    assert delivery.status == DeliveryStatus.PROCESSED, delivery.error
    assert sorted(Alert.objects.values_list("fingerprint", "status")) == [
        (f"fp-{n}", "resolved") for n in range(3)
    ]
    assert AuditEvent.objects.filter(action="alert.resolved").count() == 3
