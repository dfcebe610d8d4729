"""The console's help-topic section of the new-ticket form and the ticket page's custom fields panel
(HTTP level; the browser test drives both in Chromium)."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.routing.models import TicketTopic
from socdesk.tickets.models import Ticket
from tests.console_helpers import client_for
from tests.routing.fixtures_forms import incident_topic, topic_ticket

pytestmark = pytest.mark.django_db


def new_ticket_post(people, topic, **custom):
    return {
        "subject": "Phishing report from finance",
        "department": people.soc.pk,
        "severity": "medium",
        "source": "phone",
        "help_topic": str(topic.pk),
        **{f"custom.{name}": value for name, value in custom.items()},
    }


def test_the_topic_section_lists_topics_and_shows_the_chosen_topics_fields(people):
    setup = incident_topic(people)
    alice = client_for(people.alice)
    # The section comes with the page (no second request before the form is usable) ...
    page = alice.get("/tickets/new").content.decode()
    assert f'<option value="{setup.topic.pk}">Phishing</option>' in page
    assert 'hx-get="/tickets/new/topic" hx-trigger="change"' in page
    assert 'name="custom.host_ip"' not in page and "Loading help topics" not in page
    # ... and comes again, for the topic chosen, when the topic changes.
    section = alice.get(
        f"/tickets/new/topic?help_topic={setup.topic.pk}&custom.host_ip=10.1.1.1"
    ).content.decode()
    assert 'name="custom.host_ip"' in section and 'value="10.1.1.1"' in section
    assert "Host IP *" in section  # required of agents
    assert 'name="custom.notes"' in section  # hidden from end users, not from agents
    assert 'type="datetime-local"' in section


def test_opening_a_ticket_with_a_topic_and_fields(people):
    setup = incident_topic(people)
    r = client_for(people.alice).post(
        "/tickets/new",
        new_ticket_post(people, setup.topic, host_ip="10.2.2.2", impact="High", seen_at="2026-03-01T09:30")
        | {"custom.systems": ["mail", "vpn"]},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    ticket = Ticket.objects.get()
    assert ticket.custom_fields["host_ip"] == "10.2.2.2" and ticket.custom_fields["systems"] == [
        "mail",
        "vpn",
    ]
    assert ticket.custom_fields["impact"] == "High" and ticket.team == people.tier1
    assert ticket.custom_fields["seen_at"].startswith("2026-03-01T")
    assert TicketTopic.objects.get(ticket=ticket).topic == setup.topic


def test_a_refused_value_says_which_field_keeps_what_was_sent_and_writes_nothing(people):
    setup = incident_topic(people)
    events = AuditEvent.objects.count()
    r = client_for(people.alice).post(
        "/tickets/new", new_ticket_post(people, setup.topic, host_ip="10.2.2.x", notes="keep me")
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "Custom field &#x27;Host IP&#x27; (host_ip): &#x27;10.2.2.x&#x27; is not an IP address" in html
    # The page comes back with the topic chosen, the values sent and the refused field marked.
    assert f'<option value="{setup.topic.pk}" selected>' in html
    assert 'class="field invalid" data-custom-field="host_ip"' in html
    assert 'value="10.2.2.x"' in html and "keep me" in html
    assert Ticket.objects.count() == 0 and AuditEvent.objects.count() == events


def test_the_ticket_panel_shows_and_edits_the_values(people):
    setup = incident_topic(people)
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1", confirmed=True)
    bob = client_for(people.bob)
    assert (
        f'hx-get="/tickets/{ticket.number}/custom-fields"'
        in bob.get(f"/tickets/{ticket.number}/").content.decode()
    )
    panel = bob.get(f"/tickets/{ticket.number}/custom-fields").content.decode()
    assert "Phishing" in panel and "<dt>Host IP</dt><dd>10.0.0.1</dd>" in panel and "<dd>Yes</dd>" in panel
    form = bob.get(f"/tickets/{ticket.number}/custom-fields?edit=1").content.decode()
    assert 'name="custom.impact"' in form
    r = bob.post(
        f"/tickets/{ticket.number}/custom-fields",
        {"custom.host_ip": "10.0.0.1", "custom.impact": "Low", "custom.systems": ["erp"]},
    )
    assert r.status_code == 200 and "Custom fields saved." in r.content.decode()
    ticket.refresh_from_db()
    # The checkbox was left unticked: false now.
    assert ticket.custom_fields == {
        "host_ip": "10.0.0.1",
        "impact": "Low",
        "systems": ["erp"],
        "confirmed": False,
    }
    assert AuditEvent.objects.filter(action="ticket.custom_fields_changed", actor_label="bob").count() == 1


def test_a_bad_edit_is_refused_in_the_panel_and_nothing_changes(people):
    setup = incident_topic(people)
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    r = client_for(people.alice).post(f"/tickets/{ticket.number}/custom-fields", {"custom.host_ip": ""})
    assert r.status_code == 400
    assert "is required; it cannot be cleared." in r.content.decode()
    assert 'name="custom.host_ip"' in r.content.decode()  # the form stays open
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"host_ip": "10.0.0.1"} and ticket.version == 1


def test_the_panel_is_404_for_an_agent_who_cannot_see_the_ticket(people):
    setup = incident_topic(people)
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    carol = client_for(people.carol)
    assert carol.get(f"/tickets/{ticket.number}/custom-fields").status_code == 404
    assert carol.post(f"/tickets/{ticket.number}/custom-fields", {"custom.impact": "Low"}).status_code == 404
    ticket.refresh_from_db()
    assert "impact" not in ticket.custom_fields
