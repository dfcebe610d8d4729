"""Worker jobs of the routing app: the SLA scan every 30 seconds, and ticket filters' webhooks (sent
after the commit that wrote them, and retried when their backoff has passed)."""

from __future__ import annotations

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from socdesk.routing.models import FilterWebhookDelivery
from socdesk.routing.services.sla_scan import sla_scan
from socdesk.routing.webhooks import webhook_deliver, webhooks_retry_due

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


@db_task()
def filter_webhook_deliver_task(delivery_id: int) -> str:
    """Send one filter webhook (enqueued after the commit that wrote it)."""
    return webhook_deliver(delivery_id)


@db_periodic_task(crontab(minute="*"))
def filter_webhooks_retry_task() -> int:
    """Every minute: send again the filter webhooks whose backoff has passed."""
    return webhooks_retry_due()


def webhooks_queue(rows: list[FilterWebhookDelivery]) -> None:
    """Write the deliveries (in the caller's transaction) and send them from a worker after commit."""
    if not rows:
        return
    FilterWebhookDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in rows if row.pk is not None]
    if len(ids) != len(rows):  # a backend without RETURNING: the periodic job sends them within a minute
        return

    def enqueue() -> None:
        for pk in ids:
            filter_webhook_deliver_task(pk)

    transaction.on_commit(enqueue)
