"""Background jobs of notifications: sending the queued mail."""

from __future__ import annotations

from django.db import transaction
from huey.contrib.djhuey import db_task

from socdesk.notifications.services import notification_emails_send


@db_task(retries=3, retry_delay=60)
def notification_emails_deliver(email_ids: list[int]) -> int:
    """Send queued notification mail (idempotent: each message is claimed before it is sent)."""
    return notification_emails_send(email_ids)


def send_after_commit(email_ids: list[int]) -> None:
    """Hand the messages to the worker once the change that made them is committed."""
    if email_ids:
        ids = list(email_ids)
        transaction.on_commit(lambda: notification_emails_deliver(ids), robust=True)
