"""Sending the queued outgoing mail: claim each message, hand it to the mail server, keep the outcome."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.core.mail import get_connection
from django.db.models import F
from django.utils import timezone

from socdesk.core.errors import ServiceError
from socdesk.core.mailer import mail_deliver, mail_error_text
from socdesk.mail.models import OutboundMessage, OutboundStatus
from socdesk.tickets.models import Attachment

log = logging.getLogger(__name__)

# What a worker may claim: new messages, and those whose last attempt failed.
WAITING = (OutboundStatus.QUEUED, OutboundStatus.FAILED)


def _headers(message: OutboundMessage) -> dict[str, str]:
    headers = {"Message-ID": message.message_id}
    if message.automatic:
        # RFC 3834: the requester's autoresponder must not answer an auto-response (no loop). A reply has
        # no such header: a person wrote it, and the requester's autoresponder may answer.
        headers["Auto-Submitted"] = "auto-replied"
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    return headers


def _attachments(message: OutboundMessage) -> list[tuple[str, bytes, str]]:
    """The files chosen when the message was queued, read from the attachment storage."""
    files = []
    for attachment in Attachment.objects.filter(pk__in=message.attachment_ids).order_by("id"):
        with attachment.file.open("rb") as handle:
            files.append((attachment.filename, handle.read(), attachment.content_type))
    return files


def outbound_send(message_ids: Iterable[int]) -> int:
    """Send the given messages that still wait (the worker's job); returns how many went out.

    Each is claimed with a conditional UPDATE (queued/failed -> sending) before it is sent, so two
    workers, or a task and the sweep, never send one twice. One the mail server refuses is marked failed
    with its error, and ServiceError is raised at the end so the task is retried.
    """
    sent, failed = 0, 0
    connection = None
    for message_id in message_ids:
        claimed = OutboundMessage.objects.filter(pk=message_id, status__in=WAITING).update(
            status=OutboundStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
        if not claimed:
            continue
        message = OutboundMessage.objects.get(pk=message_id)
        try:
            connection = connection or get_connection(fail_silently=False)
            mail_deliver(
                subject=message.subject,
                body=message.body,
                to=message.to,
                cc=message.cc,
                from_email=message.from_email,
                headers=_headers(message),
                connection=connection,
                html=message.html,
                attachments=_attachments(message),
            )
        # smtplib's errors are OSErrors; a message the mail library refuses to build raises ValueError.
        except (OSError, ValueError) as exc:
            log.warning("reply mail %s to %s failed: %s", message.pk, message.to, exc)
            OutboundMessage.objects.filter(pk=message.pk).update(
                status=OutboundStatus.FAILED, last_error=mail_error_text(exc)
            )
            failed += 1
            continue
        OutboundMessage.objects.filter(pk=message.pk).update(
            status=OutboundStatus.SENT, sent_at=timezone.now(), last_error=""
        )
        sent += 1
    if failed:
        raise ServiceError(f"{failed} outgoing message(s) could not be sent; they will be retried.")
    return sent


def waiting_message_ids(*, created_before: datetime, attempts_below: int, limit: int = 500) -> list[int]:
    """Messages still waiting (their task was lost or ran out of retries), oldest first, for the sweep."""
    rows = OutboundMessage.objects.filter(
        status__in=WAITING, created_at__lt=created_before, attempts__lt=attempts_below
    ).order_by("created_at", "id")
    return list(rows.values_list("id", flat=True)[:limit])
