"""The SLA scan: at-risk and breached states, escalation level by level (recipients, reassignment, severity),
each audited and announced once; paused and met clocks left alone; the CLI and the worker job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing import events
from socdesk.routing.models import TicketSLA
from socdesk.routing.services.sla_scan import _claim, sla_scan
from socdesk.routing.tasks import sla_scan_periodic
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_change_status, ticket_claim
from tests.routing.sla_fixtures import clock_of, make_plans, open_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced():
    """Escalations announced to listeners (what the notifications app receives)."""
    heard: list[events.Escalation] = []
    events.escalation_listen(heard.extend)
    yield heard
    events.escalation_listeners.remove(heard.extend)


def age(ticket, minutes: float) -> None:
    """Move the ticket and its clock `minutes` into the past, as if opened that long ago."""
    delta = timedelta(minutes=minutes)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=F("created_at") - delta)
    clock = clock_of(ticket)
    for name in (
        "started_at",
        *(f"{t}_{w}" for t in ("response", "resolution") for w in ("at_risk_at", "due_at")),
    ):
        if getattr(clock, name) is not None:
            setattr(clock, name, getattr(clock, name) - delta)
    clock.next_check_at = timezone.now()
    clock.save()


def escalations(ticket) -> list[dict]:
    return [
        e.after
        for e in AuditEvent.objects.filter(action="ticket.escalated", target_id=str(ticket.pk)).order_by("id")
    ]


def test_at_risk_escalates_the_first_level_to_the_assignee(people, announced):
    make_plans(people)
    ticket = open_ticket(people, assignee=people.bob, team=people.tier1)
    age(ticket, 46)
    report = sla_scan()
    assert (report.checked, report.escalations) == (1, 1)
    clock = clock_of(ticket)
    assert (clock.response_state, clock.state, clock.response_level) == ("at_risk", "at_risk", 1)
    assert clock.next_check_at == clock.response_due_at
    (heard,) = announced
    assert (heard.ticket.pk, heard.target, heard.state, heard.level) == (ticket.pk, "response", "at_risk", 1)
    assert heard.recipients == (people.bob,)
    assert escalations(ticket) == [
        {"target": "response", "state": "at_risk", "level": 1, "notified": ["Bob"]}
    ]
    assert AuditEvent.objects.get(action="ticket.escalated").actor_label == "sla-scan"


def test_breached_climbs_every_level_in_order_once(people, announced):
    make_plans(people)
    ticket = open_ticket(people, assignee=people.bob, team=people.tier1)
    due = clock_of(ticket).response_due_at
    report = sla_scan(now=due + timedelta(seconds=1))
    assert report.escalations == 2
    assert [(e.level, e.state, e.recipients) for e in announced] == [
        (1, "breached", (people.bob,)),
        (2, "breached", (people.alice,)),  # the team lead
    ]
    clock = clock_of(ticket)
    assert (clock.response_state, clock.state, clock.response_level) == ("breached", "breached", 2)
    # The same moment again, and later: nothing new to tell.
    assert sla_scan(now=due + timedelta(seconds=1)).escalations == 0
    assert sla_scan(now=due + timedelta(seconds=30)).escalations == 0
    assert len(escalations(ticket)) == 2


def test_resolution_breach_notifies_the_manager_reassigns_and_raises_the_severity(people, announced):
    make_plans(people)
    ticket = open_ticket(people, severity="high")
    ticket = ticket_claim(actor=Actor.for_agent(people.alice), ticket=ticket)  # response met
    age(ticket, 241)
    sla_scan()
    ticket.refresh_from_db()
    assert ticket.severity == "critical"
    assert (ticket.team_id, ticket.assignee_id) == (people.tier1.pk, None)
    (heard,) = announced
    assert (heard.target, heard.level, heard.recipients) == ("resolution", 3, (people.bob,))  # the manager
    (done,) = escalations(ticket)
    assert done == {
        "target": "resolution",
        "state": "breached",
        "level": 3,
        "notified": ["Bob"],
        "reassigned_team": people.tier1.pk,
        "severity": "critical",
    }
    # The actions went through the ticket services as the scan, each audited.
    actions = set(
        AuditEvent.objects.filter(target_id=str(ticket.pk), actor_label="sla-scan").values_list(
            "action", flat=True
        )
    )
    assert {"ticket.assigned", "ticket.severity_changed", "ticket.sla_changed", "ticket.escalated"} <= actions


def test_an_action_the_ticket_services_refuse_is_recorded_and_the_scan_goes_on(people, announced):
    make_plans(people)
    ticket = open_ticket(people, severity="critical", team=people.tier1)  # already that team, most severe
    ticket = ticket_claim(actor=Actor.for_agent(people.alice), ticket=ticket)
    age(ticket, 61)
    sla_scan()
    (done,) = escalations(ticket)
    assert "reassigned_team" not in done and "severity" not in done
    assert len(announced) == 1


def test_a_scan_without_escalation_levels_writes_the_states(people, announced):
    make_plans(people, soc_plan=False)
    ticket = open_ticket(people, severity="medium")  # the default plan, Slow, has no escalation levels
    clock = clock_of(ticket)
    sla_scan(now=clock.response_at_risk_at + timedelta(seconds=1))
    assert clock_of(ticket).state == "at_risk"
    sla_scan(now=clock.resolution_due_at + timedelta(seconds=1))
    clock = clock_of(ticket)
    assert (clock.response_state, clock.resolution_state, clock.state, clock.next_check_at) == (
        "breached",
        "breached",
        "breached",
        None,
    )
    assert announced == [] and not escalations(ticket)


def test_a_paused_clock_is_not_checked_nor_escalated(people, announced):
    make_plans(people)
    admin = Actor.for_agent(people.admin)
    ticket = open_ticket(people)
    due = clock_of(ticket).resolution_due_at
    ticket = ticket_change_status(actor=admin, ticket=ticket, status="in_progress")
    ticket_change_status(actor=admin, ticket=ticket, status="on_hold")
    assert sla_scan(now=due + timedelta(days=1)).checked == 0
    assert announced == []


def test_rows_another_scan_claimed_are_left_to_it(people, announced):
    make_plans(people)
    ticket = open_ticket(people, assignee=people.bob)
    now = clock_of(ticket).response_due_at + timedelta(seconds=1)
    assert _claim([ticket.pk], "other-scan", now) == [ticket.pk]
    assert _claim([ticket.pk], "late-scan", now) == []
    assert sla_scan(now=now).checked == 0
    assert announced == [] and clock_of(ticket).response_level == 0


def test_the_cli_scans_and_says_what_it_did(people, capsys):
    make_plans(people)
    ticket = open_ticket(people)
    TicketSLA.objects.filter(pk=ticket.pk).update(
        response_at_risk_at=ticket.created_at - timedelta(minutes=1),
        response_due_at=ticket.created_at - timedelta(seconds=1),
        next_check_at=ticket.created_at,
    )
    call_command("sla", "scan")
    assert "Checked 1 SLA clock(s); 2 escalation(s)." in capsys.readouterr().out
    assert clock_of(ticket).response_state == "breached"


def test_the_worker_job_scans_and_queues_the_scan_half_a_minute_later(people):
    from huey.contrib.djhuey import HUEY

    make_plans(people)
    ticket = open_ticket(people)
    TicketSLA.objects.filter(pk=ticket.pk).update(
        response_at_risk_at=ticket.created_at - timedelta(minutes=1), next_check_at=ticket.created_at
    )
    before = len([t for t in HUEY.pending() if t.name == "sla_scan_task"])
    assert sla_scan_periodic.call_local() == 1
    assert clock_of(ticket).response_state == "at_risk"
    later = [t for t in HUEY.pending() if t.name == "sla_scan_task"]
    assert len(later) == before + 1
    assert 25 <= (later[-1].eta - timezone.now().replace(tzinfo=None)).total_seconds() <= 31


def test_the_cli_refuses_a_batch_below_one_and_scans_nothing(people):
    from django.core.management.base import CommandError

    make_plans(people)
    ticket = open_ticket(people)
    age(ticket, 50)
    with pytest.raises(CommandError, match="--batch must be at least 1"):
        call_command("sla", "scan", "--batch", "0")
    assert clock_of(ticket).response_state == "on_track"
