"""`socdesk demo`: realistic, consistent with the audit trail, and seeded once."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from socdesk.accounts.models import Agent, Contact, Department, Organisation, Team
from socdesk.audit.models import AuditEvent
from socdesk.audit.selectors import events_for_target
from socdesk.audit.services import seal_pending
from socdesk.audit.verify import verify_chain
from socdesk.cases.models import Playbook
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.demo import seed, stories
from socdesk.demo.people import DEPARTMENTS
from socdesk.demo.scenarios import SCENARIOS, lines_for
from socdesk.tickets.choices import Source, Status
from socdesk.tickets.models import ThreadEntry, Ticket

pytestmark = pytest.mark.django_db


def _demo(**kwargs) -> str:
    """The demo without the sample alerts, so ticket counts are the demo's own (alerts have a test)."""
    out = StringIO()
    kwargs.setdefault("no_alerts", True)
    call_command("demo", stdout=out, **kwargs)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Department, Agent, Team, Organisation, Contact, Ticket, ThreadEntry, AuditEvent)
    }


def test_demo_seeds_a_realistic_month_once():
    output = _demo(tickets=40)
    assert "Demo data added: 40 tickets, 8 agents." in output
    seeded = _counts()
    assert seeded["Ticket"] == 40 and seeded["Agent"] == 8
    assert {"SOC", "IT Help Desk", "Threat Intel"} <= set(Department.objects.values_list("name", flat=True))
    assert {"Tier 1", "Tier 2", "Incident Response"} <= set(Team.objects.values_list("name", flat=True))

    again = _demo(tickets=40)
    assert "already present; nothing added" in again
    assert _counts() == seeded


def test_demo_tickets_vary_and_their_timeline_is_consistent():
    _demo(tickets=40)
    now = timezone.now()
    tickets = list(Ticket.objects.prefetch_related("entries", "tags"))
    assert {t.source for t in tickets} >= {Source.ALERT, Source.EMAIL, Source.PHONE}
    assert {t.status for t in tickets} >= {Status.NEW, Status.RESOLVED, Status.CLOSED}
    assert len({t.severity for t in tickets}) >= 3
    assert all(t.tags.all() for t in tickets)
    # Spread over the past (re-dated), not all created at the moment of seeding.
    assert len({t.created_at.date() for t in tickets}) > 5
    for t in tickets:
        entries = list(t.entries.all())
        assert entries and entries[0].created_at == t.created_at
        assert all(e.created_at <= now for e in entries)
        assert [e.created_at for e in entries] == sorted(e.created_at for e in entries)
        assert max(e.created_at for e in entries) == t.last_activity_at
        if t.status in (Status.RESOLVED, Status.CLOSED):
            assert t.resolution and t.resolved_at and t.created_at <= t.resolved_at <= t.last_activity_at
        if t.status == Status.CLOSED:
            assert t.resolved_at <= t.closed_at
        if t.acknowledged_at:
            assert t.created_at <= t.acknowledged_at
    kinds = set(ThreadEntry.objects.values_list("kind", flat=True))
    assert kinds >= {"message", "reply", "note", "event"}


def test_demo_goes_through_the_services_and_the_audit_chain_verifies():
    _demo(tickets=15)
    assert AuditEvent.objects.filter(action="ticket.created").count() == 15
    assert AuditEvent.objects.filter(action="agent.created").count() == 8
    assert AuditEvent.objects.filter(action="demo.seeded").count() == 1
    seal_pending()
    result = verify_chain()
    assert result.ok, result.reason


def test_demo_agents_cannot_sign_in_without_a_demo_password(client):
    _demo(tickets=3)
    assert not any(a.user.has_usable_password() for a in Agent.objects.select_related("user"))


def test_demo_password_comes_from_the_settings(settings):
    settings.SOCDESK_DEMO_PASSWORD = "demo-password-4-all"
    _demo(tickets=3)
    maya = Agent.objects.get(user__username="maya.chen")
    assert maya.user.check_password("demo-password-4-all")


def test_demo_reuses_existing_departments_and_agents(people):
    """An install that already has a SOC department (and a Tier 1 team) gets the demo added beside it."""
    existing = {d.name: d.pk for d in Department.objects.all()}
    _demo(tickets=12)
    assert Department.objects.filter(name__in=["SOC", "IT Help Desk"]).count() == 2
    used = set(Ticket.objects.values_list("department_id", flat=True))
    assert existing["SOC"] in used
    assert used <= set(
        Department.objects.filter(name__in=[d[0] for d in DEPARTMENTS]).values_list("pk", flat=True)
    )


def test_a_failed_seed_leaves_nothing_half_written(monkeypatch):
    def broken(self):
        raise ServiceError("simulated failure while re-dating")

    monkeypatch.setattr(stories.Storyteller, "apply_timeline", broken)
    with pytest.raises(
        CommandError, match="Seeding the demo failed and nothing was saved: simulated failure"
    ):
        _demo(tickets=5)
    assert _counts() == dict.fromkeys(_counts(), 0)
    assert not seed.demo_already_seeded()


def test_demo_rejects_nonsense_counts():
    with pytest.raises(CommandError, match="at least 1"):
        _demo(tickets=0)
    assert Ticket.objects.count() == 0


def test_demo_sends_each_tools_sample_alert_through_the_pipeline():
    from socdesk.alerts.models import Alert, Integration, TicketObservable, WebhookDelivery

    out = _demo(tickets=3, no_alerts=False)
    assert "9 sample alerts from 7 security tools" in out
    assert Integration.objects.count() == 7
    assert WebhookDelivery.objects.filter(status="processed").count() == 9
    assert set(Alert.objects.values_list("source", flat=True)) >= {"alertmanager", "wazuh", "suricata"}
    # the repeated Wazuh alert was de-duplicated onto one ticket
    wazuh = Alert.objects.get(source="wazuh")
    assert wazuh.occurrence_count == 2 and wazuh.ticket.source == "alert"
    assert TicketObservable.objects.filter(ticket=wazuh.ticket).exists()
    seal_pending()
    assert verify_chain().ok


def test_demo_history_agrees_with_the_thread():
    """A ticket's History (its audit events) happened when its thread says, not when the demo was seeded."""
    _demo(tickets=40)
    for t in Ticket.objects.prefetch_related("entries"):
        events = list(events_for_target("ticket", t.pk))
        times = [e.occurred_at for e in events]
        assert events[0].action == "ticket.created" and times[0] == t.created_at, t.number
        assert times == sorted(times), t.number
        assert max(times) == t.last_activity_at, t.number
        # Every thread entry was written by a step the history shows, at the same moment.
        assert {e.created_at for e in t.entries.all()} <= set(times), t.number


def _pattern(template: str) -> re.Pattern[str]:
    """A scenario line with its {placeholders} as wildcards."""
    return re.compile(re.sub(r"\\\{\w+\\\}", ".+", re.escape(template)), re.DOTALL)


def _fits(text: str, templates: list[str]) -> bool:
    return any(_pattern(template).fullmatch(text) for template in templates)


def test_demo_notes_replies_and_follow_ups_fit_their_ticket_and_verdict():
    _demo(tickets=80)
    checked = 0
    for t in Ticket.objects.prefetch_related("entries"):
        (scenario,) = [s for s in SCENARIOS if _pattern(s.subject).fullmatch(t.subject)]
        # Unresolved tickets may still end any way their scenario allows.
        verdicts = [t.resolution] if t.resolution else scenario.verdicts
        said = [e for e in t.entries.all() if e.kind != "event"][1:]  # after the opening text
        for entry in said:
            lines = {"note": scenario.notes, "reply": scenario.replies, "message": scenario.follow_ups}
            fitting = [line for v in verdicts for line in lines_for(lines[entry.kind], v)]
            assert _fits(entry.body, fitting), (t.number, t.resolution, entry.kind, entry.body)
            checked += 1
    assert checked > 80
    kinds = set(ThreadEntry.objects.exclude(kind="event").values_list("kind", flat=True))
    assert kinds == {"message", "note", "reply"}


def test_demo_seeds_the_phishing_triage_playbook_and_the_filter_that_applies_it():
    from socdesk.cases.selectors import ticket_tasks
    from socdesk.mail.inbound import mail_receive
    from socdesk.routing.models import FilterRule

    _demo(tickets=10)
    playbook = Playbook.objects.get(name="Phishing triage")
    assert [t.title for t in playbook.current.templates.all()] == [
        "Collect the reported message",
        "Check sender authentication",
        "Search for other recipients",
        "Block the URL",
        "Reset the user's password if credentials were entered",
        "Close with a verdict",
    ]
    rule = FilterRule.objects.get(name="Phishing reports get the triage playbook")
    assert rule.actions == [{"type": "apply_playbook", "value": playbook.pk}]
    raw = (
        b"From: pat@contoso.example\r\nTo: soc@northwind.example\r\nSubject: Is this phishing?\r\n"
        b"Message-ID: <demo-report@contoso.example>\r\n\r\nIt asks for my password.\r\n"
    )
    ticket = mail_receive(raw, actor=Actor.system("mail:pipe"), channel="pipe").ticket
    tasks = list(ticket_tasks(ticket))
    assert len(tasks) == 6 and tasks[0].team.name == "Tier 1"


def test_the_demo_gives_the_playbook_to_phishing_reported_in_the_portal_too(client, settings):
    """The portal's report form opens web tickets titled "Suspicious e-mail: ...": the e-mail filter never
    sees them, so the demo has a second filter on that help topic."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from socdesk.cases.selectors import ticket_tasks
    from socdesk.routing.models import HelpTopic
    from tests.portal.conftest import PHISH_EML, sign_in

    _demo(tickets=10)
    settings.SOCDESK_PORTAL_DOMAINS = ["northwind.example"]
    sign_in(client, "pat@northwind.example")
    topic = HelpTopic.objects.get(name="Report a suspicious e-mail")
    response = client.post(
        f"/portal/report/{topic.pk}",
        {
            "subject": "",
            "body": "Looks odd.",
            "cf_clicked_link": "No",
            "eml": SimpleUploadedFile("invoice.eml", PHISH_EML.read_bytes(), content_type="message/rfc822"),
            "website": "",
        },
    )
    assert response.status_code == 302, response.content[:300]
    ticket = Ticket.objects.get(requester__email="pat@northwind.example")
    assert ticket.source == Source.WEB
    assert [t.title for t in ticket_tasks(ticket)][:2] == [
        "Collect the reported message",
        "Check sender authentication",
    ]
