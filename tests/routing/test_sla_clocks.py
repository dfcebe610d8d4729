"""SLA clocks: started with the ticket from the right plan, paused on hold, met, recomputed, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socdesk.audit.models import AuditEvent
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.routing.models import DepartmentSLA, TicketSLA
from socdesk.routing.services.sla import sla_plan_delete
from socdesk.routing.services.sla_clocks import department_sla_set
from socdesk.routing.services.ticket_fields import ticket_set_help_topic
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from socdesk.tickets.services import (
    TicketDraft,
    ticket_change_severity,
    ticket_change_status,
    ticket_claim,
    ticket_create_many,
    ticket_note,
    ticket_reply,
    ticket_transfer,
)
from tests.routing.sla_fixtures import SETUP, clock_of, make_plans, open_ticket

pytestmark = pytest.mark.django_db


def test_a_new_ticket_gets_its_departments_plan_with_due_times_in_working_minutes(people):
    plans = make_plans(people)
    ticket = open_ticket(people, severity="high")
    clock = clock_of(ticket)
    assert (clock.plan_id, clock.plan_source) == (plans.standard.pk, "department")
    assert clock.started_at == ticket.created_at
    assert clock.response_due_at == ticket.created_at + timedelta(minutes=60)
    assert clock.response_at_risk_at == ticket.created_at + timedelta(minutes=45)
    assert clock.resolution_due_at == ticket.created_at + timedelta(minutes=240)
    assert (clock.response_state, clock.resolution_state, clock.state) == ("on_track", "on_track", "on_track")
    assert clock.next_check_at == clock.response_at_risk_at


def test_without_department_plan_the_default_plan_runs_and_without_any_no_clock(people):
    plans = make_plans(people, soc_plan=False)
    ticket = open_ticket(people, severity="medium")
    assert (clock_of(ticket).plan_id, clock_of(ticket).plan_source) == (plans.slow.pk, "default")
    plans.slow.is_default = False
    plans.slow.save()
    assert not TicketSLA.objects.filter(ticket_id=open_ticket(people).pk).exists()


def test_a_filters_plan_wins_over_the_help_topics_which_wins_over_the_departments(people):
    plans = make_plans(people)
    topic = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing", sla_plan=plans.slow))
    actor = Actor.for_agent(people.admin)

    def draft(**hints):
        return TicketDraft(actor=actor, subject="Phish", department=people.soc, severity="high", hints=hints)

    by_filter, by_topic, by_topic_field, by_department = ticket_create_many(
        [
            draft(sla_plan=plans.fast.pk, help_topic=topic.pk),
            draft(help_topic=topic.pk),
            TicketDraft(
                actor=actor, subject="Phish", department=people.soc, severity="high", help_topic=topic.pk
            ),
            draft(),
        ]
    )
    assert (clock_of(by_filter).plan_id, clock_of(by_filter).plan_source) == (plans.fast.pk, "filter")
    assert (clock_of(by_topic).plan_id, clock_of(by_topic).plan_source) == (plans.slow.pk, "help_topic")
    assert clock_of(by_topic_field).plan_source == "help_topic"
    assert (clock_of(by_department).plan_id, clock_of(by_department).plan_source) == (
        plans.standard.pk,
        "department",
    )


def _clock_queries(people, count: int) -> list[str]:
    actor = Actor.system("ingest")
    drafts = [
        TicketDraft(actor=actor, subject=f"Alert {i}", department=people.soc, severity="high")
        for i in range(count)
    ]
    with CaptureQueriesContext(connection) as queries:
        tickets = ticket_create_many(drafts)
    assert TicketSLA.objects.filter(ticket_id__in=[t.pk for t in tickets]).count() == count
    return [q["sql"] for q in queries.captured_queries if "routing_" in q["sql"]]


def test_a_batch_of_tickets_starts_its_clocks_in_one_statement_whatever_its_size(people):
    # 30 rows stay under SQLite's 999 parameters per statement; PostgreSQL takes any batch in one COPY.
    make_plans(people)
    _clock_queries(people, 1)  # the first batch reads the plans into the process's snapshot
    few, many = _clock_queries(people, 3), _clock_queries(people, 30)
    assert len(few) == len(many)
    inserts = [query for query in many if query.startswith('INSERT INTO "routing_ticketsla"')]
    # PostgreSQL writes them with one COPY, which Django's query log does not see.
    assert len(inserts) == (0 if connection.vendor == "postgresql" else 1)


def test_clocks_written_in_bulk_read_back_as_django_stores_them(people):
    """COPY (PostgreSQL) side by side with bulk_create, for every field of a clock."""
    plans = make_plans(people)
    tickets = [open_ticket(people) for _ in range(4)]
    TicketSLA.objects.all().delete()
    when = timezone.now().astimezone(timezone.get_fixed_timezone(-330))

    def clocks(pair):
        return [
            TicketSLA(
                ticket=ticket,
                plan=plans.standard,
                plan_source="department",
                started_at=when,
                response_minutes=60,
                resolution_minutes=240,
                response_at_risk_at=when,
                response_due_at=when + timedelta(minutes=60, microseconds=7),
                response_met_at=None,
                response_state="at_risk",
                response_level=1,
                resolution_due_at=when,
                state="paused",
                paused_since=when,
                pauses=[[when.isoformat(), when.isoformat()]],
                next_check_at=None,
            )
            for ticket in pair
        ]

    TicketSLA.objects.bulk_create(clocks(tickets[:2]))
    sql.insert_new(clocks(tickets[2:]))
    stored = [
        {k: v for k, v in row.items() if k not in ("ticket_id", "updated_at")}
        for row in TicketSLA.objects.order_by("ticket_id").values()
    ]
    assert stored[:2] == stored[2:] and len(stored) == 4


def test_a_severity_without_target_runs_no_target(people):
    make_plans(people)
    clock = clock_of(open_ticket(people, severity="low"))
    assert clock.response_due_at is None and clock.resolution_due_at is None
    assert (clock.response_state, clock.state, clock.next_check_at) == ("none", "done", None)


def test_on_hold_pauses_the_clock_and_resuming_pushes_the_due_times_by_the_pause(people):
    make_plans(people)
    ticket = open_ticket(people)
    before = clock_of(ticket)
    admin = Actor.for_agent(people.admin)
    ticket = ticket_change_status(actor=admin, ticket=ticket, status="in_progress")
    ticket = ticket_change_status(actor=admin, ticket=ticket, status="on_hold")
    paused = clock_of(ticket)
    assert paused.paused_since == ticket.last_activity_at
    assert (paused.state, paused.next_check_at) == ("paused", None)
    ticket = ticket_change_status(actor=admin, ticket=ticket, status="in_progress")
    resumed = clock_of(ticket)
    pause = ticket.last_activity_at - paused.paused_since
    assert resumed.paused_since is None and len(resumed.pauses) == 1
    assert resumed.resolution_due_at == before.resolution_due_at + pause
    assert resumed.state == "on_track" and resumed.next_check_at is not None


def test_the_first_agent_action_meets_the_response_target(people):
    make_plans(people)
    ticket = open_ticket(people)
    ticket = ticket_claim(actor=Actor.for_agent(people.alice), ticket=ticket)
    clock = clock_of(ticket)
    assert clock.response_met_at == ticket.acknowledged_at
    assert clock.response_state == "met" and clock.resolution_state == "on_track"
    assert clock.next_check_at == clock.resolution_at_risk_at


def test_a_reply_meets_the_response_target(people):
    make_plans(people)
    ticket = open_ticket(people)
    ticket_reply(actor=Actor.for_agent(people.alice), ticket=ticket, body="Looking into it.")
    ticket.refresh_from_db()
    assert clock_of(ticket).response_met_at == ticket.first_response_at


def test_a_note_by_a_system_job_meets_nothing(people):
    make_plans(people)
    ticket = open_ticket(people)
    ticket_note(actor=Actor.system("enricher"), ticket=ticket, body="Enriched.")
    assert clock_of(ticket).response_met_at is None


def test_resolving_meets_both_targets_and_reopening_resumes_the_resolution_clock(people):
    make_plans(people)
    ticket = open_ticket(people)
    original_due = clock_of(ticket).resolution_due_at
    admin = Actor.for_agent(people.admin)
    ticket = ticket_change_status(actor=admin, ticket=ticket, status="resolved", resolution="false_positive")
    done = clock_of(ticket)
    assert done.resolution_met_at == ticket.resolved_at and done.response_met_at is not None
    assert (done.resolution_state, done.state, done.next_check_at) == ("met", "done", None)
    ticket = ticket_change_status(actor=admin, ticket=ticket, status="in_progress")
    reopened = clock_of(ticket)
    assert reopened.resolution_met_at is None
    assert reopened.resolution_due_at == original_due + (ticket.last_activity_at - done.resolution_met_at)
    assert reopened.state == "on_track" and reopened.response_state == "met"


def test_raising_the_severity_recomputes_the_targets_and_is_audited(people):
    make_plans(people)
    ticket = open_ticket(people, severity="high")
    before = clock_of(ticket)
    ticket = ticket_change_severity(actor=Actor.for_agent(people.alice), ticket=ticket, severity="critical")
    after = clock_of(ticket)
    assert after.response_due_at == ticket.created_at + timedelta(minutes=15)
    assert after.resolution_due_at == ticket.created_at + timedelta(minutes=60)
    event = AuditEvent.objects.get(action="ticket.sla_changed", target_id=str(ticket.pk))
    assert event.actor_label == "alice"
    assert event.before["resolution_due_at"] == before.resolution_due_at.isoformat()
    assert event.after["resolution_due_at"] == after.resolution_due_at.isoformat()
    assert event.after["reason"] == "ticket.severity_changed"


def test_a_transfer_takes_the_new_departments_plan_and_is_audited(people):
    plans = make_plans(people)
    department_sla_set(actor=SETUP, department=people.it, plan=plans.fast)
    ticket = open_ticket(people, severity="medium")
    ticket = ticket_transfer(
        actor=Actor.for_agent(people.admin), ticket=ticket, department=people.it, reason="IT's"
    )
    clock = clock_of(ticket)
    assert (clock.plan_id, clock.plan_source) == (plans.fast.pk, "department")
    assert clock.resolution_due_at == ticket.created_at + timedelta(minutes=30)
    event = AuditEvent.objects.get(action="ticket.sla_changed", target_id=str(ticket.pk))
    assert event.after["sla_plan"] == plans.fast.pk and event.before["sla_plan"] == plans.standard.pk


def test_a_transfer_keeps_a_plan_a_filter_chose(people):
    plans = make_plans(people)
    department_sla_set(actor=SETUP, department=people.it, plan=plans.slow)
    (ticket,) = ticket_create_many(
        [
            TicketDraft(
                actor=Actor.for_agent(people.admin),
                subject="x",
                department=people.soc,
                severity="high",
                hints={"sla_plan": plans.fast.pk},
            )
        ]
    )
    ticket_transfer(actor=Actor.for_agent(people.admin), ticket=ticket, department=people.it, reason="IT's")
    assert clock_of(ticket).plan_id == plans.fast.pk
    assert not AuditEvent.objects.filter(action="ticket.sla_changed").exists()


def test_a_ticket_without_a_clock_gets_one_when_transferred_to_a_department_with_a_plan(people):
    plans = make_plans(people, soc_plan=False)
    plans.slow.is_default = False
    plans.slow.save()
    ticket = open_ticket(people)
    assert not TicketSLA.objects.filter(ticket_id=ticket.pk).exists()
    department_sla_set(actor=SETUP, department=people.it, plan=plans.fast)
    ticket_transfer(actor=Actor.for_agent(people.admin), ticket=ticket, department=people.it, reason="IT's")
    assert clock_of(ticket).plan_id == plans.fast.pk
    assert AuditEvent.objects.filter(action="ticket.sla_changed").count() == 1


def test_a_new_help_topic_brings_its_plan_and_taking_it_off_brings_the_departments_back(people):
    plans = make_plans(people)
    topic = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing", sla_plan=plans.fast))
    ticket = open_ticket(people, severity="medium")
    assert (clock_of(ticket).plan_id, clock_of(ticket).plan_source) == (plans.standard.pk, "department")
    ticket = ticket_set_help_topic(actor=Actor.for_agent(people.bob), ticket=ticket, topic=topic)
    clock = clock_of(ticket)
    assert (clock.plan_id, clock.plan_source) == (plans.fast.pk, "help_topic")
    assert clock.resolution_due_at == ticket.created_at + timedelta(minutes=30)  # Fast: 30 minutes
    event = AuditEvent.objects.get(action="ticket.sla_changed", target_id=str(ticket.pk))
    assert event.actor_label == "bob"
    assert (event.before["sla_plan"], event.after["sla_plan"]) == (plans.standard.pk, plans.fast.pk)
    assert event.after["reason"] == "ticket.help_topic_changed" and event.after["plan_source"] == "help_topic"
    ticket = ticket_set_help_topic(actor=Actor.for_agent(people.bob), ticket=ticket, topic=None)
    assert (clock_of(ticket).plan_id, clock_of(ticket).plan_source) == (plans.standard.pk, "department")
    assert clock_of(ticket).resolution_due_at == ticket.created_at + timedelta(minutes=480)
    assert AuditEvent.objects.filter(action="ticket.sla_changed").count() == 2


def test_a_topic_without_a_plan_leaves_the_department_plan_and_a_filters_plan_is_kept(people):
    plans = make_plans(people)
    no_plan = help_topic_create(actor=SETUP, definition=TopicDefinition(name="General"))
    with_plan = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Fast", sla_plan=plans.fast))
    ticket = open_ticket(people, severity="medium")
    ticket_set_help_topic(actor=Actor.for_agent(people.bob), ticket=ticket, topic=no_plan)
    assert (clock_of(ticket).plan_id, clock_of(ticket).plan_source) == (plans.standard.pk, "department")
    (chosen,) = ticket_create_many(
        [
            TicketDraft(
                actor=Actor.for_agent(people.admin),
                subject="x",
                department=people.soc,
                severity="high",
                hints={"sla_plan": plans.slow.pk},
            )
        ]
    )
    ticket_set_help_topic(actor=Actor.for_agent(people.bob), ticket=chosen, topic=with_plan)
    assert (clock_of(chosen).plan_id, clock_of(chosen).plan_source) == (plans.slow.pk, "filter")
    assert not AuditEvent.objects.filter(action="ticket.sla_changed").exists()


def test_a_ticket_without_a_clock_gets_one_when_put_on_a_topic_with_a_plan(people):
    plans = make_plans(people, soc_plan=False)
    plans.slow.is_default = False
    plans.slow.save()
    topic = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing", sla_plan=plans.fast))
    ticket = open_ticket(people)
    assert not TicketSLA.objects.filter(ticket_id=ticket.pk).exists()
    ticket_set_help_topic(actor=Actor.for_agent(people.bob), ticket=ticket, topic=topic)
    assert (clock_of(ticket).plan_id, clock_of(ticket).plan_source) == (plans.fast.pk, "help_topic")
    event = AuditEvent.objects.get(action="ticket.sla_changed")
    assert event.before["sla_plan"] is None and event.after["reason"] == "ticket.help_topic_changed"


def test_department_sla_set_is_audited_and_refuses_an_inactive_manager(people):
    plans = make_plans(people, soc_plan=False)
    department_sla_set(actor=SETUP, department=people.it, plan=plans.fast, manager=people.carol)
    event = AuditEvent.objects.get(action="department.sla_set")
    assert event.after == {"plan": plans.fast.pk, "manager": people.carol.pk}
    people.bob.user.is_active = False
    people.bob.user.save()
    with pytest.raises(ServiceError, match="not an active agent"):
        department_sla_set(actor=SETUP, department=people.soc, plan=plans.fast, manager=people.bob)
    assert not DepartmentSLA.objects.filter(department=people.soc).exists()
    assert AuditEvent.objects.filter(action="department.sla_set").count() == 1


def test_a_plan_a_department_uses_cannot_be_deleted(people):
    plans = make_plans(people)
    with pytest.raises(ServiceError, match="department 'SOC'"):
        sla_plan_delete(actor=SETUP, plan=plans.standard)


def test_a_change_the_clock_does_not_depend_on_costs_it_one_read(people):
    make_plans(people)
    ticket = ticket_claim(actor=Actor.for_agent(people.alice), ticket=open_ticket(people))  # response met
    before = clock_of(ticket)
    with CaptureQueriesContext(connection) as queries:
        ticket_note(actor=Actor.for_agent(people.alice), ticket=ticket, body="Checked the proxy logs.")
    assert len([q for q in queries.captured_queries if "routing_" in q["sql"]]) == 1
    assert clock_of(ticket).updated_at == before.updated_at


def test_a_merged_duplicates_clock_stops_and_an_undo_resumes_it(people):
    from socdesk.tickets.services import ticket_merge, ticket_merge_undo

    make_plans(people)
    survivor, duplicate = open_ticket(people), open_ticket(people)
    alice = Actor.for_agent(people.alice)
    ticket_merge(actor=alice, source=duplicate, target=survivor)
    done = clock_of(duplicate)
    assert done.resolution_met_at is not None and (done.state, done.next_check_at) == ("done", None)
    assert clock_of(survivor).resolution_met_at is None
    ticket_merge_undo(actor=alice, source=duplicate)
    resumed = clock_of(duplicate)
    assert resumed.resolution_met_at is None and resumed.state == "on_track"
