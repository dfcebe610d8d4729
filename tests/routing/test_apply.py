"""Ticket filters applied to new tickets: each action, refusals, hit counts, filters that became invalid."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.services import team_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.routing.models import FilterRule, RulesetVersion
from socdesk.routing.services.filters import FilterDefinition, filter_create
from socdesk.routing.services.sla import (
    PlanDefinition,
    ScheduleDefinition,
    schedule_create,
    sla_plan_create,
)
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from socdesk.routing.snapshot import configuration_changed
from socdesk.tickets.choices import EntryKind
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import TicketDraft, ticket_create, ticket_create_many

pytestmark = pytest.mark.django_db
SETUP = Actor.system("test-setup")


def make_filter(name, conditions, actions, **fields) -> FilterRule:
    conditions = [
        {"field": c[0], "operator": c[1], "value": c[2]} if isinstance(c, tuple) else c for c in conditions
    ]
    actions = [{"type": a[0], "value": a[1]} if isinstance(a, tuple) else {"type": a} for a in actions]
    return filter_create(
        actor=SETUP, definition=FilterDefinition(name=name, conditions=conditions, actions=actions, **fields)
    )


def open_ticket(people, **fields) -> Ticket:
    fields.setdefault("subject", "Phishing mail reported by finance")
    fields.setdefault("department", people.soc)
    fields.setdefault("body", "A user forwarded a suspicious invoice.")
    fields.setdefault("requester_email", "pat@finance.example.test")
    return ticket_create(actor=Actor.for_agent(people.alice), **fields)


@pytest.fixture
def responders(people):
    return team_create(actor=SETUP, name="Incident Response", department=people.soc, members=[people.bob])


def test_set_team_agent_severity_and_tags_on_a_new_ticket(people, responders):
    make_filter(
        "Finance phishing",
        [("requester_domain", "equals", "finance.example.test"), ("subject", "contains", "phishing")],
        [
            ("set_team", responders.pk),
            ("set_agent", people.bob.pk),
            ("set_severity", "critical"),
            ("add_tags", ["phishing", "finance"]),
        ],
    )
    ticket = open_ticket(people, tags=["mail"])
    assert (ticket.team, ticket.assignee, ticket.severity) == (responders, people.bob, "critical")
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["finance", "mail", "phishing"]
    # The opening's audit event already says where the filter put it: one event, not a create then edits.
    created = AuditEvent.objects.get(action="ticket.created", target_id=str(ticket.pk))
    assert created.after["severity"] == "critical" and created.after["team"] == responders.pk


def test_a_filter_that_does_not_match_changes_nothing(people, responders):
    make_filter(
        "Finance", [("requester_domain", "equals", "finance.example.test")], [("set_team", responders.pk)]
    )
    ticket = open_ticket(people, requester_email="pat@hr.example.test", severity="low")
    assert ticket.team is None and ticket.severity == "low"
    assert FilterRule.objects.get().hit_count == 0


def test_channel_targeting(people, responders):
    make_filter(
        "Mail only", [("subject", "contains", "phishing")], [("set_team", responders.pk)], channel="email"
    )
    assert open_ticket(people).team is None  # typed in by an agent: the web channel
    assert open_ticket(people, source="email").team == responders


def test_reject_refuses_with_the_filter_name_for_agents_and_writes_nothing(people):
    make_filter("No test tickets", [("subject", "starts_with", "test")], ["reject"])
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied) as refused:
        open_ticket(people, subject="Test please ignore")
    assert refused.value.message == (
        "The ticket filter 'No test tickets' refused this ticket; ask an administrator if it should not."
    )
    assert not Ticket.objects.exists() and AuditEvent.objects.count() == before


def test_reject_names_no_filter_to_a_key_or_requester(people):
    make_filter("No test tickets", [("subject", "starts_with", "test")], ["reject"])
    draft = TicketDraft(actor=Actor.system("api-tool"), subject="Test", department=people.soc)
    with pytest.raises(PermissionDenied, match=r"^A ticket filter refused this ticket") as refused:
        ticket_create_many([draft])
    assert "No test tickets" not in refused.value.message


def test_add_note_is_an_internal_note_by_the_filters(people):
    make_filter(
        "Playbook", [("subject", "contains", "phishing")], [("add_note", "Run the phishing playbook.")]
    )
    ticket = open_ticket(people)
    note = ThreadEntry.objects.get(ticket=ticket, kind=EntryKind.NOTE, body="Run the phishing playbook.")
    assert note.author_label == "ticket-filters" and note.author_agent is None
    event = AuditEvent.objects.get(action="ticket.noted", target_id=str(ticket.pk))
    assert event.actor_type == "system" and event.actor_label == "ticket-filters"


def test_set_status_goes_through_the_state_machine(people):
    make_filter("Known noise", [("subject", "contains", "noise")], [("set_status", "resolved")])
    ticket = open_ticket(people, subject="Scanner noise")
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.resolution == "not_applicable"
    actions = list(
        AuditEvent.objects.filter(target_id=str(ticket.pk), target_type="ticket")
        .order_by("id")
        .values_list("action", "after__status")
    )
    assert actions == [
        ("ticket.created", "new"),
        ("ticket.status_changed", "in_progress"),
        ("ticket.status_changed", "resolved"),
    ]


def test_help_topic_sla_plan_and_auto_response_are_left_in_the_hints(people):
    schedule = schedule_create(actor=SETUP, definition=ScheduleDefinition(name="24/7", always=True))
    targets = {s: (15, 60) for s in ("info", "low", "medium", "high", "critical")}
    plan = sla_plan_create(
        actor=SETUP, definition=PlanDefinition(name="P1", schedule=schedule, targets=targets)
    )
    topic = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing"))
    make_filter(
        "Routing hints",
        [("subject", "contains", "phishing")],
        [("set_help_topic", topic.pk), ("set_sla_plan", plan.pk), ("suppress_autoresponse", None)],
    )
    draft = TicketDraft(actor=Actor.for_agent(people.alice), subject="phishing", department=people.soc)
    ticket_create_many([draft])
    assert draft.hints["help_topic"] == topic.pk and draft.hints["sla_plan"] == plan.pk
    assert draft.hints["suppress_autoresponse"] is True


def test_help_topic_condition_reads_the_topic_name(people, responders):
    topic = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Lost device"))
    make_filter("Devices", [("help_topic", "equals", "lost device")], [("set_team", responders.pk)])
    draft = TicketDraft(
        actor=Actor.for_agent(people.alice), subject="Laptop gone", department=people.soc, help_topic=topic.pk
    )
    assert ticket_create_many([draft])[0].team == responders


def test_a_department_that_does_not_fit_the_team_drops_the_team_with_a_note(people):
    make_filter("To IT", [("subject", "contains", "printer")], [("set_department", people.it.pk)])
    ticket = open_ticket(people, subject="Printer on fire", team=people.tier1)
    assert ticket.department == people.it and ticket.team is None
    note = ThreadEntry.objects.get(ticket=ticket, author_label="ticket-filters")
    assert note.kind == EntryKind.NOTE and note.body == (
        "Ticket filters: the team Tier 1 belongs to another department than IT Help Desk, so the ticket "
        "was not given to it."
    )


def test_filters_run_in_order_and_stop(people, responders, django_capture_on_commit_callbacks):
    make_filter("First", [("subject", "contains", "phishing")], [("set_severity", "high")], order=1)
    make_filter("Second", [("subject", "contains", "phishing")], [("set_severity", "low"), "stop"], order=2)
    make_filter("Third", [("subject", "contains", "phishing")], [("set_team", responders.pk)], order=3)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(people)
    assert ticket.severity == "low" and ticket.team is None
    assert {r.name: r.hit_count for r in FilterRule.objects.all()} == {"First": 1, "Second": 1, "Third": 0}


def test_hit_counts_one_update_per_filter_per_batch(people, django_capture_on_commit_callbacks):
    rule = make_filter("Everything", [("subject", "matches", ".")], [("add_tags", "seen")])
    other = make_filter("Nothing", [("subject", "equals", "never")], [("add_tags", "never")])
    drafts = [
        TicketDraft(actor=Actor.for_agent(people.alice), subject=f"Ticket {n}", department=people.soc)
        for n in range(5)
    ]
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        ticket_create_many(drafts)
    updates = [
        q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "routing_filterrule" in q["sql"]
    ]
    assert len(updates) == 1
    rule.refresh_from_db()
    other.refresh_from_db()
    assert rule.hit_count == 5 and rule.last_matched_at is not None
    assert other.hit_count == 0 and other.last_matched_at is None


def test_a_deleted_target_disables_the_filter_and_the_ticket_still_opens(people, caplog):
    spare = team_create(actor=SETUP, name="Spare", department=people.soc)
    rule = make_filter("To spare", [("subject", "contains", "phishing")], [("set_team", spare.pk)])
    spare_id = spare.pk
    spare.delete()  # deleted outside the services, which would have refused
    version = RulesetVersion.objects.get().version
    with caplog.at_level(logging.WARNING, logger="socdesk.routing.apply"):
        ticket = open_ticket(people)
    assert ticket.team is None
    rule.refresh_from_db()
    assert not rule.enabled
    assert rule.disabled_reason == (
        f"Action set_team points at a team that no longer exists (id {spare_id}); pick an existing one and "
        "enable the filter again."
    )
    assert RulesetVersion.objects.get().version == version + 1
    assert "Ticket filter" in caplog.text and "disabled" in caplog.text
    assert AuditEvent.objects.filter(action="ticket_filter.disabled", target_id=str(rule.pk)).exists()
    assert open_ticket(people).team is None  # and the next ticket no longer tries


def test_a_regex_broken_in_the_database_disables_the_filter(people, responders):
    rule = make_filter("Regex", [("subject", "matches", "phish")], [("set_team", responders.pk)])
    FilterRule.objects.filter(pk=rule.pk).update(
        conditions=[{"field": "subject", "operator": "matches", "value": "(unclosed"}]
    )
    configuration_changed()
    ticket = open_ticket(people)
    assert ticket.team is None and ticket.pk is not None
    rule.refresh_from_db()
    assert not rule.enabled and "does not compile" in rule.disabled_reason


def test_catastrophic_regex_is_stopped_and_the_ticket_opens(people, responders, caplog):
    make_filter("Backtracker", [("body", "matches", "(a+)+$")], [("set_team", responders.pk)])
    with caplog.at_level(logging.WARNING, logger="socdesk.routing.apply"):
        ticket = open_ticket(people, body="a" * 5000 + "!")
    assert ticket.team is None
    assert "'Backtracker', condition 1: the regular expression ran out of time" in caplog.text


def test_on_events_refuses_creation_only_actions(people):
    with pytest.raises(ServiceError, match=r"action 1 \(reject\) only applies when a ticket is opened"):
        make_filter("Bad", [("subject", "contains", "x")], ["reject"], on_events=["reopened"])
    with pytest.raises(ServiceError, match="unknown event 'closed'"):
        make_filter("Bad", [("subject", "contains", "x")], [("add_tags", "x")], on_events=["closed"])
    assert not FilterRule.objects.exists()
    rule = make_filter("Good", [("subject", "contains", "x")], [("add_tags", "x")], on_events=["reopened"])
    assert rule.on_events == ["reopened"]
