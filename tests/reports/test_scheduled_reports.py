"""Scheduled SOC reports: validated and audited changes, and the e-mail (HTML with the PDF attached)
reaching a real SMTP server once per period, however many workers race for it."""

from __future__ import annotations

import subprocess
import threading
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from django.db import connection
from django.utils import timezone

from socdesk.accounts.testing import make_personas
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.reports.models import ReportSchedule
from socdesk.reports.report_sending import schedules_send_due
from socdesk.reports.schedules import ScheduleDefinition, schedule_create, schedule_delete, schedule_update
from socdesk.reports.tasks import report_schedules_send
from tests.core.processes import free_port
from tests.reports.builders import worked_tickets
from tests.reports.test_report_pdf import need_poppler

ADMIN = Actor.system("test-admin")


def next_monday() -> date:
    """The day a weekly schedule sends the week holding today (whose tickets the tests make)."""
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday())


def received(inbox):
    return [(rcpt, message_from_bytes(raw, policy=policy.default)) for rcpt, raw in inbox.messages]


def weekly(people, **changes) -> ReportSchedule:
    values = {
        "name": "soc-weekly",
        "department": people.soc,
        "recipients": ["Manager@Example.test", "ciso@example.test"],
    }
    return schedule_create(actor=ADMIN, definition=ScheduleDefinition(**(values | changes)))


# --- the services -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_update_delete_are_audited(people):
    schedule = weekly(people, team=people.tier1)
    assert schedule.recipients == ["manager@example.test", "ciso@example.test"]
    schedule_update(
        actor=ADMIN,
        schedule=schedule,
        definition=ScheduleDefinition(
            name="soc-monthly", department=people.soc, recipients=["a@example.test"], frequency="monthly"
        ),
    )
    schedule_delete(actor=ADMIN, schedule=ReportSchedule.objects.get())
    actions = list(
        AuditEvent.objects.filter(target_type="reportschedule")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["report_schedule.created", "report_schedule.updated", "report_schedule.deleted"]
    updated = AuditEvent.objects.get(action="report_schedule.updated")
    assert updated.before["frequency"] == "weekly" and updated.after["frequency"] == "monthly"


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"name": "SOC Weekly!"}, "name", "is not usable"),
        ({"department": None}, "department", "Choose the department"),
        ({"recipients": []}, "recipients", "at least one address"),
        (
            {"recipients": ["ok@example.test", "not-an-address"]},
            "recipients",
            "'not-an-address' is not an e-mail",
        ),
        ({"recipients": [f"r{n}@example.test" for n in range(51)]}, "recipients", "At most 50"),
        ({"frequency": "daily"}, "frequency", "Unknown frequency 'daily'"),
    ],
)
@pytest.mark.django_db
def test_bad_settings_are_refused_and_nothing_is_written(people, changes, field, says):
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError, match=says) as refused:
        weekly(people, **changes)
    assert field in refused.value.fields
    assert ReportSchedule.objects.count() == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_team_must_be_the_departments_and_names_are_unique(people):
    with pytest.raises(ServiceError, match="Tier 1 is not in IT Help Desk"):
        weekly(people, department=people.it, team=people.tier1)
    weekly(people)
    with pytest.raises(ServiceError, match="already exists"):
        weekly(people, recipients=["other@example.test"])
    assert ReportSchedule.objects.count() == 1


# --- sending ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_report_arrives_with_its_pdf_once_per_period(people, smtp, tmp_path):
    need_poppler()
    worked_tickets(people)
    schedule = weekly(people)
    monday = next_monday()

    (outcome,) = schedules_send_due(monday)
    assert outcome.status == "sent", outcome.error

    ((rcpt, message),) = received(smtp)
    assert sorted(rcpt) == ["ciso@example.test", "manager@example.test"]
    assert message["From"] == "soc@example.test"  # the department's address
    assert message["Subject"].startswith("SOC report SOC Week ")
    html = message.get_body(("html",)).get_content()
    assert "Tickets opened" in html and ">3<" in html  # SOC's three, not IT's two
    assert "Tickets resolved" in html and ">1<" in html
    assert "100.0 %" in html  # the one resolved ticket was a false positive
    assert "<svg" not in html  # mail clients strip SVG: the bars are tables
    plain = message.get_body(("plain",)).get_content()
    assert "Tickets opened: 3" in plain
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    pdf = tmp_path / attachment.get_filename()
    pdf.write_bytes(attachment.get_content())
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "SOC report: SOC" in text and "Tickets opened" in text

    schedule.refresh_from_db()
    assert schedule.last_period_end == monday - timedelta(days=1)
    assert schedule.sending_since is None and schedule.last_error == ""
    sent = AuditEvent.objects.get(action="report.sent")
    assert sent.actor_label == "report-schedule"
    assert sent.after["to"] == ["manager@example.test", "ciso@example.test"]

    # The same period again (a second worker run that day, or the next hour): nothing is sent.
    assert schedules_send_due(monday) == []
    assert schedules_send_due(monday + timedelta(days=3)) == []
    assert len(smtp.messages) == 1
    # The next week is due again.
    assert [o.status for o in schedules_send_due(monday + timedelta(days=7))] == ["sent"]
    assert len(smtp.messages) == 2


@pytest.mark.django_db
def test_disabled_schedules_are_not_sent(people, smtp):
    weekly(people, enabled=False)
    assert schedules_send_due(next_monday()) == []
    assert smtp.messages == []


@pytest.mark.django_db
def test_a_refused_send_is_kept_audited_and_retried(people, settings, smtp):
    schedule = weekly(people)
    smtp_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    (outcome,) = schedules_send_due(next_monday())
    assert outcome.status == "failed" and "refused the connection" in outcome.error
    schedule.refresh_from_db()
    assert schedule.last_period_end is None and schedule.sending_since is None
    assert "refused the connection" in schedule.last_error
    assert AuditEvent.objects.filter(action="report.send_failed").count() == 1

    settings.EMAIL_PORT = smtp_port  # the mail server is back: the next run sends it
    (outcome,) = schedules_send_due(next_monday())
    assert outcome.status == "sent"
    schedule.refresh_from_db()
    assert schedule.last_error == "" and len(smtp.messages) == 1


@pytest.mark.django_db
def test_the_worker_task_sends_what_is_due(people, smtp):
    weekly(people)
    assert report_schedules_send.call_local() == 1
    assert report_schedules_send.call_local() == 0
    assert len(smtp.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_racing_workers_send_each_period_once(smtp):
    people = make_personas()
    weekly(people)
    monday = next_monday()
    outcomes, errors, barrier = [], [], threading.Barrier(4)

    def worker():
        try:
            barrier.wait(timeout=10)
            outcomes.extend(o.status for o in schedules_send_due(monday))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert outcomes.count("sent") == 1
    assert len(smtp.messages) == 1
    assert AuditEvent.objects.filter(action="report.sent").count() == 1
