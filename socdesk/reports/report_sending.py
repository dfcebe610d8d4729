"""The SOC report e-mailed: HTML (bars drawn as tables) with the PDF attached, sent through the project's
one mail function (`core.mailer.mail_deliver`), audited.

A scheduled report is claimed before it is rendered: a conditional UPDATE takes the schedule only while it
is still due for that period and no other worker holds it (or its holder's lease lapsed), so two workers
never send the same period twice. See docs/soc-report.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from socdesk.accounts.models import Department, Team
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.mailer import mail_deliver, mail_error_text
from socdesk.reports.figures import Period
from socdesk.reports.models import ReportSchedule
from socdesk.reports.periods import last_complete
from socdesk.reports.report_render import RenderedReport, report_render
from socdesk.reports.schedules import schedules_due
from socdesk.reports.scopes import scope_for_department
from socdesk.reports.selectors import period_figures

log = logging.getLogger("socdesk.reports")

SCHEDULER = Actor.system("report-schedule")
# A worker that stopped mid-send frees its schedule after this long (rendering and sending take seconds).
LEASE = timedelta(minutes=15)


def scope_label(department: Department, team: Team | None) -> str:
    """How the report names whose figures it shows: "SOC", or "SOC, team Tier 1"."""
    return f"{department.name}, team {team.name}" if team else department.name


def report_build(period: Period, department: Department, team: Team | None = None) -> RenderedReport:
    """The report of one department (or one of its teams) over `period`, from the dashboard's figures."""
    figures = period_figures(period, scope_for_department(department, team))
    return report_render(figures, scope_label=scope_label(department, team))


def report_mail(report: RenderedReport, *, to: list[str], department: Department) -> None:
    """Send a rendered report: the HTML version, a plain-text one, the PDF attached (OSError on failure)."""
    mail_deliver(
        subject=report.title,
        body=report.text,
        html=report.html,
        to=to,
        from_email=department.email or settings.DEFAULT_FROM_EMAIL,
        attachments=[(report.pdf_filename, report.pdf, "application/pdf")],
    )


def report_email(
    *,
    actor: Actor,
    report: RenderedReport,
    period: Period,
    department: Department,
    team: Team | None,
    to: list[str],
) -> None:
    """E-mail a report built with `report_build` (`socdesk report --email`), audited as report.sent."""
    report_mail(report, to=to, department=department)
    record(
        actor=actor,
        action="report.sent",
        target=department,
        after={"period": [str(period.start), str(period.end)], "team_id": team and team.pk, "to": to},
    )


# --- scheduled reports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    """What became of one due schedule: sent, skipped (another worker had it) or failed (with why)."""

    schedule: str
    status: str
    error: str = ""


def schedule_claim(schedule: ReportSchedule, period: Period, now: datetime | None = None) -> datetime | None:
    """Take the schedule to send `period` (a conditional UPDATE: still due for it, and free or its
    holder's lease lapsed). Returns the claim's stamp, or None when it is not ours to send."""
    now = now or timezone.now()
    taken = (
        ReportSchedule.objects.filter(pk=schedule.pk, enabled=True)
        .filter(Q(last_period_end__isnull=True) | Q(last_period_end__lt=period.end))
        .filter(Q(sending_since__isnull=True) | Q(sending_since__lt=now - LEASE))
        .update(sending_since=now)
    )
    return now if taken else None


def schedule_send(schedule: ReportSchedule, today: date) -> SendOutcome:
    """Send the schedule's last whole week or month if it is still due and no one else is sending it."""
    period = last_complete(schedule.frequency, today)
    stamp = schedule_claim(schedule, period)
    if stamp is None:
        return SendOutcome(schedule.name, "skipped")
    schedule = ReportSchedule.objects.select_related("department", "team").get(pk=schedule.pk)
    after = {"period": [str(period.start), str(period.end)], "to": list(schedule.recipients)}
    try:
        report = report_build(period, schedule.department, schedule.team)
        report_mail(report, to=list(schedule.recipients), department=schedule.department)
    except Exception as exc:  # a broken report or mail server must not stop the others; kept on it
        error = mail_error_text(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"[:500]
        log.warning("scheduled report %s not sent: %s", schedule.name, error)
        with transaction.atomic():
            ReportSchedule.objects.filter(pk=schedule.pk, sending_since=stamp).update(
                sending_since=None, last_error=error
            )
            record(
                actor=SCHEDULER, action="report.send_failed", target=schedule, after=after | {"error": error}
            )
        return SendOutcome(schedule.name, "failed", error)
    with transaction.atomic():
        # Conditional on our stamp: a send that outlived its lease leaves the record to the new holder.
        ReportSchedule.objects.filter(pk=schedule.pk, sending_since=stamp).update(
            sending_since=None, last_period_end=period.end, last_sent_at=timezone.now(), last_error=""
        )
        record(actor=SCHEDULER, action="report.sent", target=schedule, after=after)
    return SendOutcome(schedule.name, "sent")


def schedules_send_due(today: date | None = None) -> list[SendOutcome]:
    """Send every schedule due today (the worker's periodic task and `socdesk report schedules run`)."""
    today = today or timezone.localdate()
    return [schedule_send(schedule, today) for schedule in schedules_due(today)]
