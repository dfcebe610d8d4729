"""The admin area's SLA plan, schedule and help topic pages: created and edited through the audited routing
services, each refusal shown next to what it names with nothing saved, deletes refused while in use, and
lists that take a fixed number of queries."""

from __future__ import annotations

from datetime import date

from socdesk.accounts.services import team_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing.models import EscalationLevel, HelpTopic, Schedule, SLAPlan
from socdesk.routing.services.sla import PlanDefinition, ScheduleDefinition, schedule_create, sla_plan_create
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from tests.console_helpers import client_for

SETUP = Actor.system("test-setup")


def office(name: str = "Office") -> Schedule:
    return schedule_create(
        actor=SETUP,
        definition=ScheduleDefinition(name=name, time_zone="Europe/Paris", hours={"mon": ["09:00-17:00"]}),
    )


def plan(name: str = "P1", schedule: Schedule | None = None) -> SLAPlan:
    return sla_plan_create(
        actor=SETUP,
        definition=PlanDefinition(name=name, schedule=schedule or office(), targets={"high": (30, 240)}),
    )


def plan_form(schedule: Schedule, **changes) -> dict:
    data = {
        "name": "Incident P1",
        "schedule": schedule.pk,
        "at_risk_share": "0.8",
        "response_critical": "15",
        "resolution_critical": "120",
        "response_high": "30",
        "resolution_high": "240",
        "esc-TOTAL_FORMS": "2",
        "esc-INITIAL_FORMS": "0",
        "esc-0-trigger": "at_risk",
        "esc-0-target": "resolution",
        "esc-0-notify": "assignee",
        "esc-1-trigger": "",
        "esc-1-target": "resolution",
        "esc-1-notify": "assignee",
    }
    return {**data, **changes}


# --- schedules -----------------------------------------------------------------------------------------


def test_a_schedule_is_created_with_hours_and_holidays(people):
    form = {
        "name": "Paris office",
        "time_zone": "Europe/Paris",
        "mon": "09:00-12:00, 13:00-17:00",
        "fri": "09:00-16:00",
        "holidays": "2026-12-25 Christmas\n2027-01-01 New year",
    }
    response = client_for(people.admin).post("/admin-area/schedules/new", form)
    assert response.status_code == 302
    schedule = Schedule.objects.get(name="Paris office")
    assert [(h.weekday, h.start, h.end) for h in schedule.working_hours.all()] == [
        (0, "09:00", "12:00"),
        (0, "13:00", "17:00"),
        (4, "09:00", "16:00"),
    ]
    assert dict(schedule.holidays.values_list("date", "name")) == {
        date(2026, 12, 25): "Christmas",
        date(2027, 1, 1): "New year",
    }
    assert AuditEvent.objects.filter(action="schedule.created", target_id=str(schedule.pk)).exists()
    page = client_for(people.admin).get("/admin-area/schedules").content.decode()
    assert "Mon 09:00-12:00, Mon 13:00-17:00, Fri 09:00-16:00" in page


def test_overlapping_intervals_are_refused_next_to_their_weekday(people):
    before = AuditEvent.objects.count()
    form = {"name": "Bad", "time_zone": "UTC", "tue": "09:00-13:00, 12:00-17:00"}
    response = client_for(people.admin).post("/admin-area/schedules/new", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert "The tue intervals overlap or are out of order at 12:00" in page
    tuesday = page.split('for="id_tue"')[1].split("</div>")[0]
    assert "overlap" in tuesday
    assert not Schedule.objects.exists() and AuditEvent.objects.count() == before


def test_a_holiday_that_is_not_a_date_is_refused(people):
    form = {"name": "Bad", "time_zone": "UTC", "mon": "09:00-17:00", "holidays": "25/12 Christmas"}
    response = client_for(people.admin).post("/admin-area/schedules/new", form)
    assert response.status_code == 400
    assert "Line 1: &#x27;25/12&#x27; is not a date; write it YYYY-MM-DD" in response.content.decode()
    assert not Schedule.objects.exists()


def test_a_schedule_in_use_is_not_deleted(people):
    used = plan().schedule
    response = client_for(people.admin).post(f"/admin-area/schedules/{used.pk}/delete", follow=True)
    assert "is used by the SLA plan(s) P1; give them another schedule first." in response.content.decode()
    assert Schedule.objects.filter(pk=used.pk).exists()
    spare = office("Spare")
    assert client_for(people.admin).post(f"/admin-area/schedules/{spare.pk}/delete").status_code == 302
    assert not Schedule.objects.filter(pk=spare.pk).exists()


def test_a_schedule_is_edited_to_24_7(people):
    schedule = office()
    form = {"name": "Always", "time_zone": "UTC", "always": "on"}
    assert client_for(people.admin).post(f"/admin-area/schedules/{schedule.pk}", form).status_code == 302
    schedule.refresh_from_db()
    assert schedule.always and schedule.name == "Always" and not schedule.working_hours.exists()


# --- SLA plans -------------------------------------------------------------------------------------------


def test_an_sla_plan_is_created_with_targets_and_escalation(people):
    schedule = office()
    response = client_for(people.admin).post(
        "/admin-area/sla-plans/new",
        plan_form(schedule, is_default="on", **{"esc-0-reassign_team": people.tier1.pk}),
    )
    assert response.status_code == 302
    created = SLAPlan.objects.get(name="Incident P1")
    assert created.is_default and created.at_risk_share == 0.8
    assert {t.severity: (t.response_minutes, t.resolution_minutes) for t in created.targets.all()} == {
        "critical": (15, 120),
        "high": (30, 240),
    }
    assert list(
        EscalationLevel.objects.filter(plan=created).values_list("level", "trigger", "reassign_team")
    ) == [(1, "at_risk", people.tier1.pk)]
    assert AuditEvent.objects.filter(action="sla_plan.created", target_id=str(created.pk)).exists()
    page = client_for(people.admin).get(f"/admin-area/sla-plans/{created.pk}").content.decode()
    assert 'name="response_critical" value="15"' in page


def test_a_response_longer_than_resolution_is_refused(people):
    schedule = office()
    before = AuditEvent.objects.count()
    response = client_for(people.admin).post(
        "/admin-area/sla-plans/new", plan_form(schedule, response_high="300", resolution_high="240")
    )
    assert response.status_code == 400
    assert "the response target must be at least 1 minute and no longer than the resolution target" in (
        response.content.decode()
    )
    assert not SLAPlan.objects.exists() and AuditEvent.objects.count() == before


def test_half_a_target_is_refused_by_the_form(people):
    response = client_for(people.admin).post(
        "/admin-area/sla-plans/new", plan_form(office(), resolution_high="")
    )
    assert response.status_code == 400
    assert "high: give both the response and the resolution target." in response.content.decode()
    assert not SLAPlan.objects.exists()


def test_an_escalation_to_a_deleted_team_is_refused(people):
    schedule = office()
    gone = team_create(actor=SETUP, name="Night", department=people.soc)
    gone_id = gone.pk
    form = plan_form(schedule, **{"esc-0-reassign_team": gone_id, "esc-0-notify": ""})
    gone.delete()
    response = client_for(people.admin).post("/admin-area/sla-plans/new", form)
    assert response.status_code == 400
    assert "Level 1, reassign team: Select a valid choice." in response.content.decode()
    assert not SLAPlan.objects.exists()


def test_a_plan_used_by_a_topic_is_not_deleted(people):
    used = plan()
    help_topic_create(actor=SETUP, definition=TopicDefinition(name="Malware", sla_plan=used))
    response = client_for(people.admin).post(f"/admin-area/sla-plans/{used.pk}/delete", follow=True)
    assert "SLA plan &#x27;P1&#x27; is used by help topic &#x27;Malware&#x27;; change them first." in (
        response.content.decode()
    )
    assert SLAPlan.objects.filter(pk=used.pk).exists()


# --- help topics ---------------------------------------------------------------------------------------


def test_help_topics_are_listed_as_a_tree(people):
    security = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Security"))
    help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing", parent=security))
    help_topic_create(actor=SETUP, definition=TopicDefinition(name="Access"))
    page = client_for(people.admin).get("/admin-area/help-topics").content.decode()
    assert page.index(">Access<") < page.index(">Security<") < page.index("\u203a") < page.index(">Phishing<")


def test_a_help_topic_is_created_with_its_defaults(people):
    form = {
        "name": "Phishing",
        "department": people.soc.pk,
        "team": people.tier1.pk,
        "severity": "high",
        "portal_visible": "on",
    }
    assert client_for(people.admin).post("/admin-area/help-topics/new", form).status_code == 302
    topic = HelpTopic.objects.get(name="Phishing")
    assert (topic.department, topic.team, topic.severity, topic.portal_visible, topic.auto_response) == (
        people.soc,
        people.tier1,
        "high",
        True,
        False,
    )
    assert AuditEvent.objects.filter(action="help_topic.created", target_id=str(topic.pk)).exists()


def test_a_team_of_another_department_is_refused_next_to_the_team(people):
    before = AuditEvent.objects.count()
    form = {"name": "Printers", "department": people.it.pk, "team": people.tier1.pk}
    response = client_for(people.admin).post("/admin-area/help-topics/new", form)
    assert response.status_code == 400
    page = response.content.decode()
    team_field = page.split('for="id_team"')[1].split("</div>")[0]
    assert "team &#x27;Tier 1&#x27; belongs to another department than &#x27;IT Help Desk&#x27;" in team_field
    assert not HelpTopic.objects.exists() and AuditEvent.objects.count() == before


def test_a_topic_cannot_sit_under_its_own_child(people):
    parent = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Security"))
    child = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing", parent=parent))
    response = client_for(people.admin).post(
        f"/admin-area/help-topics/{parent.pk}", {"name": "Security", "parent": child.pk}
    )
    assert response.status_code == 400
    assert "cannot sit under itself or one of its own sub-topics" in response.content.decode()
    parent.refresh_from_db()
    assert parent.parent_id is None


def test_a_topic_with_sub_topics_is_not_deleted(people):
    parent = help_topic_create(actor=SETUP, definition=TopicDefinition(name="Security"))
    help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing", parent=parent))
    response = client_for(people.admin).post(f"/admin-area/help-topics/{parent.pk}/delete", follow=True)
    assert "has sub-topics (Phishing); move them first." in response.content.decode()
    assert HelpTopic.objects.filter(pk=parent.pk).exists()


def test_the_lists_take_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    schedules = [office(f"S{n}") for n in range(4)]
    plans = [plan(f"P{n}", schedules[n]) for n in range(4)]
    parent = None
    for n in range(6):
        parent = help_topic_create(
            actor=SETUP,
            definition=TopicDefinition(
                name=f"T{n}",
                parent=parent if n % 2 else None,
                sla_plan=plans[n % 4],
                team=people.tier1,
                agent=people.alice,
            ),
        )
    admin = client_for(people.admin)
    for url in ("/admin-area/schedules", "/admin-area/sla-plans", "/admin-area/help-topics"):
        admin.get(url)
        with django_assert_max_num_queries(10):  # 9, and the notification bell's unread count
            assert admin.get(url).status_code == 200, url
