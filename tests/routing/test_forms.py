"""Custom forms on tickets: form and field services, the help-topic hook on every opening, and the
audited change of a ticket's values."""

from __future__ import annotations

import re

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.routing.models import CustomField, CustomForm, TicketTopic
from socdesk.routing.services.forms import (
    FieldDefinition,
    custom_field_create,
    custom_field_delete,
    custom_field_update,
    custom_form_create,
    custom_form_delete,
)
from socdesk.routing.services.ticket_fields import ticket_set_custom_fields, ticket_set_help_topic
from socdesk.routing.services.topics import TopicDefinition, help_topic_create, help_topic_delete
from socdesk.tickets.history import describe_event
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft, ticket_create, ticket_create_many
from tests.routing.fixtures_forms import SETUP, incident_topic, topic_draft, topic_ticket
from tests.tickets.test_search import found

pytestmark = pytest.mark.django_db


def test_form_and_field_services_are_audited(people):
    form = custom_form_create(actor=SETUP, name="Malware")
    field = custom_field_create(
        actor=SETUP, form=form, definition=FieldDefinition(name="family", label="Family", type="text")
    )
    custom_field_update(
        actor=SETUP,
        custom_field=field,
        definition=FieldDefinition(name="family", label="Malware family", type="choice", choices=["Emotet"]),
    )
    custom_field_delete(actor=SETUP, custom_field=field)
    custom_form_delete(actor=SETUP, form=form)
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-5:] == [
        "custom_form.created",
        "custom_field.created",
        "custom_field.updated",
        "custom_field.deleted",
        "custom_form.deleted",
    ]
    updated = AuditEvent.objects.get(action="custom_field.updated")
    assert updated.before["label"] == "Family" and updated.after["choices"] == ["Emotet"]


@pytest.mark.parametrize(
    ("definition", "says"),
    [
        (FieldDefinition(name="Host IP", label="Host"), "a machine name is 1 to 64 lower-case letters"),
        (FieldDefinition(name="host", label=""), "a label of 1 to 100 characters is required"),
        (FieldDefinition(name="host", label="Host", type="colour"), "unknown type 'colour'"),
        (FieldDefinition(name="impact", label="Impact", type="choice"), "a choice field needs 1 to 200"),
        (
            FieldDefinition(name="impact", label="Impact", type="choice", choices=["Low", "low"]),
            "a choice is listed twice",
        ),
        (FieldDefinition(name="host", label="Host", choices=["a"]), "only choice and multiple-choice"),
        (
            FieldDefinition(name="host", label="Host", agent_visible=False, agent_required=True),
            "hidden from agents cannot be required",
        ),
        (FieldDefinition(name="host_ip", label="Host"), "already has a field with that name"),
    ],
)
def test_bad_fields_are_refused_naming_form_and_field_and_nothing_is_written(people, definition, says):
    setup = incident_topic(people)
    fields_before, events_before = CustomField.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ServiceError) as refused:
        custom_field_create(actor=SETUP, form=setup.form, definition=definition)
    assert refused.value.message.startswith("Custom form 'Incident details', field ")
    assert says in refused.value.message
    assert (CustomField.objects.count(), AuditEvent.objects.count()) == (fields_before, events_before)


def test_a_form_in_use_and_a_topic_with_tickets_are_not_deleted(people):
    setup = incident_topic(people)
    with pytest.raises(ServiceError, match=r"used by help topic\(s\) Phishing"):
        custom_form_delete(actor=SETUP, form=setup.form)
    ticket_create(
        actor=Actor.for_agent(people.alice),
        subject="Phish",
        department=people.soc,
        help_topic=setup.topic.pk,
        custom_fields={"host_ip": "10.0.0.1"},
    )
    with pytest.raises(ServiceError, match="is the topic of 1 ticket"):
        help_topic_delete(actor=SETUP, topic=setup.topic)
    assert CustomForm.objects.filter(pk=setup.form.pk).exists()


def test_a_topic_fills_its_defaults_checks_the_form_and_is_stored(people):
    setup = incident_topic(people)
    draft = TicketDraft(
        actor=Actor.for_agent(people.alice),
        subject="Credential phish reported",
        department=people.soc,
        help_topic=setup.topic.pk,
        custom_fields={
            "host_ip": "10.0.0.7",
            "impact": "high",
            "systems": ["VPN", "mail"],
            "confirmed": "on",
        },
    )
    [ticket] = ticket_create_many([draft])
    ticket.refresh_from_db()
    assert (ticket.team, ticket.severity) == (people.tier1, "high")
    assert ticket.custom_fields == {
        "host_ip": "10.0.0.7",
        "impact": "High",
        "systems": ["mail", "vpn"],
        "confirmed": True,
    }
    assert draft.hints["help_topic"] == setup.topic.pk
    assert TicketTopic.objects.get(ticket=ticket).topic == setup.topic
    created = AuditEvent.objects.get(action="ticket.created", target_id=str(ticket.pk))
    assert created.after["custom_fields"]["impact"] == "High"


def test_explicit_choices_win_over_the_topics_defaults(people):
    setup = incident_topic(people)
    ticket = ticket_create(
        actor=Actor.for_agent(people.alice),
        subject="Phish",
        department=people.soc,
        severity="low",
        team=None,
        assignee=people.bob,
        help_topic=setup.topic.pk,
        custom_fields={"host_ip": "10.0.0.1"},
    )
    assert (ticket.severity, ticket.assignee, ticket.team) == ("low", people.bob, people.tier1)


def test_the_topics_department_applies_only_where_the_channel_picked_none(people):
    setup = incident_topic(people)
    ticket = ticket_create(
        actor=Actor.system("test"),
        subject="From a tool",
        department=people.it,
        help_topic=setup.topic.pk,
        custom_fields={"host_ip": "10.0.0.1"},
        hints={"department_default": True},
    )
    assert ticket.department == people.soc


def test_the_topic_and_its_auto_response_go_to_the_hints_and_its_sla_plan_starts_the_clock(people):
    from socdesk.routing.services.sla import (
        PlanDefinition,
        ScheduleDefinition,
        schedule_create,
        sla_plan_create,
    )

    schedule = schedule_create(actor=SETUP, definition=ScheduleDefinition(name="24/7", always=True))
    targets = {s: (60, 240) for s in ("info", "low", "medium", "high", "critical")}
    plan = sla_plan_create(
        actor=SETUP, definition=PlanDefinition(name="P1", schedule=schedule, targets=targets)
    )
    setup = incident_topic(people, sla_plan=plan, auto_response=False)
    plain = topic_draft(people, setup.topic, host_ip="10.0.0.1")
    (ticket,) = ticket_create_many([plain])
    assert plain.hints["help_topic"] == setup.topic.pk and plain.hints["suppress_autoresponse"] is True
    # hints["sla_plan"] is a ticket filter's choice; the topic's plan is the SLA clock's next choice
    assert "sla_plan" not in plain.hints
    assert (ticket.sla.plan_id, ticket.sla.plan_source) == (plan.pk, "help_topic")


@pytest.mark.parametrize(
    ("actor_kind", "values", "says"),
    [
        ("agent", {}, "Custom field 'Host IP' (host_ip) is required."),
        ("agent", {"host_ip": "10.0.0.300"}, "Custom field 'Host IP' (host_ip): '10.0.0.300' is not an IP"),
        ("agent", {"host_ip": "10.0.0.1", "colour": "red"}, "'colour' is not a field of the form 'Incident"),
        ("user", {"host_ip": "10.0.0.1"}, "Custom field 'Business impact' (impact) is required."),
        ("user", {"impact": "Low", "notes": "x"}, "'Analyst notes' (notes) is not one you can fill in."),
    ],
)
def test_bad_values_refuse_the_batch_and_nothing_is_written(people, actor_kind, values, says):
    setup = incident_topic(people)
    actor = Actor.for_agent(people.alice) if actor_kind == "agent" else Actor(kind="user", label="dana")
    good = topic_draft(people, setup.topic, host_ip="10.0.0.2")
    bad = topic_draft(people, setup.topic, actor=actor, **values)
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as refused:
        ticket_create_many([good, bad])
    assert says in refused.value.message
    assert Ticket.objects.count() == 0 and TicketTopic.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_an_unknown_topic_is_refused(people):
    with pytest.raises(ServiceError, match=r"There is no help topic with id 4242; pick an existing one\."):
        ticket_create(
            actor=Actor.for_agent(people.alice), subject="x", department=people.soc, help_topic=4242
        )
    assert Ticket.objects.count() == 0


def test_without_a_topic_values_are_checked_by_the_field_of_that_name(people):
    incident_topic(people)
    ticket = ticket_create(
        actor=Actor.for_agent(people.alice),
        subject="x",
        department=people.soc,
        custom_fields={"host_ip": "::1"},
    )
    assert ticket.custom_fields == {"host_ip": "::1"}
    with pytest.raises(ServiceError, match="'colour' is not a field of this ticket's form"):
        ticket_create(
            actor=Actor.for_agent(people.alice),
            subject="x",
            department=people.soc,
            custom_fields={"colour": "1"},
        )


def test_agents_change_values_audited_with_before_and_after(people):
    setup = incident_topic(people)
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1", impact="Low")
    ticket = ticket_set_custom_fields(
        actor=Actor.for_agent(people.bob),
        ticket=ticket,
        values={"impact": "high", "systems": "erp", "confirmed": ""},
    )
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"host_ip": "10.0.0.1", "impact": "High", "systems": ["erp"]}
    event = AuditEvent.objects.get(action="ticket.custom_fields_changed")
    assert event.before == {"custom_fields": {"impact": "Low", "systems": None}}
    assert event.after["custom_fields"] == {"impact": "High", "systems": ["erp"]}
    assert ticket.entries.filter(body__contains="Business impact, Affected systems").exists()
    assert describe_event(event) == "changed the custom fields impact, systems"
    assert ticket.version == 2


def test_bad_changes_are_refused_and_nothing_changes(people):
    setup = incident_topic(people)
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    events = AuditEvent.objects.count()
    for values, says in [
        ({"host_ip": ""}, "'Host IP' (host_ip) is required; it cannot be cleared."),
        ({"impact": "Medium", "confirmed": True}, "'Medium' is not one of its choices (Low, High)"),
        ({"host_ip": "10.0.0.1"}, "Nothing to change"),
    ]:
        with pytest.raises(ServiceError, match=re.escape(says)):
            ticket_set_custom_fields(actor=Actor.for_agent(people.alice), ticket=ticket, values=values)
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"host_ip": "10.0.0.1"} and ticket.version == 1
    assert AuditEvent.objects.count() == events


def test_only_agents_who_may_edit_the_ticket_change_values(people):
    setup = incident_topic(people)
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    with pytest.raises((NotFound, PermissionDenied)):
        ticket_set_custom_fields(actor=Actor.for_agent(people.carol), ticket=ticket, values={"impact": "Low"})
    ticket.refresh_from_db()
    assert "impact" not in ticket.custom_fields


def test_custom_values_are_found_by_search_and_by_field(people):
    setup = incident_topic(people)
    alice = Actor.for_agent(people.alice)

    def opened(**values):
        return ticket_create(
            actor=alice,
            subject="Phish",
            department=people.soc,
            help_topic=setup.topic.pk,
            custom_fields=values,
        ).number

    first = opened(host_ip="10.9.8.7", impact="High", systems=["vpn", "mail"])
    second = opened(host_ip="10.9.8.70", impact="Low", systems=["erp"], confirmed=True)
    assert found(people.alice, "10.9.8.7") == [first]  # the search document holds the values
    assert found(people.alice, "custom.host_ip:10.9.8.70") == [second]
    assert found(people.alice, "custom.impact:high") == [first]
    assert found(people.alice, "custom.systems:vpn") == [first]
    assert found(people.alice, "custom.systems:erp custom.confirmed:true") == [second]
    assert found(people.alice, "-custom.impact:high") == [second]
    assert found(people.carol, "custom.impact:high") == []  # still only what one may see
    changed = Ticket.objects.get(number=second)
    ticket_set_custom_fields(actor=alice, ticket=changed, values={"impact": "High"})
    assert found(people.alice, "custom.impact:high") == sorted([first, second])


def test_moving_a_ticket_to_another_topic_is_audited_and_needs_edit(people):
    setup = incident_topic(people)
    other = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Other"))
    ticket = topic_ticket(people, setup.topic, host_ip="10.0.0.1")
    with pytest.raises(NotFound):
        ticket_set_help_topic(actor=Actor.for_agent(people.carol), ticket=ticket, topic=other)
    with pytest.raises(ServiceError, match="already on that help topic"):
        ticket_set_help_topic(actor=Actor.for_agent(people.bob), ticket=ticket, topic=setup.topic)
    assert TicketTopic.objects.get(ticket=ticket).topic == setup.topic
    ticket_set_help_topic(actor=Actor.for_agent(people.bob), ticket=ticket, topic=other)
    assert TicketTopic.objects.get(ticket=ticket).topic == other
    event = AuditEvent.objects.get(action="ticket.help_topic_changed")
    assert event.before == {"help_topic": setup.topic.pk} and event.after["help_topic"] == other.pk
    assert describe_event(event) == "changed the help topic"
