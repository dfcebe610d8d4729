"""Worker jobs of the routing app: sending ticket filters' webhooks, and retrying those that failed."""

from __future__ import annotations

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from socdesk.routing.models import FilterWebhookDelivery
from socdesk.routing.webhooks import webhook_deliver, webhooks_retry_due


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
