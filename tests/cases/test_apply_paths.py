"""Playbooks applied without an agent: by a ticket filter's `apply_playbook` action on the real ingest
paths (an alert webhook over HTTP, an e-mail through the mail import) and by a help topic's default; and
the alert's auto-resolve refused (with a thread line) while required tasks are open."""

from __future__ import annotations

import pytest

from socdesk.accounts.services import apikey_create
from socdesk.alerts.models import Integration
from socdesk.audit.models import AuditEvent
from socdesk.cases.models import PlaybookRun, Task
from socdesk.cases.selectors import ticket_tasks
from socdesk.cases.services import PlaybookDefinition, TemplateDefinition, playbook_create
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.mail.inbound import mail_receive
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from socdesk.tickets.history import describe_event
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import ticket_create
from tests.alerts.conftest import sample
from tests.cases.helpers import SETUP, make_playbook
from tests.routing.test_apply import make_filter

pytestmark = pytest.mark.django_db

PHISHING_MAIL = b"""From: Pat Lee <pat@finance.example.test>
To: SOC <soc@example.test>
Subject: Fwd: Your invoice is overdue - phishing?
Message-ID: <report-1@finance.example.test>
Date: Mon, 30 Nov 2026 09:00:00 +0000
Content-Type: text/plain; charset=utf-8

Is this real? It links to hxxp://invoice-pay[.]example/login
"""


def test_a_filter_applies_a_playbook_to_a_reported_email(people):
    playbook = make_playbook()
    make_filter("Phishing reports", [("subject", "contains", "phishing")], [("apply_playbook", playbook.pk)])
    ticket = mail_receive(PHISHING_MAIL, actor=Actor.system("mail:pipe"), channel="pipe").ticket
    run = PlaybookRun.objects.get(ticket=ticket)
    assert (run.playbook, run.version.number, run.applied_by) == (playbook, 1, "playbooks")
    # The history (and the audit event) say which filter asked for it.
    event = AuditEvent.objects.get(action="playbook.applied")
    assert event.after["why"] == "the ticket filter 'Phishing reports'"
    assert describe_event(event) == (
        "applied the playbook Phishing triage (version 1, 3 tasks), "
        "as the ticket filter 'Phishing reports' asked"
    )
    assert [t.title for t in ticket_tasks(ticket)][:2] == [
        "Collect the reported message",
        "Check sender authentication",
    ]


def test_a_filter_on_the_alert_applies_a_playbook_through_the_webhook(
    client, people, huey_immediate, django_capture_on_commit_callbacks
):
    """The routing filters already match an alert's rule (`alert.labels.alertname`): that is how a
    playbook follows an alert rule pattern."""
    playbook = make_playbook(name="SSH brute force", tasks=[("Block the source address", 15, True)])
    make_filter(
        "Brute force playbook",
        [("alert.labels.alertname", "matches", "^SSH.*Force$")],
        [("apply_playbook", playbook.pk)],
        channel="alert",
    )
    Integration.objects.create(adapter="alertmanager", name="prom", department=people.soc)
    _key, raw = apikey_create(actor=SETUP, name="alert-tools", scopes=["alerts:ingest"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/hooks/alertmanager",
            data=sample("alertmanager_v4.json"),
            content_type="application/json",
            headers={"X-API-Key": raw},
        )
    assert response.status_code == 202
    ticket = Ticket.objects.get()
    assert [t.title for t in ticket_tasks(ticket)] == ["Block the source address"]


def test_a_help_topics_default_playbook_and_a_filter_naming_the_same_apply_it_once(people):
    topic = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing", department=people.soc))
    playbook = make_playbook(topic_ids=[topic.pk])
    make_filter("Odd", [("subject", "contains", "Odd")], [("apply_playbook", playbook.pk)])
    ticket = ticket_create(
        actor=people.actor(people.alice),
        subject="Odd mail",
        department=people.soc,
        body="x",
        help_topic=topic.pk,
    )
    assert PlaybookRun.objects.filter(ticket=ticket).count() == 1
    assert Task.objects.filter(ticket=ticket).count() == 3


def test_a_filter_cannot_name_a_playbook_that_does_not_exist(people):
    with pytest.raises(ServiceError, match=r"action 1 \(apply_playbook\): there is no playbook with id 999"):
        make_filter("Ghost", [("subject", "contains", "x")], [("apply_playbook", 999)])


def test_alert_auto_resolve_is_refused_while_required_tasks_are_open(people, huey_immediate):
    from socdesk.alerts.ingest.deliveries import delivery_receive_and_process

    playbook = playbook_create(
        actor=SETUP,
        definition=PlaybookDefinition(name="SSH", templates=[TemplateDefinition("Block the source address")]),
    )
    make_filter(
        "SSH", [("alert.labels.alertname", "equals", "SSHBruteForce")], [("apply_playbook", playbook.pk)]
    )
    integration = Integration.objects.create(
        adapter="alertmanager", name="prom", department=people.soc, auto_resolve=True
    )
    for fixture in ("alertmanager_v4.json", "alertmanager_v4_resolved.json"):
        delivery_receive_and_process(
            adapter="alertmanager",
            integration=integration,
            body=sample(fixture),
            content_type="application/json",
        )
    ticket = Ticket.objects.get()
    assert ticket.status != "resolved"
    assert ThreadEntry.objects.filter(
        ticket=ticket, body__contains="Auto-resolve was refused: " + f"{ticket.number} cannot be resolved yet"
    ).exists()
