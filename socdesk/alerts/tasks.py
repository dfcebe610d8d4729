"""Background work around the alert services: process one delivery, sweep the ones left pending."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from socdesk.alerts import services


@db_task(retries=3, retry_delay=5)
def process_delivery_task(delivery_id: int) -> str:
    """Turn a stored delivery into alerts (safe to run twice: the claim makes the second a no-op)."""
    return services.delivery_process(delivery_id=delivery_id)


@db_periodic_task(crontab(minute="*"))
def sweep_deliveries_task() -> int:
    """Every minute: process deliveries still pending (worker was down, task lost)."""
    return services.deliveries_sweep()
