"""A configuration with one of everything, built through the services, for the configuration-as-code tests."""

from __future__ import annotations

from datetime import date

from socdesk.accounts.models import Department, DepartmentAccess, Role, Team
from socdesk.accounts.services import department_set_autoclose, department_set_retention, team_create
from socdesk.accounts.structure import role_update
from socdesk.accounts.testing import Personas
from socdesk.alerts.integrations import integration_create
from socdesk.alerts.models import Integration
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing.models import (
    AssignmentPolicy,
    CustomField,
    CustomForm,
    DepartmentSLA,
    FilterRule,
    HelpTopic,
    Holiday,
    Schedule,
    SLAPlan,
)
from socdesk.routing.services.assignment import assignment_policy_set
from socdesk.routing.services.filters import FilterDefinition, filter_create
from socdesk.routing.services.forms import FieldDefinition, custom_field_create, custom_form_create
from socdesk.routing.services.sla import (
    EscalationDefinition,
    PlanDefinition,
    ScheduleDefinition,
    schedule_create,
    sla_plan_create,
)
from socdesk.routing.services.sla_clocks import department_sla_set
from socdesk.routing.services.topics import TopicDefinition, help_topic_create

SETUP = Actor.system("test-setup")


def build_configuration(people: Personas) -> None:
    """Departments (with auto-close, auto-assignment and SLA settings), roles, teams, a schedule, two SLA
    plans, a custom form, nested help topics (one with the form), an integration, filters (one on events,
    with a webhook secret)."""
    department_set_retention(actor=SETUP, department=people.soc, raw_payload_days=30, closed_ticket_days=None)
    department_set_autoclose(actor=SETUP, department=people.soc, days=7)
    assignment_policy_set(actor=SETUP, department=people.soc, mode="round_robin")
    role_update(
        actor=SETUP,
        role=people.analyst,
        name="Analyst",
        permissions=people.analyst.permissions,
        requires_two_factor=True,
    )
    ir = team_create(actor=SETUP, name="Incident Response", department=people.soc, lead=people.bob)
    assignment_policy_set(actor=SETUP, team=ir, mode="fewest_open")
    office = schedule_create(
        actor=SETUP,
        definition=ScheduleDefinition(
            name="Paris office",
            time_zone="Europe/Paris",
            hours={"mon": ["13:00-17:00", "09:00-12:00"], "fri": ["09:00-16:00"]},
            holidays={date(2026, 12, 25): "Christmas Day", date(2026, 5, 1): "Labour Day"},
        ),
    )
    always = schedule_create(actor=SETUP, definition=ScheduleDefinition(name="24/7", always=True))
    p1 = sla_plan_create(
        actor=SETUP,
        definition=PlanDefinition(
            name="P1",
            schedule=always,
            targets={"critical": (15, 240), "high": (60, 480)},
            at_risk_share=0.5,
            is_default=True,
            escalations=[
                EscalationDefinition(trigger="at_risk", target="response", notify="assignee"),
                EscalationDefinition(trigger="breached", notify="team_lead", reassign_team=ir),
                EscalationDefinition(trigger="breached", notify="", raise_severity=True),
            ],
        ),
    )
    business = sla_plan_create(
        actor=SETUP,
        definition=PlanDefinition(name="Business hours", schedule=office, targets={"low": (480, 2400)}),
    )
    department_sla_set(actor=SETUP, department=people.soc, plan=p1, manager=people.bob)
    department_sla_set(actor=SETUP, department=people.it, plan=business)
    report = custom_form_create(actor=SETUP, name="Phishing report", description="What the user received.")
    # Created out of display order: the file lists fields in the order the form shows them.
    custom_field_create(
        actor=SETUP,
        form=report,
        definition=FieldDefinition(
            name="verdict", label="Verdict", type="choice", choices=["Malicious", "Benign"], order=2
        ),
    )
    custom_field_create(
        actor=SETUP,
        form=report,
        definition=FieldDefinition(
            name="sender",
            label="Sender address",
            type="email",
            help_text="As shown in the headers.",
            user_required=True,
            agent_visible=True,
            order=1,
        ),
    )
    custom_form_create(actor=SETUP, name="Empty form")
    security = help_topic_create(
        actor=SETUP,
        definition=TopicDefinition(
            name="Security", department=people.soc, team=people.tier1, sla_plan=p1, form=report
        ),
    )
    phishing = help_topic_create(
        actor=SETUP,
        definition=TopicDefinition(
            name="Phishing", parent=security, severity="high", agent=people.admin, auto_response=False
        ),
    )
    help_topic_create(
        actor=SETUP,
        definition=TopicDefinition(name="Access requests", department=people.it, portal_visible=False),
    )
    wazuh = integration_create(
        actor=SETUP,
        adapter="wazuh",
        name="Wazuh prod",
        department=people.soc,
        team=ir,
        default_tags=["wazuh", "edr"],
        severity_map={"12": "critical", "10": "high"},
    )
    integration_create(
        actor=SETUP, adapter="grafana", name="Grafana", hmac_secret="do-not-export-me", enabled=False
    )
    filter_create(
        actor=SETUP,
        definition=FilterDefinition(
            name="Wazuh critical from servers",
            order=10,
            channel="alert",
            channel_id=wazuh.pk,
            conditions=[
                {"field": "alert.raw.rule.level", "operator": "greater_than", "value": 11},
                {"field": "observable.ip", "operator": "in_cidr", "value": "10.20.0.0/16"},
            ],
            actions=[
                {"type": "set_team", "value": ir.pk},
                {"type": "set_severity", "value": "critical"},
                {"type": "set_sla_plan", "value": p1.pk},
                {"type": "stop"},
            ],
        ),
    )
    filter_create(
        actor=SETUP,
        definition=FilterDefinition(
            name="Phishing reports",
            order=20,
            match_all=False,
            time_zone="Europe/Paris",
            conditions=[
                {"field": "subject", "operator": "matches", "value": r"phish(ing)?\b"},
                {"field": "tags", "operator": "in_list", "value": ["phishing", "spam"]},
            ],
            actions=[
                {"type": "set_help_topic", "value": phishing.pk},
                {"type": "set_agent", "value": people.alice.pk},
                {"type": "set_department", "value": people.soc.pk},
                {"type": "add_tags", "value": ["phishing"]},
                {"type": "add_note", "value": "Check the headers first."},
            ],
        ),
    )
    filter_create(
        actor=SETUP,
        definition=FilterDefinition(
            name="Repeated alerts to SOAR",
            order=30,
            conditions=[{"field": "severity", "operator": "equals", "value": "critical"}],
            actions=[{"type": "webhook", "value": "https://soar.example.test/hook"}],
            on_events=["reopened", "alert_repeated"],
            webhook_secret="never-export-this-secret",
        ),
    )


def wipe_configuration() -> None:
    """Leave only the logins and agents, as on a fresh installation that has its people but no set-up."""
    FilterRule.objects.all().delete()
    Integration.objects.all().delete()
    for topic in HelpTopic.objects.filter(parent__isnull=False):
        topic.delete()
    HelpTopic.objects.all().delete()
    CustomForm.objects.all().delete()
    DepartmentSLA.objects.all().delete()
    SLAPlan.objects.all().delete()
    Schedule.objects.all().delete()
    Team.objects.all().delete()
    DepartmentAccess.objects.all().delete()
    Role.objects.all().delete()
    Department.objects.all().delete()


def state() -> dict[str, object]:
    """Enough of the database to see that a refused or dry-run apply wrote nothing."""
    return {
        "audit": AuditEvent.objects.count(),
        "departments": sorted(
            Department.objects.values_list(
                "name", "email", "raw_payload_retention_days", "autoclose_resolved_days"
            )
        ),
        "policies": sorted(
            AssignmentPolicy.objects.values_list("department__name", "team__name", "mode", "last_agent_id"),
            key=str,  # one of department and team is None
        ),
        "roles": sorted(Role.objects.values_list("name", "requires_two_factor")),
        "teams": sorted(Team.objects.values_list("name", "department__name", "lead__user__username")),
        "members": sorted(Team.members.through.objects.values_list("team__name", "agent__user__username")),
        "schedules": sorted(Schedule.objects.values_list("name", "time_zone")),
        "plans": sorted(
            SLAPlan.objects.values_list(
                "name", "is_default", "targets__severity", "targets__response_minutes"
            )
        ),
        "holidays": sorted(Holiday.objects.values_list("schedule__name", "date")),
        "topics": sorted(HelpTopic.objects.values_list("name", "severity")),
        "integrations": sorted(Integration.objects.values_list("name", "enabled", "default_severity")),
        "filters": sorted(
            FilterRule.objects.values_list("name", "order", "enabled", "on_events", "webhook_secret")
        ),
        "department_sla": sorted(
            DepartmentSLA.objects.values_list("department__name", "plan__name", "manager__user__username")
        ),
        "forms": sorted(CustomForm.objects.values_list("name", "description")),
        "fields": sorted(CustomField.objects.values_list("form__name", "name", "label", "type", "order")),
        "topic_forms": sorted(HelpTopic.objects.values_list("name", "form__name"), key=str),
    }
