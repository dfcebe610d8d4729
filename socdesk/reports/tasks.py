"""Worker jobs of the reports app: the roll-up fold, every 10 seconds and soon after writes; the
scheduled SOC reports, every hour."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from socdesk.reports.fold import fold
from socdesk.reports.report_sending import schedules_send_due
from socdesk.reports.retention import alert_minutes_prune

# Huey's periodic schedule is per minute: the job folds at the minute and queues five more folds.
FOLD_EVERY_SECONDS = 10


@db_task()
def fold_task() -> int:
    """Fold the journal (any number of workers may run it at once; see socdesk.reports.fold)."""
    return fold().tickets


@db_periodic_task(crontab(minute="*"))
def fold_periodic() -> int:
    """Every minute: fold now and every FOLD_EVERY_SECONDS until the next minute; prune old alert counts."""
    for step in range(1, 60 // FOLD_EVERY_SECONDS):
        fold_task.schedule(delay=step * FOLD_EVERY_SECONDS)
    alert_minutes_prune()
    return fold().tickets


@db_periodic_task(crontab(minute="7"))
def report_schedules_send() -> int:
    """Every hour: send the scheduled reports whose last whole week or month has not gone out yet (each
    claimed first, so several workers send each once); returns how many were sent."""
    return sum(outcome.status == "sent" for outcome in schedules_send_due())
