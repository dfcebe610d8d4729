"""Background jobs of notifications: sending the queued mail."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from socdesk.core.errors import ServiceError
from socdesk.notifications.selectors import unsent_email_ids
from socdesk.notifications.services import notification_emails_send

# The sweep leaves a message this long to its own task, and gives up on it after this many attempts.
SWEEP_AFTER = timedelta(minutes=5)
SWEEP_ATTEMPTS = 10


@db_task(retries=3, retry_delay=60)
def notification_emails_deliver(email_ids: list[int]) -> int:
    """Send queued notification mail (idempotent: each message is claimed before it is sent)."""
    return notification_emails_send(email_ids)


def send_after_commit(email_ids: list[int]) -> None:
    """Hand the messages to the worker once the change that made them is committed."""
    if email_ids:
        ids = list(email_ids)
        transaction.on_commit(lambda: notification_emails_deliver(ids), robust=True)


@db_periodic_task(crontab(minute="*/5"))
def notification_emails_sweep() -> int:
    """Send the messages whose task was lost (a worker stopped before running it) or ran out of retries
    (the mail server was down for a while); each is claimed before it is sent, so none goes out twice."""
    ids = unsent_email_ids(created_before=timezone.now() - SWEEP_AFTER, attempts_below=SWEEP_ATTEMPTS)
    try:
        return notification_emails_send(ids)
    except ServiceError:
        return 0  # what failed stays waiting, with its error, for the next sweep
