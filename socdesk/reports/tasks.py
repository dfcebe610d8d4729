"""Worker jobs of the reports app: the scheduled SOC reports."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from socdesk.reports.report_sending import schedules_send_due


@db_periodic_task(crontab(minute="7"))
def report_schedules_send() -> int:
    """Every hour: send the scheduled reports whose last whole week or month has not gone out yet (each
    claimed first, so several workers send each once); returns how many were sent."""
    return sum(outcome.status == "sent" for outcome in schedules_send_due())
