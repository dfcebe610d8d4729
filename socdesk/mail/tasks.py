"""Background jobs of mail: sending the queued outgoing messages, fetching the IMAP mailboxes."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from socdesk.core.errors import ServiceError
from socdesk.mail.fetching import mailbox_fetch
from socdesk.mail.mailboxes import mailboxes_due
from socdesk.mail.models import Mailbox
from socdesk.mail.sending import outbound_send, waiting_message_ids

# The sweep leaves a message this long to its own task, and gives up on it after this many attempts.
SWEEP_AFTER = timedelta(minutes=5)
SWEEP_ATTEMPTS = 10


@db_task(retries=3, retry_delay=60)
def outbound_deliver(message_ids: list[int]) -> int:
    """Send queued outgoing mail (idempotent: each message is claimed before it is sent)."""
    return outbound_send(message_ids)


def send_after_commit(message_ids: list[int]) -> None:
    """Hand messages to the worker once the change that made them is committed."""
    ids = list(message_ids)
    transaction.on_commit(lambda: outbound_deliver(ids), robust=True)


@db_periodic_task(crontab(minute="*/5"))
def outbound_sweep() -> int:
    """Send the messages whose task was lost (a worker stopped before running it) or ran out of retries
    (the mail server was down for a while); each is claimed before it is sent, so none goes out twice."""
    ids = waiting_message_ids(created_before=timezone.now() - SWEEP_AFTER, attempts_below=SWEEP_ATTEMPTS)
    try:
        return outbound_send(ids)
    except ServiceError:
        return 0  # what failed stays waiting, with its error, for the next sweep


# --- mailboxes (IMAP) ---------------------------------------------------------------------------------------


@db_periodic_task(crontab(minute="*"))
def mailboxes_fetch_due() -> int:
    """Every minute: hand each enabled mailbox whose fetch interval has passed to a worker."""
    due = mailboxes_due()
    for mailbox in due:
        mailbox_fetch_task(mailbox.pk)
    return len(due)


@db_task()
def mailbox_fetch_task(mailbox_id: int) -> int:
    """One fetch (one batch of the mailbox's max messages); returns how many were imported.

    The fetch claims the mailbox first, so a task queued twice, or beside `socdesk mail fetch`, returns
    without fetching; its outcome (and any error sentence) is kept on the mailbox."""
    mailbox = Mailbox.objects.select_related("department").filter(pk=mailbox_id, enabled=True).first()
    if mailbox is None:
        return 0  # removed or disabled since it was queued
    try:
        return mailbox_fetch(mailbox).imported
    except ServiceError:
        return 0  # another fetch holds it
