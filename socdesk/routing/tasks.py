"""Background jobs of routing: the SLA scan, every 30 seconds."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from socdesk.routing.services.sla_scan import sla_scan

# Huey's periodic schedule is per minute: the job scans at the minute and queues a second scan 30 s on.
HALF_MINUTE = 30


@db_task()
def sla_scan_task() -> int:
    """One SLA scan; returns the number of escalation levels climbed."""
    return sla_scan().escalations


@db_periodic_task(crontab(minute="*"))
def sla_scan_periodic() -> int:
    """Every minute: scan now and again in 30 seconds (any number of workers may run it; see sla_scan)."""
    sla_scan_task.schedule(delay=HALF_MINUTE)
    return sla_scan().escalations
