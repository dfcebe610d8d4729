"""Writes of notifications: create them (in the app and as mail to send), mark them read, set
preferences, and deliver the mail (the worker's part).

Creating runs in the transaction of the change it reports (a ticket hook or the SLA scan), so a change
rolled back leaves no notification behind; mail leaves only after commit, through the worker.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from socdesk.accounts.models import Agent
from socdesk.accounts.onboarding import outbound_mail_configured
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.mailer import mail_deliver, mail_error_text
from socdesk.core.text import clean_text
from socdesk.notifications.choices import DEFAULTS, SUBJECTS, Kind
from socdesk.notifications.models import Notification, NotificationEmail, NotificationPreference
from socdesk.notifications.selectors import preferences_for, preferences_of
from socdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

# A message lists at most this many notifications (an ingest batch may make hundreds); the rest are
# summed up in one line and wait in the console.
EMAIL_LINES_MAX = 20


@dataclass(frozen=True)
class NotificationDraft:
    """One notification to make: who, what kind, which ticket, the sentence, who caused it."""

    recipient: Agent
    kind: str
    ticket: Ticket
    text: str
    actor_label: str = ""


@dataclass(frozen=True)
class Created:
    """What notifications_create wrote: notifications shown in the app, messages waiting to be sent."""

    shown: int
    email_ids: list[int]


def notifications_create(drafts: Iterable[NotificationDraft], *, now: datetime | None = None) -> Created:
    """Store the notifications each recipient wants in the app, and queue one message per recipient for
    those they want by email (when outbound mail is configured and they have an address). Inactive
    agents and repeats (same agent, kind and ticket) are dropped. Runs in the caller's transaction, in a
    bulk insert or two whatever the number; the caller hands `email_ids` to the worker after commit
    (`tasks.send_after_commit`)."""
    now = now or timezone.now()
    unique: dict[tuple[int, str, int], NotificationDraft] = {}
    for draft in drafts:
        if draft.recipient.user.is_active:
            unique.setdefault((draft.recipient.pk, draft.kind, draft.ticket.pk), draft)
    if not unique:
        return Created(0, [])
    chosen = preferences_of({draft.recipient.pk for draft in unique.values()})
    in_app: list[Notification] = []
    by_mail: dict[int, list[NotificationDraft]] = defaultdict(list)
    for draft in unique.values():
        show, mail = chosen.get((draft.recipient.pk, draft.kind), DEFAULTS[draft.kind])
        if show:
            in_app.append(
                Notification(
                    recipient=draft.recipient,
                    kind=draft.kind,
                    ticket=draft.ticket,
                    text=clean_text(draft.text)[:300],
                    actor_label=draft.actor_label[:200],
                    created_at=now,
                )
            )
        if mail and draft.recipient.user.email:
            by_mail[draft.recipient.pk].append(draft)
    Notification.objects.bulk_create(in_app)
    email_ids: list[int] = []
    if by_mail and outbound_mail_configured():
        emails = NotificationEmail.objects.bulk_create([_email(items, now) for items in by_mail.values()])
        email_ids = [email.pk for email in emails]
    return Created(len(in_app), email_ids)


def ticket_url(ticket: Ticket) -> str:
    """The ticket's address in the console, for mail (SOCDESK_BASE_URL + its path)."""
    return settings.SOCDESK_BASE_URL.rstrip("/") + reverse("tickets:detail", args=[ticket.number])


def _email(items: list[NotificationDraft], now: datetime) -> NotificationEmail:
    """One plain-text message for one recipient: each notification with its ticket's link."""
    recipient = items[0].recipient
    if len(items) == 1:
        only = items[0]
        subject = f"[SOCdesk] {only.ticket.number}: {SUBJECTS[only.kind]} · {only.ticket.subject}"
    else:
        subject = f"[SOCdesk] {len(items)} notifications"
    lines = [f"Hello {recipient.name},", ""]
    for item in items[:EMAIL_LINES_MAX]:
        lines += [
            f"{item.ticket.number} · {item.ticket.subject}",
            f"  {item.text}",
            f"  {ticket_url(item.ticket)}",
            "",
        ]
    if len(items) > EMAIL_LINES_MAX:
        lines += [f"... and {len(items) - EMAIL_LINES_MAX} more in the console's notifications.", ""]
    page = settings.SOCDESK_BASE_URL.rstrip("/") + reverse("notifications:preferences")
    lines += [f"Choose what you are told of, and how: {page}"]
    return NotificationEmail(
        recipient=recipient,
        to=recipient.user.email,
        subject=clean_text(subject)[:255],
        body=clean_text("\n".join(lines)),
        created_at=now,
    )


def notification_emails_send(email_ids: Iterable[int]) -> int:
    """Send the queued messages not sent yet (the worker's job); returns how many went out.

    Each message is claimed with a conditional UPDATE before it is sent, so two workers (or a task run
    twice) never send it twice. One that the mail server refuses is released with the error kept, and
    ServiceError is raised at the end so the task is retried.
    """
    sent, failed = 0, []
    connection = get_connection(fail_silently=False)
    for email_id in email_ids:
        claimed = NotificationEmail.objects.filter(pk=email_id, sent_at=None).update(
            sent_at=timezone.now(), attempts=F("attempts") + 1
        )
        if not claimed:
            continue
        email = NotificationEmail.objects.get(pk=email_id)
        try:
            mail_deliver(subject=email.subject, body=email.body, to=[email.to], connection=connection)
        except OSError as exc:  # smtplib's errors are OSErrors
            log.warning("notification mail %s to %s failed: %s", email.pk, email.to, exc)
            NotificationEmail.objects.filter(pk=email.pk).update(
                sent_at=None, last_error=mail_error_text(exc)
            )
            failed.append(email.pk)
            continue
        sent += 1
    if failed:
        raise ServiceError(f"{len(failed)} notification message(s) could not be sent; they will be retried.")
    return sent


def _agent(actor: Actor) -> Agent:
    if actor.agent is None:
        raise ServiceError("Notifications belong to agents; sign in as one (or use a personal token).")
    return actor.agent


# Marking read is the agent's own reading state, not a change to shared data: it is not audited.
def notification_mark_read(*, actor: Actor, notification: Notification) -> Notification:
    """Mark one of the actor's notifications read (reading one already read changes nothing)."""
    agent = _agent(actor)
    if notification.recipient_id != agent.pk:
        raise ServiceError("That notification is someone else's.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, actor: Actor) -> int:
    """Mark every unread notification of the actor read; returns how many were unread."""
    agent = _agent(actor)
    return Notification.objects.filter(recipient=agent, read_at=None).update(read_at=timezone.now())


@transaction.atomic
def notification_preferences_set(
    *, actor: Actor, choices: Mapping[str, tuple[bool, bool]]
) -> dict[str, tuple[bool, bool]]:
    """Set, per kind, whether the actor is told in the app and by email; kinds left out keep their
    setting. Refuses an unknown kind, writing nothing. Audited as `notification.preferences_changed`."""
    agent = _agent(actor)
    unknown = sorted(set(choices) - set(Kind.values))
    if unknown:
        raise ServiceError(
            f"Unknown notification kind(s): {', '.join(unknown)}; the kinds are: {', '.join(Kind.values)}.",
            fields=dict.fromkeys(unknown, "unknown"),
        )
    current = preferences_for(agent)
    changed = {kind: (bool(v[0]), bool(v[1])) for kind, v in choices.items() if tuple(v) != current[kind]}
    for kind, (show, mail) in changed.items():
        NotificationPreference.objects.update_or_create(
            agent=agent, kind=kind, defaults={"in_app": show, "email": mail}
        )
    if changed:
        record(
            actor=actor,
            action="notification.preferences_changed",
            target=agent,
            target_label=agent.user.get_username(),
            before={kind: _shown(current[kind]) for kind in changed},
            after={kind: _shown(value) for kind, value in changed.items()},
        )
    return current | changed


def _shown(value: tuple[bool, bool]) -> dict[str, bool]:
    return {"in_app": value[0], "email": value[1]}
