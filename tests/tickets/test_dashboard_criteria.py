"""The ticket filter's criteria behind the SOC dashboard's drill-downs: origin, resolution, acknowledged and
resolved dates (web queue and API alike), on tickets made through the services and the alert engine."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.http import QueryDict
from django.test import Client
from django.utils import timezone

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert, Integration
from socdesk.core.actor import Actor
from socdesk.tickets.filters import TicketFilter, queue_tickets
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create, ticket_update
from tests.alerts.conftest import sample
from tests.api.conftest import ApiClient, make_key

pytestmark = pytest.mark.django_db

DAY1 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


class Clock:
    """The time every service reads (django.utils.timezone.now), set by the test."""

    def __init__(self, monkeypatch):
        self.at = DAY1
        monkeypatch.setattr(timezone, "now", lambda: self.at)


def alert_ticket(people, adapter: str, body: bytes) -> Ticket:
    integration = Integration.objects.create(adapter=adapter, name=adapter, department=people.soc)
    delivery_process(delivery_id=delivery_receive(adapter=adapter, body=body, integration=integration).pk)
    return Alert.objects.get(source=adapter).ticket


@pytest.fixture
def story(people, monkeypatch):
    """web: opened day 1, acknowledged day 1, resolved day 2 as a false positive; email: open;
    generic (an alert): acknowledged and resolved day 3 as a true positive; wazuh (an alert): open."""
    clock = Clock(monkeypatch)
    alice = Actor.for_agent(people.alice)
    web = ticket_create(actor=alice, subject="Phishing report", department=people.soc)
    email = ticket_create(actor=alice, subject="Mailed in", department=people.soc, source="email")
    generic = alert_ticket(
        people, "generic", json.dumps({"title": "Impossible travel", "fingerprint": "g1"}).encode()
    )
    wazuh = alert_ticket(people, "wazuh", sample("wazuh_alert.json"))
    ticket_update(actor=alice, ticket=web, changes={"status": "in_progress"})
    clock.at = DAY1 + dt.timedelta(days=1)
    ticket_update(actor=alice, ticket=web, changes={"status": "resolved", "resolution": "false_positive"})
    clock.at = DAY1 + dt.timedelta(days=2)
    ticket_update(actor=alice, ticket=generic, changes={"status": "resolved", "resolution": "true_positive"})
    return {"web": web, "email": email, "generic": generic, "wazuh": wazuh}


def numbers(people, query: str) -> set[str]:
    f = TicketFilter.from_querydict(QueryDict(f"queue=all&{query}"))
    assert not f.errors, f.errors
    return set(queue_tickets(people.alice, f).values_list("number", flat=True))


def of(story, *names) -> set[str]:
    return {story[n].number for n in names}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("origin=web", ["web"]),
        ("origin=email", ["email"]),
        ("origin=generic", ["generic"]),
        ("origin=wazuh", ["wazuh"]),
        ("origin=web&origin=wazuh", ["web", "wazuh"]),
        ("origin=elastic", []),
        ("rule=Impossible travel", ["generic"]),
        ("rule=sshd: brute force trying to get access to the system. Non existent user.", ["wazuh"]),
        ("rule=Impossible travel&rule=nothing", ["generic"]),
        ("rule=impossible travel", []),  # exact, as the roll-ups key it
        ("rule=Impossible travel&origin=wazuh", []),
        ("resolution=false_positive", ["web"]),
        ("resolution=true_positive&resolution=false_positive", ["web", "generic"]),
        ("resolved_from=2026-11-24&resolved_to=2026-11-24", ["web"]),
        ("resolved_from=2026-11-24", ["web", "generic"]),
        ("resolved_to=2026-11-23", []),
        # 09:00 UTC on the 24th is 23:00 on the 23rd ten hours west: days are counted in the zone named.
        ("resolved_from=2026-11-23&resolved_to=2026-11-23&zone=Etc/GMT%2B10", ["web"]),
        ("acknowledged_from=2026-11-23&acknowledged_to=2026-11-23", ["web"]),
        ("acknowledged_from=2026-11-25", ["generic"]),
        ("origin=generic&resolved_from=2026-11-25&resolution=true_positive", ["generic"]),
    ],
)
def test_each_criterion_selects_exactly_its_tickets(people, story, query, expected):
    assert numbers(people, query) == of(story, *expected)


def test_origin_of_an_alert_ticket_is_its_first_alerts_tool_not_a_later_one(people, story):
    # A later alert from another tool joining the ticket does not change where the ticket came from.
    first = Alert.objects.get(ticket=story["generic"])
    later = Alert.objects.get(ticket=story["wazuh"])
    Alert.objects.filter(pk=later.pk).update(
        ticket=story["generic"]
    )  # placed by hand: no service moves alerts
    assert first.pk < later.pk
    assert numbers(people, "origin=generic") == of(story, "generic")
    assert numbers(people, "origin=wazuh") == set()
    assert numbers(people, "rule=Impossible travel") == of(story, "generic")
    assert numbers(people, f"rule={later.rule}") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("origin=fax", "origin"),
        ("resolution=maybe", "resolution"),
        ("resolved_from=yesterday", "resolved_from"),
        ("acknowledged_to=2026-13-01", "acknowledged_to"),
        ("zone=Mars/Olympus", "zone"),
        ("zone=../../etc/passwd", "zone"),
    ],
)
def test_bad_values_are_reported_and_dropped(people, story, query, field):
    f = TicketFilter.from_querydict(QueryDict(f"queue=all&{query}"))
    assert set(f.errors) == {field}
    assert query.split("=")[1] in f.errors[field]
    assert set(queue_tickets(people.alice, f).values_list("number", flat=True)) == of(story, *story)


def test_carol_sees_none_of_them_whatever_the_criteria(people, story):
    f = TicketFilter.from_querydict(QueryDict("queue=all&origin=web&origin=wazuh&resolution=false_positive"))
    assert list(queue_tickets(people.carol, f)) == []


def test_the_console_queue_keeps_the_drill_down_criteria_as_chips(people, story):
    client = Client()
    client.force_login(people.alice.user)
    page = client.get("/tickets/?queue=all&origin=wazuh&resolved_from=2026-11-24").content.decode()
    assert "Origin: wazuh" in page and 'name="origin" value="wazuh"' in page
    assert 'name="resolved_from" value="2026-11-24"' in page
    body = client.get("/tickets/?queue=all&origin=wazuh").content.decode()
    assert story["wazuh"].number in body and story["web"].number not in body


def test_the_api_filters_the_same_way_and_refuses_an_unknown_origin(people, story):
    api = ApiClient(make_key(["tickets:read"]))
    listed = api.get("tickets?origin=web&origin=generic&resolved_from=2026-11-24").json()
    assert {t["number"] for t in listed["items"]} == of(story, "web", "generic")
    bad = api.get("tickets?origin=fax")
    assert bad.status_code == 400
    assert "fax" in json.dumps(bad.json())
