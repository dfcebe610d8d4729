"""The ticket page's help-topic chooser and the queue's help-topic filter (HTTP level; the browser test
is tests/browser/test_topic_browser.py).

Runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.choices import Perm
from socdesk.accounts.services import access_grant, agent_create, apikey_create, role_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing.models import HelpTopic, TicketTopic
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_change_severity, ticket_create
from tests.console_helpers import client_for
from tests.routing.fixtures_forms import SETUP, IncidentTopic, incident_topic, malware_topic, topic_ticket

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def observer(people):
    """dave: may view SOC's tickets, nothing more."""
    role = role_create(actor=SETUP, name="Observer", permissions=[Perm.VIEW])
    dave = agent_create(actor=SETUP, username="dave", email="dave@example.test", password=None)
    access_grant(actor=SETUP, agent=dave, department=people.soc, role=role)
    return dave


def written(ticket: Ticket) -> tuple:
    """What a topic change would write: the link, the version, the audit trail."""
    ticket.refresh_from_db()
    link = TicketTopic.objects.filter(ticket=ticket).values_list("topic_id", flat=True).first()
    return link, ticket.version, AuditEvent.objects.count()


def change_topic(client, ticket: Ticket, topic: HelpTopic | None, version: int | None = None, **extra):
    return client.post(
        f"/tickets/{ticket.number}/help-topic",
        {"help_topic": str(topic.pk) if topic else "", "version": str(version or ticket.version)},
        **extra,
    )


# --- the chooser -----------------------------------------------------------------------------------------


def test_the_panel_offers_the_topics_at_the_tickets_version(people):
    setup = incident_topic(people)
    malware = malware_topic()
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    panel = client_for(people.bob).get(f"/tickets/{ticket.number}/custom-fields").content.decode()
    assert f'hx-post="/tickets/{ticket.number}/help-topic"' in panel
    assert f'<input type="hidden" name="version" value="{ticket.version}">' in panel
    assert f'<option value="{setup.topic.pk}" selected>Phishing</option>' in panel
    assert f'<option value="{malware.pk}">Malware</option>' in panel
    assert '<option value="">No help topic</option>' in panel


def test_changing_the_topic_shows_the_new_forms_fields_is_audited_and_refreshes_the_page(people):
    setup = incident_topic(people)
    malware = malware_topic()
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    bob = client_for(people.bob)
    r = change_topic(bob, ticket, malware, **HTMX)
    assert r.status_code == 200
    panel = r.content.decode()
    # The new form's fields, empty for now; the old form's are no longer listed.
    assert "Malware details" in panel and "<dt>Malware family</dt><dd>—</dd>" in panel
    assert "Host IP" not in panel and "Help topic set to Malware." in panel
    assert f'<option value="{malware.pk}" selected>Malware</option>' in panel
    # The page re-reads its main part: every other form there carries the version this change moved.
    assert r["HX-Trigger"] == "ticket-changed"
    assert TicketTopic.objects.get(ticket=ticket).topic == malware
    moved = Ticket.objects.get(pk=ticket.pk)
    assert moved.version == ticket.version + 1
    assert moved.custom_fields == {"host_ip": "10.0.0.1"}  # values held stay
    event = AuditEvent.objects.get(action="ticket.help_topic_changed")
    assert event.actor_label == "bob" and event.ip == "127.0.0.1"
    assert (event.before, event.after) == (
        {"help_topic": setup.topic.pk},
        {"help_topic": malware.pk, "version": moved.version},
    )
    # The message waits for the main part's re-render; the history names the change.
    page = bob.get(f"/tickets/{ticket.number}/", **HTMX).content.decode()
    assert "Help topic set to Malware." in page and "changed the help topic" in page
    assert f'name="version" value="{moved.version}"' in page
    assert 'hx-trigger="ticket-changed from:body"' in bob.get(f"/tickets/{ticket.number}/").content.decode()


def test_taking_the_ticket_off_its_topic_and_a_plain_post(people):
    setup = incident_topic(people)
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    alice = client_for(people.alice)
    r = change_topic(alice, ticket, None)  # no htmx: back to the ticket page with the message
    assert r.status_code == 302 and r["Location"] == f"/tickets/{ticket.number}/"
    assert "Help topic removed." in alice.get(r["Location"]).content.decode()
    assert not TicketTopic.objects.filter(ticket=ticket).exists()
    panel = alice.get(f"/tickets/{ticket.number}/custom-fields").content.decode()
    assert '<h2 id="custom-fields-title">Custom fields' in panel
    assert '<option value="" selected>' not in panel  # "No help topic" is picked by having none picked


def test_choosing_the_topic_it_already_has_says_so_and_writes_nothing(people):
    setup = incident_topic(people)
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    before = written(ticket)
    r = change_topic(client_for(people.bob), ticket, setup.topic, **HTMX)
    assert r.status_code == 200 and "already on that help topic" in r.content.decode()
    assert "HX-Trigger" not in r and written(ticket) == before


def test_an_agent_of_another_department_gets_404_and_nothing_is_written(people):
    setup = incident_topic(people)
    malware = malware_topic()
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    before = written(ticket)
    r = change_topic(client_for(people.carol), ticket, malware, **HTMX)
    assert r.status_code == 404 and written(ticket) == before


def test_an_observer_sees_the_topic_but_cannot_change_it(people):
    setup = incident_topic(people)
    malware = malware_topic()
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    dave = client_for(observer(people))
    panel = dave.get(f"/tickets/{ticket.number}/custom-fields").content.decode()
    assert "Phishing" in panel and "help-topic" not in panel and "Change topic" not in panel
    before = written(ticket)
    r = change_topic(dave, ticket, malware, **HTMX)
    assert r.status_code == 403 and r["HX-Reswap"] == "outerHTML"
    assert "You do not have the edit tickets permission in SOC." in html.unescape(r.content.decode())
    assert written(ticket) == before


def test_a_stale_version_is_refused_with_what_changed_and_nothing_is_written(people):
    setup = incident_topic(people)
    malware = malware_topic()
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    loaded = ticket.version
    ticket_change_severity(actor=Actor.for_agent(people.alice), ticket=ticket, severity="critical")
    before = written(ticket)
    r = change_topic(client_for(people.bob), ticket, malware, version=loaded, **HTMX)
    assert r.status_code == 409 and r["HX-Reswap"] == "outerHTML" and "HX-Trigger" not in r
    text = html.unescape(r.content.decode())
    assert (
        f"Ticket {ticket.number} changed since you loaded it: alice changed the severity from High to "
        "Critical. Your change was not saved; review the ticket and try again." in text
    )
    # The pick is kept, at the version now stored: a second submit is a deliberate decision.
    assert f'<option value="{malware.pk}" selected>Malware</option>' in text
    assert f'name="version" value="{before[1]}"' in text
    assert written(ticket) == before
    assert not AuditEvent.objects.filter(action="ticket.help_topic_changed").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"help_topic": "999999", "version": "1"}, "There is no help topic '999999' to choose; pick one"),
        ({"help_topic": "x", "version": "1"}, "There is no help topic 'x' to choose; pick one"),
        ({"help_topic": ""}, "The form came without the ticket's version; reload the ticket"),
    ],
)
def test_bad_input_is_refused_with_a_sentence_and_nothing_is_written(people, data, message):
    setup = incident_topic(people)
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    before = written(ticket)
    r = client_for(people.bob).post(f"/tickets/{ticket.number}/help-topic", data, **HTMX)
    assert r.status_code == 400 and message in html.unescape(r.content.decode())
    assert written(ticket) == before


# --- the queue's filter and `topic:` ---------------------------------------------------------------------


def three_tickets(people) -> tuple[IncidentTopic, HelpTopic, dict[str, str]]:
    """A Phishing ticket, a Malware ticket and one on no topic: {number: which}."""
    setup = incident_topic(people)
    malware = malware_topic()
    phish = topic_ticket(people, setup.topic, subject="Phish", host_ip="10.0.0.1")
    mal = topic_ticket(people, malware, subject="Mal")
    plain = ticket_create(actor=Actor.for_agent(people.alice), subject="Plain", department=people.soc)
    return setup, malware, {phish.number: "phish", mal.number: "mal", plain.number: "plain"}


def queue_rows(client, query: str, names: dict[str, str]) -> list[str]:
    page = client.get(f"/tickets/?queue=all&{query}").content.decode()
    return sorted(names[n] for n in names if f">{n}<" in page)


def test_the_queue_filters_by_help_topic(people):
    setup, malware, names = three_tickets(people)
    alice = client_for(people.alice)
    assert queue_rows(alice, "", names) == ["mal", "phish", "plain"]
    assert queue_rows(alice, f"help_topic={setup.topic.pk}", names) == ["phish"]
    assert queue_rows(alice, f"help_topic={setup.topic.pk}&help_topic={malware.pk}", names) == [
        "mal",
        "phish",
    ]
    assert queue_rows(alice, "help_topic=0", names) == ["plain"]
    assert queue_rows(alice, f"help_topic=0&help_topic={malware.pk}", names) == ["mal", "plain"]
    page = alice.get(f"/tickets/?queue=all&help_topic={malware.pk}").content.decode()
    # The select is routing's, drawn after the page; the choice rides along until then.
    assert f'hx-get="/tickets/help-topic-filter?help_topic={malware.pk}"' in page
    assert f'<input type="hidden" name="help_topic" value="{malware.pk}">' in page


def test_the_queue_filters_select_lists_the_topics_and_names_an_unknown_one(people):
    setup, malware, _names = three_tickets(people)
    alice = client_for(people.alice)
    select = alice.get(f"/tickets/help-topic-filter?help_topic={malware.pk}").content.decode()
    assert '<label for="f-help-topic">Help topic</label>' in select
    assert f'<option value="{malware.pk}" selected>Malware</option>' in select
    assert f'<option value="{setup.topic.pk}">Phishing</option>' in select
    assert '<option value="0">No help topic</option>' in select
    select = alice.get("/tickets/help-topic-filter?help_topic=987654").content.decode()
    assert "There is no help topic 987654 among those you can filter by; choose from the list." in select
    r = alice.get("/tickets/?queue=all&help_topic=first")
    assert "help_topic must be a number, not &#x27;first&#x27;." in r.content.decode()


def test_the_help_topic_filter_costs_no_query_per_row(people, django_assert_max_num_queries):
    setup, _malware, _names = three_tickets(people)
    alice = client_for(people.alice)
    alice.get("/tickets/?queue=all")  # warm the session
    with CaptureQueriesContext(connection) as unfiltered:
        alice.get("/tickets/?queue=all")
    # The same queries as the queue without the filter: the condition is a join, not a look-up.
    with django_assert_max_num_queries(len(unfiltered.captured_queries)) as few:
        alice.get(f"/tickets/?queue=all&help_topic={setup.topic.pk}")
    for i in range(30):
        topic_ticket(people, setup.topic, subject=f"More {i}", host_ip="10.0.0.2")
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice.get(f"/tickets/?queue=all&help_topic={setup.topic.pk}")


def test_the_api_lists_tickets_by_help_topic_with_the_same_filter(people):
    setup, _malware, names = three_tickets(people)
    raw_key = apikey_create(actor=SETUP, name="soar", scopes=["tickets:read"], agent=people.alice)[1]
    r = Client().get(
        f"/api/v1/tickets?help_topic={setup.topic.pk}", headers={"Authorization": f"Bearer {raw_key}"}
    )
    assert r.status_code == 200, r.content
    assert [names[t["number"]] for t in r.json()["items"]] == ["phish"]


def test_the_panel_names_a_form_once_when_it_is_named_like_its_topic(people):
    """The demo's portal forms are named like their topics: "Report a suspicious e-mail · Report a
    suspicious e-mail" said it twice; a form named otherwise is still shown after its topic."""
    from socdesk.demo.portal_forms import portal_forms_create

    portal_forms_create({"SOC": people.soc, "IT Help Desk": people.it})
    topic = HelpTopic.objects.get(name="Report a suspicious e-mail")
    ticket = ticket_create(
        actor=Actor.for_agent(people.alice),
        subject="Odd mail",
        department=people.soc,
        body="x",
        help_topic=topic.pk,
    )
    alice = client_for(people.alice)
    panel = alice.get(f"/tickets/{ticket.number}/custom-fields").content.decode()
    assert '<h2 id="custom-fields-title">Report a suspicious e-mail</h2>' in panel
    setup = incident_topic(people)
    other = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    panel = client_for(people.bob).get(f"/tickets/{other.number}/custom-fields").content.decode()
    assert '<h2 id="custom-fields-title">Phishing <span class="muted">· ' in panel
