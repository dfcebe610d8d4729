"""Alertmanager grouping: one ticket per notification group (groupKey), each alert tracked inside it."""

from __future__ import annotations

import json

import pytest

from socdesk.alerts import adapters
from socdesk.alerts.adapters import AdapterSettings
from socdesk.alerts.choices import AlertStatus, GroupBy
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.ingest.plan import still_firing
from socdesk.alerts.integrations import integration_problems
from socdesk.alerts.models import Alert, DedupKey
from socdesk.audit.models import AuditEvent
from socdesk.tickets.choices import Status
from socdesk.tickets.models import ThreadEntry, Ticket

from .conftest import sample

GROUP = '{}/{severity="critical"}:{alertname="SSHBruteForce"}'


def notification(*alerts: tuple[str, str], group: str = GROUP) -> bytes:
    """An Alertmanager body of one group: (fingerprint, status) per alert, host named after the print."""
    entries = [
        {
            "status": status,
            "labels": {"alertname": "SSHBruteForce", "severity": "critical", "instance": f"{fp}:9100"},
            "annotations": {"summary": f"SSH brute force on {fp}"},
            "startsAt": "2024-04-14T02:10:05Z",
            "fingerprint": fp,
        }
        for fp, status in alerts
    ]
    group_status = "firing" if any(s == "firing" for _, s in alerts) else "resolved"
    return json.dumps(
        {"version": "4", "groupKey": group, "status": group_status, "receiver": "soc", "alerts": entries}
    ).encode()


def deliver(body: bytes, integration) -> None:
    delivery = delivery_receive(adapter="alertmanager", body=body, integration=integration)
    assert delivery_process(delivery_id=delivery.pk) == "processed"


def states(ticket: Ticket) -> dict[str, tuple[str, int]]:
    return {a.fingerprint: (a.status, a.occurrence_count) for a in Alert.objects.filter(ticket=ticket)}


# --- the adapter (pure) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("adapter_settings", "grouped"),
    [
        (AdapterSettings(), True),  # the default: by groupKey
        (AdapterSettings(group_by="group"), True),
        (AdapterSettings(group_by="fingerprint"), False),
    ],
)
def test_one_notifications_alerts_share_its_groupkey_unless_by_fingerprint(adapter_settings, grouped):
    a, b = adapters.normalise("alertmanager", sample("alertmanager_v4_two_alerts.json"), adapter_settings)
    assert (a.fingerprint, b.fingerprint) == ("1a30ba71cca2921f", "2b41cb82ddb3a32f")
    if grouped:
        assert a.group_key == b.group_key and a.group_key.startswith("amgroup:")
        assert a.dedup_key == b.dedup_key
    else:
        assert a.group_key == b.group_key == ""
        assert a.dedup_key != b.dedup_key


def test_a_configured_grouping_key_wins_over_the_groupkey():
    adapter_settings = AdapterSettings(grouping_key="labels.instance")
    a, b = adapters.normalise("alertmanager", sample("alertmanager_v4_two_alerts.json"), adapter_settings)
    assert a.group_key.startswith("group:") and a.group_key != b.group_key


def test_a_body_without_groupkey_falls_back_to_the_fingerprint():
    body = json.loads(notification(("web01", "firing")))
    del body["groupKey"]
    (alert,) = adapters.normalise("alertmanager", json.dumps(body).encode(), AdapterSettings())
    assert alert.group_key == "" and alert.dedup_key == "web01"


def test_grafana_is_not_grouped_by_its_groupkey():
    alerts = adapters.normalise("grafana", sample("grafana_webhook.json"), AdapterSettings())
    assert all(not a.group_key for a in alerts)


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "no alert on this ticket is still firing"),
        (1, "1 alert on this ticket still firing"),
        (3, "3 alerts on this ticket still firing"),
    ],
)
def test_still_firing_wording(count, text):
    assert still_firing(count) == text


def test_group_by_is_validated():
    assert integration_problems({"group_by": "fingerprint"}) == {}
    assert integration_problems({"group_by": "labels"}) == {"group_by": "Use one of: group, fingerprint."}


# --- the pipeline (database) --------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_group_opens_one_ticket_with_one_alert_row_per_fingerprint(make_integration):
    integration = make_integration("alertmanager")
    assert integration.group_by == GroupBy.GROUP  # the default
    deliver(sample("alertmanager_v4_two_alerts.json"), integration)
    ticket = Ticket.objects.get()
    assert states(ticket) == {"1a30ba71cca2921f": ("firing", 1), "2b41cb82ddb3a32f": ("firing", 1)}
    assert DedupKey.objects.count() == 1
    line = ThreadEntry.objects.get(ticket=ticket, body__startswith="Another alert joined")
    assert line.body.endswith("(2 alerts on this ticket still firing)")
    assert AuditEvent.objects.filter(action="alert.ingested").count() == 2


@pytest.mark.django_db
def test_repeat_of_the_group_counts_each_alert_on_the_same_ticket(make_integration):
    integration = make_integration("alertmanager")
    body = notification(("web01", "firing"), ("web02", "firing"))
    deliver(body, integration)
    deliver(body, integration)  # Alertmanager re-sends the group every repeat_interval
    ticket = Ticket.objects.get()
    assert states(ticket) == {"web01": ("firing", 2), "web02": ("firing", 2)}
    assert AuditEvent.objects.filter(action="alert.deduplicated").count() == 2


@pytest.mark.django_db
def test_a_second_alert_of_the_group_joins_its_ticket(make_integration):
    integration = make_integration("alertmanager")
    deliver(notification(("web01", "firing")), integration)
    deliver(notification(("web01", "firing"), ("web02", "firing")), integration)
    ticket = Ticket.objects.get()
    assert states(ticket) == {"web01": ("firing", 2), "web02": ("firing", 1)}
    assert ThreadEntry.objects.filter(ticket=ticket, body__startswith="Another alert joined").count() == 1
    # Another group (another route or group labels) is another ticket.
    deliver(notification(("db01", "firing"), group='{}:{alertname="DiskFull"}'), integration)
    assert Ticket.objects.count() == 2


@pytest.mark.django_db
def test_resolving_one_alert_resolves_that_alert_only_and_says_how_many_still_fire(make_integration):
    integration = make_integration("alertmanager", auto_resolve=True)
    deliver(notification(("web01", "firing"), ("web02", "firing")), integration)
    deliver(notification(("web01", "resolved"), ("web02", "firing")), integration)
    ticket = Ticket.objects.get()
    assert states(ticket) == {"web01": ("resolved", 1), "web02": ("firing", 2)}
    assert ticket.status == Status.NEW  # web02 still fires: auto-resolve waits
    line = ThreadEntry.objects.get(ticket=ticket, body__startswith="Alert resolved at the source")
    assert line.body == (
        "Alert resolved at the source: SSH brute force on web01 (1 alert on this ticket still firing)"
    )


@pytest.mark.django_db
def test_resolving_every_alert_auto_resolves_the_ticket(make_integration):
    integration = make_integration("alertmanager", auto_resolve=True)
    deliver(notification(("web01", "firing"), ("web02", "firing")), integration)
    deliver(notification(("web01", "resolved"), ("web02", "resolved")), integration)
    ticket = Ticket.objects.get()
    assert {status for status, _ in states(ticket).values()} == {AlertStatus.RESOLVED}
    assert ticket.status == Status.RESOLVED and ticket.resolution == "not_applicable"
    assert ThreadEntry.objects.filter(
        ticket=ticket, body__endswith="(no alert on this ticket is still firing)"
    ).exists()
    # The group fires again after its ticket was resolved: a new ticket, linked to the old one.
    deliver(notification(("web02", "firing")), integration)
    second = Ticket.objects.exclude(pk=ticket.pk).get()
    assert second.extra["previous_ticket"] == ticket.number


@pytest.mark.django_db
def test_override_one_ticket_per_fingerprint(make_integration):
    integration = make_integration("alertmanager", group_by=GroupBy.FINGERPRINT)
    deliver(notification(("web01", "firing"), ("web02", "firing")), integration)
    assert Ticket.objects.count() == 2 and DedupKey.objects.count() == 2
    deliver(notification(("web01", "resolved"), ("web02", "firing")), integration)
    assert {t.subject: states(t) for t in Ticket.objects.all()} == {
        "SSH brute force on web01": {"web01": ("resolved", 1)},
        "SSH brute force on web02": {"web02": ("firing", 2)},
    }
