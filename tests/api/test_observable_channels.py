"""Observables found on every channel, not only alerts: tickets opened through the osTicket API (the Kibana
XML of the SOC lab), the console and the REST API; replies and notes when the agent asks for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from socdesk.accounts.services import apikey_create
from socdesk.alerts.models import TicketObservable
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

KIBANA_XML = Path("/work/shared/samples/alerts/osticket_mydfir.xml")
NOTE = "Blocked 198.51.100.23 at the edge; payload from hxxp://stage[.]evil-example[.]com/a.ps1 on WS-042."


def found(ticket) -> dict[str, str]:
    """{value: origin} of the ticket's observables."""
    return dict(TicketObservable.objects.filter(ticket=ticket).values_list("observable__value", "origin"))


def console(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def test_osticket_api_kibana_xml_gets_the_source_ip_in_its_text(people):
    """The body a SOC lab's Kibana Webhook connector sends, the message carrying the source address."""
    raw = apikey_create(actor=Actor.system("test"), name="kibana", scopes=["tickets:create"])[1]
    body = (
        KIBANA_XML.read_text()
        .replace("{{rule.name}}", "Potential SSH Brute Force Detected")
        .replace("{{rule.url}}", "https://kibana.lab.local:5601/app/security/rules/id/8e2f")
        .replace("{{alert.id}}", "a3f9c1d2-5b6e-4f70-8a9b-0c1d2e3f4a5b\nSource IP: 192.168.1.50")
    )
    response = Client().post(
        "/api/tickets.xml", data=body.encode(), content_type="application/xml", headers={"X-API-Key": raw}
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(number=response.content.decode())
    assert found(ticket) == {"192.168.1.50": "message", "kibana.lab.local": "message"}


def test_console_new_ticket_links_what_its_subject_and_description_name(people):
    response = console(people.alice).post(
        "/tickets/new",
        {
            "subject": "Beacon to 203.0.113.9",
            "department": people.soc.pk,
            "severity": "high",
            "source": "web",
            "body": "EDR saw callbacks to c2.evil-example.com from WS-042.",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Beacon to 203.0.113.9")
    assert found(ticket) == {"203.0.113.9": "message", "c2.evil-example.com": "message"}


def test_rest_api_new_ticket_links_what_its_subject_and_body_name(alice_api, people):
    response = alice_api.post(
        "tickets",
        {"subject": "Phish from bad@evil-example.com", "department": people.soc.pk, "body": NOTE},
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert set(found(ticket)) == {
        "bad@evil-example.com",
        "evil-example.com",
        "198.51.100.23",
        "stage.evil-example.com",
        "http://stage.evil-example.com/a.ps1",
    }
    values = {o["value"] for o in response.json()["observables"]}
    assert "198.51.100.23" in values


@pytest.mark.parametrize("kind", ["reply", "note"])
def test_console_reply_or_note_links_observables_only_when_asked(people, soc_ticket, kind):
    client = console(people.alice)

    def post(**extra):
        version = Ticket.objects.get(pk=soc_ticket.pk).version
        data = {"version": version, "body": NOTE, "kind": kind, **extra}
        return client.post(f"/tickets/{soc_ticket.number}/compose", data)

    assert post().status_code == 302
    assert found(soc_ticket) == {}  # off by default
    assert post(extract_observables="on").status_code == 302
    assert found(soc_ticket)["198.51.100.23"] == "message"
    (event,) = AuditEvent.objects.filter(action="observable.added")
    assert event.actor_label == "alice" and "ip:198.51.100.23" in event.after["observables"]
    # The same text again: nothing new to add, so no event.
    assert post(extract_observables="on").status_code == 302
    assert AuditEvent.objects.filter(action="observable.added").count() == 1


def test_the_composer_offers_the_checkbox_off(people, soc_ticket):
    html = console(people.alice).get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert 'name="extract_observables"' in html and "Extract observables from this text" in html
    assert 'name="extract_observables" checked' not in html


@pytest.mark.parametrize("kind", ["reply", "note"])
def test_rest_reply_or_note_links_observables_when_asked(alice_api, soc_ticket, kind):
    url = f"tickets/{soc_ticket.number}/thread"
    assert alice_api.post(url, {"kind": kind, "body": NOTE}).status_code == 201
    assert found(soc_ticket) == {}
    response = alice_api.post(url, {"kind": kind, "body": NOTE, "extract_observables": True})
    assert response.status_code == 201, response.content
    assert {"198.51.100.23", "http://stage.evil-example.com/a.ps1"} <= set(found(soc_ticket))
    # Audited as observables added by the same actor as the entry (alice's personal token).
    added = AuditEvent.objects.get(action="observable.added")
    action = {"reply": "ticket.replied", "note": "ticket.noted"}[kind]
    entry_event = AuditEvent.objects.filter(action=action).last()
    assert added.actor_label == entry_event.actor_label == "key:a"


def test_a_refused_reply_links_nothing(alice_api, soc_ticket):
    url = f"tickets/{soc_ticket.number}/thread"
    response = alice_api.post(
        url, {"kind": "reply", "body": NOTE, "extract_observables": True, "version": 999}
    )
    assert response.status_code == 409
    assert found(soc_ticket) == {} and not AuditEvent.objects.filter(action="observable.added").exists()


def test_another_departments_ticket_is_a_404_and_links_nothing(carol_api, soc_ticket):
    url = f"tickets/{soc_ticket.number}/thread"
    response = carol_api.post(url, {"kind": "note", "body": NOTE, "extract_observables": True})
    assert response.status_code == 404
    assert found(soc_ticket) == {}


def test_the_ticket_history_says_which_observables_were_added(people, soc_ticket):
    from socdesk.tickets.history import describe_event

    version = Ticket.objects.get(pk=soc_ticket.pk).version
    console(people.alice).post(
        f"/tickets/{soc_ticket.number}/compose",
        {"version": version, "body": NOTE, "kind": "note", "extract_observables": "on"},
    )
    event = AuditEvent.objects.get(action="observable.added")
    assert describe_event(event).startswith("added the observables 198.51.100.23")
    assert describe_event(event).endswith("(found in their text)")
