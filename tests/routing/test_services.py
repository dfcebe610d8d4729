"""Routing services: bad filters, schedules, plans and topics are refused with nothing written; audited."""

from __future__ import annotations

from datetime import date

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.routing.models import (
    EscalationLevel,
    FilterRule,
    HelpTopic,
    Holiday,
    RulesetVersion,
    Schedule,
    SLAPlan,
    SLATarget,
    WorkingHours,
)
from socdesk.routing.services.filters import FilterDefinition, filter_create, filter_delete, filter_update
from socdesk.routing.services.sla import (
    EscalationDefinition,
    PlanDefinition,
    ScheduleDefinition,
    schedule_create,
    schedule_delete,
    schedule_update,
    sla_plan_create,
    sla_plan_delete,
    sla_plan_update,
)
from socdesk.routing.services.topics import (
    TopicDefinition,
    help_topic_create,
    help_topic_delete,
    help_topic_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(people):
    return Actor.for_agent(people.admin, ip="10.0.0.9")


def wazuh_filter(people, **overrides) -> FilterDefinition:
    values = {
        "name": "Wazuh critical from servers",
        "channel": "alert",
        "conditions": [
            {"field": "alert.raw.rule.level", "operator": "greater_than", "value": 11},
            {"field": "observable.ip", "operator": "in_cidr", "value": ["10.20.0.0/16"]},
        ],
        "actions": [
            {"type": "set_team", "value": people.tier1.pk},
            {"type": "set_severity", "value": "critical"},
        ],
    }
    return FilterDefinition(**{**values, **overrides})


def test_filter_create_stores_the_definition_bumps_the_version_and_audits(people, actor):
    rule = filter_create(actor=actor, definition=wazuh_filter(people))
    assert rule.conditions[1] == {"field": "observable.ip", "operator": "in_cidr", "value": ["10.20.0.0/16"]}
    assert rule.channel == "alert" and rule.enabled
    assert RulesetVersion.objects.get(pk=1).version == 1
    event = AuditEvent.objects.get(action="ticket_filter.created")
    assert event.target_id == str(rule.pk) and event.after["actions"][0]["type"] == "set_team"
    assert event.actor_label == "admin"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"conditions": [{"field": "subject", "operator": "matches", "value": "(unclosed"}]},
            "Filter 'Wazuh critical from servers', condition 1 (subject matches): has a regular expression "
            "that does not compile",
        ),
        (
            {"conditions": [{"field": "colour", "operator": "equals", "value": "red"}]},
            "condition 1 (colour equals): uses an unknown field 'colour'",
        ),
        (
            {"conditions": [{"field": "subject", "operator": "like", "value": "x"}]},
            "condition 1 (subject like): uses an unknown operator 'like'",
        ),
        ({"conditions": [{"value": "x"}]}, "condition 1: give its field, operator and value"),
        (
            {"actions": [{"type": "set_team", "value": 99999}]},
            "action 1 (set_team): there is no team with id 99999",
        ),
        (
            {"actions": [{"type": "add_tags", "value": "x"}, {"type": "set_department", "value": 99999}]},
            "action 2 (set_department): there is no department with id 99999",
        ),
        ({"actions": [{"type": "set_agent", "value": 99999}]}, "there is no agent with id 99999"),
        ({"actions": [{"type": "set_sla_plan", "value": 99999}]}, "there is no SLA plan with id 99999"),
        ({"actions": [{"type": "set_help_topic", "value": 99999}]}, "there is no help topic with id 99999"),
        ({"actions": [{"type": "explode"}]}, "action 1 has an unknown type 'explode'"),
        ({"name": "  "}, "A ticket filter needs a name."),
        ({"channel": "fax"}, "unknown channel 'fax'"),
    ],
)
def test_filter_create_refuses_invalid_definitions_and_writes_nothing(people, actor, overrides, message):
    with pytest.raises(ServiceError) as caught:
        filter_create(actor=actor, definition=wazuh_filter(people, **overrides))
    assert message in caught.value.message
    assert not FilterRule.objects.exists()
    assert not RulesetVersion.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="ticket_filter.").exists()


def test_filter_names_are_unique_ignoring_case(people, actor):
    filter_create(actor=actor, definition=wazuh_filter(people))
    with pytest.raises(ServiceError, match="already exists"):
        filter_create(actor=actor, definition=wazuh_filter(people, name="WAZUH critical from servers"))


def test_filter_update_validates_records_before_and_after_and_delete(people, actor):
    rule = filter_create(actor=actor, definition=wazuh_filter(people))
    with pytest.raises(ServiceError, match="there is no team"):
        filter_update(
            actor=actor,
            rule=rule,
            definition=wazuh_filter(people, actions=[{"type": "set_team", "value": 99999}]),
        )
    rule.refresh_from_db()
    assert rule.actions[0]["value"] == people.tier1.pk
    updated = filter_update(actor=actor, rule=rule, definition=wazuh_filter(people, enabled=False, order=5))
    assert (updated.enabled, updated.order) == (False, 5)
    event = AuditEvent.objects.get(action="ticket_filter.updated")
    assert event.before["enabled"] is True and event.after["enabled"] is False
    filter_delete(actor=actor, rule=updated)
    assert not FilterRule.objects.exists()
    assert AuditEvent.objects.filter(action="ticket_filter.deleted").count() == 1
    assert RulesetVersion.objects.get(pk=1).version == 3


OFFICE_HOURS = {day: ["09:00-12:00", "13:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def office(name="Paris office") -> ScheduleDefinition:
    return ScheduleDefinition(
        name=name, time_zone="Europe/Paris", hours=OFFICE_HOURS, holidays={date(2026, 12, 25): "Christmas"}
    )


def test_schedule_create_update_and_delete(actor):
    schedule = schedule_create(actor=actor, definition=office())
    assert WorkingHours.objects.filter(schedule=schedule).count() == 10
    assert Holiday.objects.get(schedule=schedule).name == "Christmas"
    assert AuditEvent.objects.get(action="schedule.created").after["hours"][0] == [0, "09:00", "12:00"]
    schedule_update(actor=actor, schedule=schedule, definition=ScheduleDefinition(name="Always", always=True))
    schedule.refresh_from_db()
    assert schedule.always and not schedule.working_hours.exists() and not schedule.holidays.exists()
    schedule_delete(actor=actor, schedule=schedule)
    assert not Schedule.objects.exists()


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (ScheduleDefinition(name="x", time_zone="Mars/Olympus", hours=OFFICE_HOURS), "Unknown time zone"),
        (
            ScheduleDefinition(name="x", hours={"tue": ["09:00-12:00", "11:00-13:00"]}),
            "tue intervals overlap",
        ),
        (ScheduleDefinition(name="x", hours={"mon": ["17:00-09:00"]}), "mon interval 17:00-09:00"),
        (ScheduleDefinition(name="x", hours={}), "at least one working interval"),
        (ScheduleDefinition(name="", always=True), "needs a name"),
    ],
)
def test_schedule_create_refuses_bad_hours_and_writes_nothing(actor, definition, message):
    with pytest.raises(ServiceError) as caught:
        schedule_create(actor=actor, definition=definition)
    assert message in caught.value.message
    assert not Schedule.objects.exists() and not WorkingHours.objects.exists()
    assert not AuditEvent.objects.filter(action="schedule.created").exists()


def plan(schedule, **overrides) -> PlanDefinition:
    values = {
        "name": "P1",
        "schedule": schedule,
        "targets": {"critical": (15, 240), "high": (60, 480)},
        "escalations": [
            EscalationDefinition(trigger="at_risk", notify="assignee"),
            EscalationDefinition(trigger="breached", notify="team_lead"),
            EscalationDefinition(trigger="breached", notify="department_manager", raise_severity=True),
        ],
    }
    return PlanDefinition(**{**values, **overrides})


def test_sla_plan_create_update_default_and_delete(people, actor):
    schedule = schedule_create(actor=actor, definition=office())
    p1 = sla_plan_create(actor=actor, definition=plan(schedule, is_default=True))
    assert SLATarget.objects.get(plan=p1, severity="critical").response_minutes == 15
    assert list(EscalationLevel.objects.filter(plan=p1).values_list("level", "notify")) == [
        (1, "assignee"),
        (2, "team_lead"),
        (3, "department_manager"),
    ]
    p2 = sla_plan_create(actor=actor, definition=plan(schedule, name="P2", is_default=True))
    p1.refresh_from_db()
    assert p2.is_default and not p1.is_default
    sla_plan_update(
        actor=actor, plan=p1, definition=plan(schedule, targets={"low": (60, 60)}, escalations=[])
    )
    assert list(p1.targets.values_list("severity", flat=True)) == ["low"] and not p1.escalations.exists()
    with pytest.raises(ServiceError, match="used by the SLA plan"):
        schedule_delete(actor=actor, schedule=schedule)
    filter_create(
        actor=actor, definition=wazuh_filter(people, actions=[{"type": "set_sla_plan", "value": p1.pk}])
    )
    with pytest.raises(ServiceError, match="used by ticket filter 'Wazuh critical from servers'"):
        sla_plan_delete(actor=actor, plan=p1)
    sla_plan_delete(actor=actor, plan=p2)
    assert list(SLAPlan.objects.values_list("name", flat=True)) == ["P1"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"targets": {}}, "needs a target for at least one severity"),
        ({"targets": {"urgent": (1, 2)}}, "unknown severity 'urgent'"),
        ({"targets": {"high": (60, 30)}}, "high: the response target must be at least 1 minute"),
        ({"at_risk_share": 1.5}, "at-risk share must be more than 0"),
        ({"escalations": [EscalationDefinition(trigger="late")]}, "escalation level 1: trigger must be"),
        (
            {"escalations": [EscalationDefinition(trigger="breached", notify="ceo")]},
            "notify must be one of assignee",
        ),
        ({"escalations": [EscalationDefinition(trigger="breached", notify="")]}, "must notify someone"),
    ],
)
def test_sla_plan_create_refuses_bad_plans_and_writes_nothing(actor, overrides, message):
    schedule = schedule_create(actor=actor, definition=office())
    with pytest.raises(ServiceError) as caught:
        sla_plan_create(actor=actor, definition=plan(schedule, **overrides))
    assert message in caught.value.message
    assert (
        not SLAPlan.objects.exists()
        and not SLATarget.objects.exists()
        and not EscalationLevel.objects.exists()
    )


def test_help_topics(people, actor):
    schedule = schedule_create(actor=actor, definition=office())
    p1 = sla_plan_create(actor=actor, definition=plan(schedule))
    parent = help_topic_create(
        actor=actor,
        definition=TopicDefinition(
            name="Intrusion", department=people.soc, team=people.tier1, agent=people.alice, sla_plan=p1
        ),
    )
    child = help_topic_create(
        actor=actor, definition=TopicDefinition(name="Brute force", parent=parent, severity="high")
    )
    assert AuditEvent.objects.filter(action="help_topic.created").count() == 2
    with pytest.raises(ServiceError, match="cannot sit under itself"):
        help_topic_update(
            actor=actor, topic=parent, definition=TopicDefinition(name="Intrusion", parent=child)
        )
    with pytest.raises(ServiceError, match="already exists there"):
        help_topic_create(actor=actor, definition=TopicDefinition(name="intrusion"))
    with pytest.raises(ServiceError, match="team 'Tier 1' belongs to another department"):
        help_topic_create(
            actor=actor, definition=TopicDefinition(name="Printers", department=people.it, team=people.tier1)
        )
    with pytest.raises(ServiceError, match="has no access to department 'IT Help Desk'"):
        help_topic_create(
            actor=actor, definition=TopicDefinition(name="Printers", department=people.it, agent=people.alice)
        )
    with pytest.raises(ServiceError, match="unknown severity 'urgent'"):
        help_topic_create(actor=actor, definition=TopicDefinition(name="Printers", severity="urgent"))
    assert HelpTopic.objects.count() == 2
    with pytest.raises(ServiceError, match="has sub-topics"):
        help_topic_delete(actor=actor, topic=parent)
    with pytest.raises(ServiceError, match="used by help topic 'Intrusion'"):
        sla_plan_delete(actor=actor, plan=p1)
    filter_create(
        actor=actor, definition=wazuh_filter(people, actions=[{"type": "set_help_topic", "value": child.pk}])
    )
    with pytest.raises(ServiceError, match="used by ticket filter"):
        help_topic_delete(actor=actor, topic=child)
    updated = help_topic_update(
        actor=actor,
        topic=child,
        definition=TopicDefinition(name="Brute force", parent=parent, portal_visible=False),
    )
    assert not updated.portal_visible
    assert AuditEvent.objects.get(action="help_topic.updated").before["portal_visible"] is True


def test_refused_updates_leave_schedules_and_plans_as_they_were(actor):
    schedule = schedule_create(actor=actor, definition=office())
    p1 = sla_plan_create(actor=actor, definition=plan(schedule))
    bad_hours = ScheduleDefinition(name="Paris office", hours={"mon": ["09:00-12:00", "11:00-13:00"]})
    with pytest.raises(ServiceError, match="mon intervals overlap"):
        schedule_update(actor=actor, schedule=schedule, definition=bad_hours)
    with pytest.raises(ServiceError, match="unknown severity"):
        sla_plan_update(actor=actor, plan=p1, definition=plan(schedule, targets={"urgent": (1, 2)}))
    assert WorkingHours.objects.filter(schedule=schedule).count() == 10
    assert set(p1.targets.values_list("severity", flat=True)) == {"critical", "high"}
    assert p1.escalations.count() == 3
    assert not AuditEvent.objects.filter(action__in=["schedule.updated", "sla_plan.updated"]).exists()


def test_admin_shows_routing_configuration_read_only(
    people, actor, admin_client, django_assert_max_num_queries
):
    schedule = schedule_create(actor=actor, definition=office())
    p1 = sla_plan_create(actor=actor, definition=plan(schedule))
    for i in range(5):
        help_topic_create(
            actor=actor, definition=TopicDefinition(name=f"Topic {i}", department=people.soc, sla_plan=p1)
        )
    rule = filter_create(actor=actor, definition=wazuh_filter(people))
    pages = ["schedule", "slaplan", "helptopic", "filterrule"]
    for page in pages:
        with django_assert_max_num_queries(12):  # no query per row
            assert admin_client.get(f"/admin/routing/{page}/").status_code == 200
    assert admin_client.get(f"/admin/routing/schedule/{schedule.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/routing/slaplan/{p1.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/routing/filterrule/{rule.pk}/change/").status_code == 200
    assert admin_client.get("/admin/routing/filterrule/add/").status_code == 403
    response = admin_client.post(f"/admin/routing/filterrule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403 and FilterRule.objects.filter(pk=rule.pk).exists()
