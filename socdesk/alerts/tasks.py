"""Periodic work around the alert pipeline (the ingest itself is the worker's loop: alerts/ingest/loop.py)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from socdesk.alerts.ingest import deliveries_sweep


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries_task() -> int:
    """Every minute, a safety net: process deliveries still pending after SOCDESK_DELIVERY_SWEEP_AFTER."""
    return deliveries_sweep()


@db_periodic_task(crontab(minute="*/10"))
def retention_task() -> int:
    """Every ten minutes, one retention pass: a bounded batch per department and of the audit trail."""
    from socdesk.alerts.retention import retention_run

    report = retention_run()
    return sum(d.raw_payloads + d.deliveries + d.tickets for d in report.departments) + (
        report.audit.events if report.audit else 0
    )
