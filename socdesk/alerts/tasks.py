"""Periodic work around the alert pipeline (the ingest itself is the worker's loop: alerts/ingest/loop.py)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from socdesk.alerts.ingest import deliveries_sweep


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries_task() -> int:
    """Every minute, a safety net: process deliveries still pending after SOCDESK_DELIVERY_SWEEP_AFTER."""
    return deliveries_sweep()
