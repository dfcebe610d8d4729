"""One engine: the same deliveries end in the same state however they were batched.

Randomised sequences of alerts (new, repeats, grouped alerts joining a ticket, resolved notices with
auto-resolve, alerts firing again after their ticket was resolved, severity raises) go through the
engine in batches of 1, 7 and 500. Tickets, thread lines (in the order the console shows them),
alerts, observables, de-dup keys, deliveries and the audit trail (every event, in order) must come
out identical. Ids and ticket numbers differ between runs (sequences are not rolled back), so each is
named by its order; the clock ticks on every reading, so times differ too and are compared only as
an order: a thread shown by time must read as it happened, and a ticket's last activity is never
before anything on it.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from socdesk.alerts.ingest import deliveries_process, delivery_receive
from socdesk.alerts.models import Alert, DedupKey, TicketObservable, WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import ThreadEntry, Ticket

START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SEVERITIES = ["low", "medium", "high", "critical"]


def sequence(seed: int, count: int) -> list[tuple[str, bytes]]:
    """(integration name, body) pairs: a grouped, auto-resolving tool and a plain one."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        grouped = rng.random() < 0.6
        host = rng.choice(["web-01", "db-02", "vpn-03"])
        kinds = ["ssh", "sudo"] if grouped else ["ssh", "sudo", "scan", "beacon"]
        fingerprint = f"{host}-{rng.choice(kinds)}"
        alerts = [
            {
                "title": f"{fingerprint} on {host}",
                "description": f"Seen from 203.0.113.{rng.randint(1, 4)} against {host}.example.test",
                "fingerprint": fingerprint,
                "host": host,
                "severity": rng.choice(SEVERITIES),
                "status": "resolved" if rng.random() < 0.4 else "firing",
            }
        ]
        if rng.random() < 0.15:  # now and then two alerts in one delivery
            alerts.append(dict(alerts[0], fingerprint=fingerprint + "-b", title=alerts[0]["title"] + " (b)"))
        bodies.append(("grouped" if grouped else "plain", json.dumps(alerts).encode()))
    return bodies


def alertmanager_sequence(seed: int, count: int) -> list[tuple[str, bytes]]:
    """Alertmanager notifications: two groups whose alerts fire, repeat and resolve in any mix, sent to
    an integration grouping by groupKey (auto-resolving) and to one grouping by fingerprint."""
    rng = random.Random(seed)
    groups = {
        '{}:{alertname="SSHBruteForce"}': ["web-01", "web-02", "db-02"],
        '{}:{alertname="PortScan"}': ["vpn-03", "web-01"],
    }
    bodies = []
    for _ in range(count):
        group_key, hosts = rng.choice(sorted(groups.items()))
        alertname = group_key.split('"')[1]
        alerts = [
            {
                "status": "resolved" if rng.random() < 0.35 else "firing",
                "labels": {
                    "alertname": alertname,
                    "instance": f"{host}:9100",
                    "severity": rng.choice(["warning", "critical", "info"]),
                },
                "annotations": {"summary": f"{alertname} on {host}", "description": f"from 203.0.113.{n}"},
                "startsAt": "2026-11-29T12:00:00Z",
                "fingerprint": f"{alertname}-{host}",
            }
            for n, host in enumerate(rng.sample(hosts, rng.randint(1, len(hosts))), 1)
        ]
        body = {"version": "4", "groupKey": group_key, "status": "firing", "alerts": alerts}
        bodies.append((rng.choice(["by-group", "by-fingerprint"]), json.dumps(body).encode()))
    return bodies


def run(bodies, integrations, batch: int) -> dict:
    """Ingest the bodies in batches of `batch` inside a savepoint; the resulting state, then roll back."""
    with transaction.atomic():
        ids = [
            delivery_receive(adapter=integrations[name].adapter, body=body, integration=integrations[name]).pk
            for name, body in bodies
        ]
        for start in range(0, len(ids), batch):
            outcome = deliveries_process(delivery_ids=ids[start : start + batch])
            assert set(outcome.values()) == {"processed"}
        state = snapshot(ids)
        transaction.set_rollback(True)
    return state


def snapshot(delivery_ids: list[int]) -> dict:
    tickets = list(Ticket.objects.order_by("id"))
    ticket_name = {t.number: f"T{n}" for n, t in enumerate(tickets, 1)}
    alerts = list(Alert.objects.order_by("id"))
    alert_name = {a.pk: f"A{n}" for n, a in enumerate(alerts, 1)}
    delivery_name = {pk: f"D{n}" for n, pk in enumerate(delivery_ids, 1)}
    number = re.compile(r"\b[A-Z]+-\d+\b")
    clock = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")

    def plain(value):
        if isinstance(value, str):
            return clock.sub("<time>", number.sub(lambda m: ticket_name.get(m.group(0), m.group(0)), value))
        if isinstance(value, dict):
            return {k: (delivery_name.get(v, v) if k == "delivery" else plain(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    by_id = {t.pk: ticket_name[t.number] for t in tickets}
    return {
        "tickets": [
            {
                "name": ticket_name[t.number],
                "subject": t.subject,
                "status": t.status,
                "severity": t.severity,
                "resolution": t.resolution,
                "version": t.version,
                "extra": plain(t.extra),
                "tags": sorted(t.tags.values_list("name", flat=True)),
                "thread": [  # as the console orders it
                    (e.kind, e.author_label, plain(e.body))
                    for e in ThreadEntry.objects.filter(ticket=t).order_by("created_at", "id")
                ],
                "last activity after everything on it": t.last_activity_at
                >= max(
                    [t.created_at, *ThreadEntry.objects.filter(ticket=t).values_list("created_at", flat=True)]
                ),
                "observables": sorted(
                    (link.observable.type, link.observable.value, link.ioc, link.sighted)
                    for link in TicketObservable.objects.filter(ticket=t).select_related("observable")
                ),
            }
            for t in tickets
        ],
        "alerts": [
            {
                "name": alert_name[a.pk],
                "ticket": by_id.get(a.ticket_id),
                "previous": by_id.get(a.previous_ticket_id),
                "fingerprint": a.fingerprint,
                "severity": a.severity,
                "status": a.status,
                "count": a.occurrence_count,
                "resolved": a.resolved_at is not None,
                "delivery": delivery_name.get(a.delivery_id),
                "repeat_line": plain(ThreadEntry.objects.get(pk=a.repeat_entry_id).body)
                if a.repeat_entry_id
                else None,
                "observables": sorted(a.observables.values_list("type", "value")),
            }
            for a in alerts
        ],
        "keys": sorted((k.label, by_id.get(k.ticket_id)) for k in DedupKey.objects.all()),
        "deliveries": [
            (d.status, d.alert_count, d.error)
            for d in WebhookDelivery.objects.filter(pk__in=delivery_ids).order_by("id")
        ],
        "audit": [
            (
                e.action,
                e.actor_label,
                e.target_type,
                {"ticket": by_id, "alert": alert_name}.get(e.target_type, {}).get(int(e.target_id or 0)),
                plain(e.before),
                plain(e.after),
            )
            for e in AuditEvent.objects.filter(action__in=INGEST_ACTIONS).order_by("id")
        ],
    }


INGEST_ACTIONS = [
    "ticket.created",
    "ticket.status_changed",
    "ticket.severity_changed",
    "alert.ingested",
    "alert.deduplicated",
    "alert.resolved",
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_batching_of_the_same_deliveries_ends_in_the_same_state(make_integration, monkeypatch, seed):
    ticks = itertools.count()
    monkeypatch.setattr("django.utils.timezone.now", lambda: START + timedelta(milliseconds=next(ticks)))
    integrations = {
        "grouped": make_integration("generic", name="grouped", grouping_key="host", auto_resolve=True),
        "plain": make_integration("generic", name="plain"),
    }
    bodies = sequence(seed, 120)
    one_by_one = run(bodies, integrations, 1)
    # The sequence exercises every outcome, or the comparison proves little.
    actions = {event[0] for event in one_by_one["audit"]}
    assert actions == set(INGEST_ACTIONS), actions
    assert any(a["previous"] for a in one_by_one["alerts"])  # fired again after its ticket was resolved
    assert any("joined" in line[2] for t in one_by_one["tickets"] for line in t["thread"])
    for batch in (7, 500):
        batched = run(bodies, integrations, batch)
        assert batched == one_by_one, f"batches of {batch}: {first_difference(one_by_one, batched)}"


@pytest.mark.parametrize("seed", [4, 5])
def test_alertmanager_groups_end_in_the_same_state_however_batched(make_integration, monkeypatch, seed):
    ticks = itertools.count()
    monkeypatch.setattr("django.utils.timezone.now", lambda: START + timedelta(milliseconds=next(ticks)))
    integrations = {
        "by-group": make_integration("alertmanager", name="by-group", auto_resolve=True),
        "by-fingerprint": make_integration(
            "alertmanager", name="by-fingerprint", group_by="fingerprint", auto_resolve=True
        ),
    }
    bodies = alertmanager_sequence(seed, 80)
    one_by_one = run(bodies, integrations, 1)
    actions = {event[0] for event in one_by_one["audit"]}
    assert {"alert.ingested", "alert.deduplicated", "alert.resolved", "ticket.status_changed"} <= actions
    assert any("joined" in line[2] for t in one_by_one["tickets"] for line in t["thread"])
    # Grouped tickets hold several fingerprints; per-fingerprint tickets hold exactly one.
    prints: dict[str, set[str]] = {}
    for alert in one_by_one["alerts"]:
        prints.setdefault(alert["ticket"], set()).add(alert["fingerprint"])
    assert max(len(p) for p in prints.values()) > 1
    for batch in (7, 500):
        batched = run(bodies, integrations, batch)
        assert batched == one_by_one, f"batches of {batch}: {first_difference(one_by_one, batched)}"


def first_difference(expected: dict, actual: dict) -> str:
    """Name the first row that differs, so a failure says where the two runs part."""
    for part, rows in expected.items():
        for index, (want, got) in enumerate(zip(rows, actual[part], strict=False)):
            if want != got:
                return f"{part}[{index}]: one by one {want!r}, batched {got!r}"
        if len(rows) != len(actual[part]):
            return f"{part}: {len(rows)} rows one by one, {len(actual[part])} batched"
    return "no difference found"
