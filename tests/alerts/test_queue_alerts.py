"""The queue's Alerts column: Ticket.alert_occurrences kept by ingest, shown, sorted, read without N+1."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from django.apps import apps
from django.test import Client

from socdesk.accounts.services import apikey_create
from socdesk.alerts.ingest import deliveries_process, delivery_process, delivery_receive
from socdesk.alerts.models import Alert
from socdesk.tickets.models import Ticket

from .conftest import SETUP, sample

pytestmark = pytest.mark.django_db


def login(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def ingest(integration, body: bytes, adapter: str = "alertmanager") -> None:
    delivery_process(delivery_id=delivery_receive(adapter=adapter, body=body, integration=integration).pk)


def alertmanager_body(instance: str, fingerprint: str) -> bytes:
    body = json.loads(sample("alertmanager_v4.json"))
    for alert in body["alerts"]:
        alert["labels"]["instance"] = f"{instance}:9100"
        alert["annotations"]["summary"] = f"SSH brute force on {instance}"
        alert["fingerprint"] = fingerprint
    body.pop("commonLabels", None)
    return json.dumps(body).encode()


def stored_sums() -> dict[str, int]:
    sums: dict[str, int] = {}
    for number, count in Alert.objects.values_list("ticket__number", "occurrence_count"):
        sums[number] = sums.get(number, 0) + count
    return sums


def test_ingest_keeps_the_ticket_occurrence_total_equal_to_its_alerts(make_integration):
    integration = make_integration("alertmanager", grouping_key="labels.alertname")
    two = sample("alertmanager_v4_two_alerts.json")
    ingest(integration, two)
    ticket = Ticket.objects.get()
    ticket.refresh_from_db()
    assert ticket.alert_occurrences == 2
    ingest(integration, two)
    ingest(integration, two)
    ticket.refresh_from_db()
    assert ticket.alert_occurrences == 6
    ingest(integration, sample("alertmanager_v4_resolved.json"))  # a resolved notice is no occurrence
    ticket.refresh_from_db()
    assert ticket.alert_occurrences == 6 == stored_sums()[ticket.number]


def test_a_batch_of_deliveries_counts_each_ticket_once_per_occurrence(make_integration):
    integration = make_integration("alertmanager", group_by="fingerprint")
    bodies = [alertmanager_body("web01", "aa01")] * 4 + [alertmanager_body("web02", "bb02")] * 2
    ids = [delivery_receive(adapter="alertmanager", body=b, integration=integration).pk for b in bodies]
    deliveries_process(delivery_ids=ids)
    totals = dict(Ticket.objects.values_list("number", "alert_occurrences"))
    assert sorted(totals.values()) == [2, 4]
    assert totals == stored_sums()


def test_the_migration_backfills_tickets_from_their_alerts(make_integration, soc_ticket):
    integration = make_integration("alertmanager", group_by="fingerprint")
    for _ in range(3):
        ingest(integration, alertmanager_body("web01", "aa01"))
    Ticket.objects.update(alert_occurrences=0)
    migration = importlib.import_module("socdesk.alerts.migrations.0006_backfill_ticket_alert_occurrences")
    migration.backfill(apps, None)
    assert dict(Ticket.objects.values_list("number", "alert_occurrences")) == {
        Alert.objects.get().ticket.number: 3,
        soc_ticket.number: 0,
    }


@pytest.fixture
def noisy_and_quiet(make_integration, soc_ticket):
    """Three SOC tickets: web01 fired 5 times, web02 twice, soc_ticket has no alerts."""
    integration = make_integration("alertmanager", group_by="fingerprint")
    for _ in range(5):
        ingest(integration, alertmanager_body("web01", "aa01"))
    for _ in range(2):
        ingest(integration, alertmanager_body("web02", "bb02"))
    tickets = {t.subject.rsplit(" ", 1)[-1]: t for t in Ticket.objects.exclude(pk=soc_ticket.pk)}
    return tickets["web01"], tickets["web02"], soc_ticket


def numbers_in(html: str) -> list[str]:
    return re.findall(r'name="ticket" value="([^"]+)"', html)


def test_queue_shows_the_alerts_column(people, noisy_and_quiet):
    web01, _web02, quiet = noisy_and_quiet
    html = login(people.alice).get("/tickets/?queue=all").content.decode()
    assert "Alerts</a>" in html
    row = html.split(f'value="{web01.number}"')[1].split("</tr>")[0]
    assert '<td class="num" data-col="alerts">\u00d75</td>' in row
    row = html.split(f'value="{quiet.number}"')[1].split("</tr>")[0]
    assert '<td class="num" data-col="alerts"><span class="muted">' in row


def test_queue_sorts_by_alerts_both_ways(people, noisy_and_quiet):
    web01, web02, quiet = noisy_and_quiet
    alice = login(people.alice)
    most = numbers_in(alice.get("/tickets/?queue=all&sort=alerts").content.decode())
    assert most == [web01.number, web02.number, quiet.number]
    fewest = numbers_in(alice.get("/tickets/?queue=all&sort=-alerts").content.decode())
    assert fewest == [quiet.number, web02.number, web01.number]


def test_api_sorts_by_alerts_and_pages_through_them(people, noisy_and_quiet):
    web01, web02, quiet = noisy_and_quiet
    _key, raw = apikey_create(actor=SETUP, name="soar", scopes=["tickets:read"])
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    first = client.get("/api/v1/tickets?sort=alerts&limit=2").json()
    assert [t["number"] for t in first["items"]] == [web01.number, web02.number]
    rest = client.get(f"/api/v1/tickets?sort=alerts&limit=2&cursor={first['next']}").json()
    assert [t["number"] for t in rest["items"]] == [quiet.number]


def test_queue_with_alert_tickets_runs_a_constant_number_of_queries(
    people, make_integration, django_assert_max_num_queries
):
    integration = make_integration("alertmanager", group_by="fingerprint")
    for i in range(3):
        ingest(integration, alertmanager_body(f"host{i}", f"f{i}"))
    alice = login(people.alice)
    alice.get("/tickets/?queue=all&sort=alerts")  # warm the session
    with django_assert_max_num_queries(16) as few:  # 15, and the notification bell's count
        alice.get("/tickets/?queue=all&sort=alerts")
    for i in range(3, 30):
        ingest(integration, alertmanager_body(f"host{i}", f"f{i}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = alice.get("/tickets/?queue=all&sort=alerts").content.decode()
    assert html.count('data-col="alerts">\u00d71<') == 30
