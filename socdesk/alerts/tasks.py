"""Background work around the alert services: process one delivery, sweep the ones left pending."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from socdesk.alerts import services


@db_task(retries=3, retry_delay=5)
def process_delivery_task(delivery_id: int) -> str:
    """Turn a stored delivery (and others waiting) into alerts; safe to run twice (claims make it a no-op)."""
    return services.deliveries_drain(first_id=delivery_id).get(delivery_id, "skipped")


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries_task() -> int:
    """Every minute: process deliveries still pending (worker was down, task lost)."""
    return services.deliveries_sweep()
