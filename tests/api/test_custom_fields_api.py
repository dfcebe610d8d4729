"""Help topics and custom fields through every API: REST v1 (create, read, update), the osTicket API
(topicId, custom fields as top-level keys) and the TheHive API (customFields). The same check refuses a
bad value on each, with a sentence naming the field, and nothing is written."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from socdesk.alerts.models import Alert, WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.routing.models import TicketTopic
from socdesk.routing.services.forms import FieldDefinition, custom_field_create, custom_form_create
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from socdesk.tickets.models import Ticket
from tests.routing.fixtures_forms import SETUP, incident_topic

from .conftest import make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(people):
    return incident_topic(people).topic


def written() -> tuple[int, ...]:
    return (
        Ticket.objects.count(),
        TicketTopic.objects.count(),
        WebhookDelivery.objects.count(),
        Alert.objects.count(),
        AuditEvent.objects.count(),
    )


# --- REST v1 -----------------------------------------------------------------------------------------


def test_rest_create_read_and_update(tool, topic, people):
    r = tool.post(
        "tickets",
        {
            "subject": "Phishing mail with a payload",
            "help_topic": topic.pk,
            "custom_fields": {"host_ip": "10.0.0.8", "systems": ["mail"], "seen_at": "2026-03-01T10:00:00Z"},
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    # No department given: the topic's; its team and severity too.
    assert body["department"]["slug"] == "soc" and body["team"]["name"] == "Tier 1"
    assert body["severity"] == "high"
    assert body["help_topic"] == {"id": topic.pk, "name": "Phishing"}
    assert body["custom_fields"] == {
        "host_ip": "10.0.0.8",
        "systems": ["mail"],
        "seen_at": "2026-03-01T10:00:00+00:00",
    }
    number = body["number"]
    listed = tool.get("tickets").json()["items"]
    assert listed[0]["custom_fields"]["host_ip"] == "10.0.0.8"
    r = tool.patch(
        f"tickets/{number}",
        {"version": 1, "severity": "critical", "custom_fields": {"impact": "high", "systems": []}},
    )
    assert r.status_code == 200, r.content
    assert r.json()["custom_fields"] == {
        "host_ip": "10.0.0.8",
        "impact": "High",
        "seen_at": "2026-03-01T10:00:00+00:00",
    }
    assert r.json()["severity"] == "critical"
    event = AuditEvent.objects.get(action="ticket.custom_fields_changed")
    assert event.before["custom_fields"] == {"impact": None, "systems": ["mail"]}


@pytest.mark.parametrize(
    ("payload", "says", "field"),
    [
        (
            {"custom_fields": {"host_ip": "ten.0.0.1"}},
            "Custom field 'Host IP' (host_ip): 'ten.0.0.1' is not an IP",
            "custom_fields.host_ip",
        ),
        ({"custom_fields": {}}, "Custom field 'Host IP' (host_ip) is required.", "custom_fields.host_ip"),
        (
            {"custom_fields": {"host_ip": "10.0.0.1", "owner": "x"}},
            "'owner' is not a field of the form",
            "custom_fields.owner",
        ),
        ({"help_topic": 9999, "custom_fields": {}}, "There is no help topic with id 9999", "help_topic"),
    ],
)
def test_rest_create_refuses_bad_values_and_writes_nothing(tool, topic, payload, says, field):
    before = written()
    r = tool.post("tickets", {"subject": "x", "department": "soc", "help_topic": topic.pk} | payload)
    assert r.status_code == 400, r.content
    assert says in r.json()["error"]["message"]
    assert field in r.json()["error"]["fields"], r.json()
    assert written() == before


def test_rest_update_with_a_bad_value_keeps_the_other_changes_out_too(tool, topic):
    number = tool.post(
        "tickets", {"subject": "x", "help_topic": topic.pk, "custom_fields": {"host_ip": "10.0.0.1"}}
    ).json()["number"]
    before = written()
    r = tool.patch(
        f"tickets/{number}", {"version": 1, "severity": "low", "custom_fields": {"confirmed": "perhaps"}}
    )
    assert r.status_code == 400, r.content
    assert "Custom field 'Confirmed' (confirmed): send true or false." in r.json()["error"]["message"]
    ticket = Ticket.objects.get(number=number)
    assert (ticket.severity, ticket.version) == ("high", 1)
    assert written() == before


def test_rest_update_needs_edit_permission(carol_api, alice_api, topic):
    number = alice_api.post(
        "tickets", {"subject": "x", "help_topic": topic.pk, "custom_fields": {"host_ip": "10.0.0.1"}}
    ).json()["number"]
    r = carol_api.patch(f"tickets/{number}", {"version": 1, "custom_fields": {"impact": "Low"}})
    assert r.status_code == 404
    assert Ticket.objects.get(number=number).custom_fields == {"host_ip": "10.0.0.1"}


# --- osTicket API ------------------------------------------------------------------------------------


def osticket(body, key, fmt="json"):
    content_type = {"json": "application/json", "xml": "application/xml"}[fmt]
    data = json.dumps(body) if isinstance(body, dict) else body
    return Client().post(
        f"/api/tickets.{fmt}", data=data, content_type=content_type, headers={"X-API-Key": key}
    )


@pytest.fixture
def os_key(people):
    return make_key(["tickets:create"], name="osticket-client")


def test_osticket_topic_and_custom_fields_as_top_level_keys(os_key, topic, people):
    r = osticket(
        {
            "name": "Dana",
            "email": "dana@example.test",
            "subject": "Odd login page",
            "message": "Clicked a link",
            "topicId": topic.pk,
            "host_ip": "192.0.2.10",
            "impact": "low",
            "ticket_ref": "kept as before",
        },
        os_key,
    )
    assert r.status_code == 201, r.content
    ticket = Ticket.objects.get(number=r.content.decode())
    assert ticket.custom_fields == {"host_ip": "192.0.2.10", "impact": "Low"}
    assert ticket.extra["ticket_ref"] == "kept as before" and "host_ip" not in ticket.extra
    assert TicketTopic.objects.get(ticket=ticket).topic == topic
    assert (ticket.team, ticket.severity) == (people.tier1, "high")


def test_osticket_xml_custom_fields(os_key, topic):
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><ticket><name>Dana</name><email>dana@example.test</email>'
        f"<subject>x</subject><message>y</message><topicId>{topic.pk}</topicId>"
        "<host_ip>2001:db8::5</host_ip><confirmed>yes</confirmed></ticket>"
    )
    r = osticket(xml, os_key, fmt="xml")
    assert r.status_code == 201, r.content
    assert Ticket.objects.get(number=r.content.decode()).custom_fields == {
        "host_ip": "2001:db8::5",
        "confirmed": True,
    }


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"host_ip": "999.1.1.1"}, "Custom field 'Host IP' (host_ip): '999.1.1.1' is not an IP address"),
        ({}, "Custom field 'Host IP' (host_ip) is required."),
        ({"host_ip": "10.0.0.1", "impact": "Huge"}, "'Huge' is not one of its choices (Low, High)"),
        ({"topicId": 424242}, "There is no help topic with id 424242; pick an existing one."),
    ],
)
def test_osticket_bad_values_are_400_and_nothing_is_written(os_key, topic, extra, says):
    before = written()
    body = {
        "name": "D",
        "email": "d@example.test",
        "subject": "x",
        "message": "y",
        "topicId": topic.pk,
    } | extra
    r = osticket(body, os_key)
    assert r.status_code == 400 and says in r.content.decode(), r.content
    assert written() == before


# --- TheHive API -------------------------------------------------------------------------------------


def hive(body, key):
    return Client().post(
        "/api/v1/alert",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


HIVE = {
    "type": "external",
    "source": "siem",
    "sourceRef": "case-1",
    "title": "Beacon to known C2",
    "description": "d",
}


@pytest.fixture
def hive_key(people):
    return make_key(["alerts:ingest"], name="thehive-client")


def test_thehive_custom_fields_in_both_shapes_reach_the_ticket(hive_key, topic):
    body = HIVE | {
        "customFields": {
            "host_ip": {"string": "10.1.2.3"},
            "confirmed": {"boolean": True},
            "seen_at": {"date": 1772375400000},
            "hunt-ticket": {"string": "not one of ours"},
        }
    }
    r = hive(body, hive_key)
    assert r.status_code == 201, r.content
    ticket = Ticket.objects.get()
    assert ticket.custom_fields == {
        "host_ip": "10.1.2.3",
        "confirmed": True,
        "seen_at": "2026-03-01T14:30:00+00:00",
    }
    r = hive(HIVE | {"sourceRef": "case-2", "customFields": [{"name": "impact", "value": "HIGH"}]}, hive_key)
    assert r.status_code == 201, r.content
    assert Ticket.objects.order_by("-id").first().custom_fields == {"impact": "High"}


def test_thehive_bad_custom_field_is_400_before_anything_is_stored(hive_key, topic):
    before = written()
    r = hive(HIVE | {"customFields": {"host_ip": {"string": "gateway"}}}, hive_key)
    assert r.status_code == 400, r.content
    assert "Custom field 'Host IP' (host_ip): 'gateway' is not an IP address" in r.json()["error"]["message"]
    assert written() == before


def test_rest_update_moves_the_ticket_to_another_topic_and_checks_its_form(tool, topic, people):
    other = help_topic_create(
        actor=SETUP,
        definition=TopicDefinition(name="Malware", form=custom_form_with_family()),
    )
    number = tool.post(
        "tickets", {"subject": "x", "help_topic": topic.pk, "custom_fields": {"host_ip": "10.0.0.1"}}
    ).json()["number"]
    before = written()
    # The topic changes first, so the values are checked against the Malware form; a bad one undoes both.
    r = tool.patch(
        f"tickets/{number}", {"version": 1, "help_topic": other.pk, "custom_fields": {"family": "X"}}
    )
    assert (
        r.status_code == 400
        and "'X' is not one of its choices (Emotet, Qakbot)" in r.json()["error"]["message"]
    )
    assert TicketTopic.objects.get(ticket__number=number).topic == topic and written() == before
    r = tool.patch(
        f"tickets/{number}", {"version": 1, "help_topic": other.pk, "custom_fields": {"family": "qakbot"}}
    )
    assert r.status_code == 200, r.content
    assert r.json()["help_topic"] == {"id": other.pk, "name": "Malware"}
    assert r.json()["custom_fields"] == {"host_ip": "10.0.0.1", "family": "Qakbot"}
    event = AuditEvent.objects.get(action="ticket.help_topic_changed")
    assert (event.before, event.after["help_topic"]) == ({"help_topic": topic.pk}, other.pk)
    r = tool.patch(f"tickets/{number}", {"version": r.json()["version"], "help_topic": None})
    assert r.status_code == 200 and r.json()["help_topic"] is None


def custom_form_with_family():
    form = custom_form_create(actor=SETUP, name="Malware details")
    custom_field_create(
        actor=SETUP,
        form=form,
        definition=FieldDefinition(
            name="family", label="Family", type="choice", choices=["Emotet", "Qakbot"]
        ),
    )
    return form
