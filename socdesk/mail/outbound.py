"""Agents' replies going out by e-mail: queued with the reply, sent by the worker, retried, shown.

One path: an agent's reply (any channel) fires the tickets after-change hook, which queues an
OutboundMessage in the reply's transaction when the requester has an address and outbound mail is
configured; after commit the worker claims and sends it through `core.mailer.mail_deliver`, the same
function notifications send through. `outbound_queue` writes every message to a requester (the
auto-response too, socdesk.mail.autoresponse), rendered from its template (socdesk.mail.mail_templates).
See docs/email.md ("Sending").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import escape, strip_tags

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent
from socdesk.accounts.onboarding import outbound_mail_configured
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, ServiceError
from socdesk.mail.mail_templates import RenderedMail, mail_render
from socdesk.mail.models import OutboundKind, OutboundMessage, OutboundStatus, TemplateKind
from socdesk.mail.tasks import send_after_commit
from socdesk.tickets.hooks import TicketChange
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket
from socdesk.tickets.selectors import collaborator_addresses, tickets_visible_to
from socdesk.tickets.services import ticket_note
from socdesk.tickets.services.steps import require_perm

# Who writes the ticket's note when a reply's attachments could not go with its e-mail.
MAIL_SENDER = Actor.system("mail")

# --- what a reply became ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailOutcome:
    """What happened to a reply's e-mail: queued, sent, failed, not_configured or no_address."""

    status: str
    to: list[str] = field(default_factory=list)
    error: str = ""

    def sentence(self) -> str:
        """The console's line after the reply was saved."""
        to = ", ".join(self.to)
        if self.status == "queued":
            return f"Reply queued for e-mail to {to}."
        if self.status == "sent":
            return f"Reply e-mailed to {to}."
        if self.status in ("failed", "sending"):
            return (
                f"Reply saved, but the e-mail to {to} could not be sent yet ({self.error}); "
                "it will be retried, or use Retry on the reply."
            )
        if self.status == "not_configured":
            return (
                "Reply saved. E-mail is not configured, so the requester was not sent it "
                "(an administrator sets EMAIL_BACKEND and EMAIL_HOST; see docs/email.md)."
            )
        return "Reply saved; the requester has no e-mail address, so it was not e-mailed."


def reply_email_outcome(entry: ThreadEntry) -> EmailOutcome:
    """What became of the e-mail of this reply (after `ticket_reply` returned)."""
    message = OutboundMessage.objects.filter(entry=entry).order_by("-id").first()
    if message is not None:
        return EmailOutcome(message.status, [*message.to, *message.cc], message.last_error)
    if not _requester_address(entry.ticket):
        return EmailOutcome("no_address")
    return EmailOutcome("not_configured")


def reply_notice(entry: ThreadEntry) -> tuple[str, bool]:
    """The tickets reply-notice hook: the console's sentence for this reply's e-mail, and whether all
    is well (a failure or missing configuration is shown as a warning)."""
    outcome = reply_email_outcome(entry)
    return outcome.sentence(), outcome.status in ("queued", "sent", "no_address")


# --- queueing -------------------------------------------------------------------------------------


def _requester_address(ticket: Ticket) -> str:
    requester = ticket.requester
    return requester.email if requester is not None else ""


def _domain(address: str) -> str:
    domain = address.rpartition("@")[2].strip(" >")
    return domain or "socdesk.localhost"


def entry_text(entry: ThreadEntry) -> str:
    """A thread entry's text as plain text (an HTML entry's tags stripped)."""
    text = strip_tags(entry.body) if entry.body_format == "html" else entry.body
    return text.replace("\r\n", "\n").rstrip()


def on_ticket_change(change: TicketChange) -> None:
    """The tickets after-change hook: a reply (by an agent or an API key) is queued for the requester."""
    if change.action != "ticket.replied":  # an agent's or an integration's reply, never a note
        return
    entry_id = change.after.get("entry")
    if entry_id is None:
        return
    outbound_reply_queue(ticket=change.ticket, entry=ThreadEntry.objects.get(pk=entry_id))


def outbound_reply_queue(*, ticket: Ticket, entry: ThreadEntry) -> OutboundMessage | None:
    """Queue the e-mail of an agent's reply to the requester, copied to the ticket's collaborators, in the
    reply's transaction, and hand it to the worker after commit; None when the requester has no address
    or outbound mail is not configured (nothing is queued then: the console and the API say so). The
    reply's attachments go with it up to the attachment size limit; past it they are left out and the
    message and the ticket say so."""
    to = _requester_address(ticket)
    if not to or not outbound_mail_configured():
        return None
    attachments, left_out = attachments_within_cap(entry)
    rendered = mail_render(TemplateKind.REPLY, ticket, agent=entry.author_agent, message=entry_text(entry))
    if left_out:
        names = ", ".join(f"{a.filename} ({a.size:,} bytes)" for a in left_out)
        sentence = (
            f"Not attached, as the attachments together are over the {settings.ATTACHMENT_MAX_BYTES:,} byte "
            f"limit: {names}. Ask us for them by replying to this message."
        )
        rendered = RenderedMail(
            rendered.subject,
            f"{rendered.text.rstrip()}\n\n{sentence}\n",
            f"{rendered.html}\n<p>{escape(sentence)}</p>\n" if rendered.html else "",
        )
        ticket_note(
            actor=MAIL_SENDER,
            ticket=ticket,
            body=f"The e-mail of this reply to {to} went without attachments over the "
            f"{settings.ATTACHMENT_MAX_BYTES:,} byte limit: {names}.",
        )
    return outbound_queue(
        ticket=ticket,
        entry=entry,
        kind=OutboundKind.REPLY,
        to=to,
        cc=[address for address in collaborator_addresses(ticket) if address != to.lower()],
        rendered=rendered,
        attachment_ids=[a.pk for a in attachments],
    )


def attachments_within_cap(entry: ThreadEntry) -> tuple[list[Attachment], list[Attachment]]:
    """The entry's attachments that fit in one message together (SOCDESK_ATTACHMENT_MAX_BYTES, in the
    order they were added), and those left out."""
    kept, left_out, total = [], [], 0
    for attachment in entry.attachments.order_by("id"):
        if total + attachment.size <= settings.ATTACHMENT_MAX_BYTES:
            kept.append(attachment)
            total += attachment.size
        else:
            left_out.append(attachment)
    return kept, left_out


def outbound_queue(
    *,
    ticket: Ticket,
    entry: ThreadEntry | None,
    kind: str,
    to: str,
    rendered: RenderedMail,
    cc: list[str] | None = None,
    attachment_ids: list[int] | None = None,
    answers: str = "",
) -> OutboundMessage:
    """Write one outgoing message of the ticket's thread (Message-ID generated, References naming the
    ticket's earlier ones then `answers`, the requester's message it answers as `<id>`, which is its
    In-Reply-To; without it, the last earlier one is) and hand it to the worker after commit."""
    from_email = ticket.department.email or settings.DEFAULT_FROM_EMAIL
    earlier = list(
        OutboundMessage.objects.filter(ticket=ticket)
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
    )
    # The message answered is the newest of the thread: In-Reply-To names it, References ends with it.
    earlier += [answers] if answers else []
    message = OutboundMessage.objects.create(
        ticket=ticket,
        entry=entry,
        kind=kind,
        message_id=f"<{ticket.number.lower()}.{uuid.uuid4().hex}@{_domain(from_email)}>",
        in_reply_to=earlier[-1] if earlier else "",
        references=" ".join(earlier),
        from_email=from_email,
        to=[to],
        recipient=to.lower()[:254],
        cc=list(cc or []),
        subject=rendered.subject,
        body=rendered.text,
        html=rendered.html,
        attachment_ids=list(attachment_ids or []),
        created_at=timezone.now(),
    )
    send_after_commit([message.pk])
    return message


# --- the ticket page: reading and retrying --------------------------------------------------------


def outbound_by_entry(ticket: Ticket) -> dict[int, OutboundMessage]:
    """The latest e-mail of each thread entry of the ticket (one query), for the thread."""
    rows = OutboundMessage.objects.filter(ticket=ticket, entry__isnull=False).order_by("id")
    return {row.entry_id: row for row in rows if row.entry_id is not None}


def outbound_get_for_agent(agent: Agent, message_id: int) -> OutboundMessage:
    """The message if the agent may see its ticket; NotFound otherwise (never 'forbidden')."""
    found: QuerySet[OutboundMessage] = OutboundMessage.objects.select_related("ticket__department").filter(
        pk=message_id, ticket__in=tickets_visible_to(agent)
    )
    message = found.first()
    if message is None:
        raise NotFound("That e-mail was not found.")
    return message


@transaction.atomic
def outbound_retry(*, actor: Actor, message: OutboundMessage) -> OutboundMessage:
    """Send a failed e-mail again now (an agent who may reply on its ticket asks); audited as
    `email.retry_requested`."""
    ticket = Ticket.objects.select_related("department").get(pk=message.ticket_id)
    require_perm(actor, Perm.REPLY, ticket)
    message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.status != OutboundStatus.FAILED:
        shown = {
            "sent": "was already sent",
            "queued": "is already waiting to be sent",
            "sending": "is being sent",
        }
        raise ServiceError(
            f"This e-mail {shown.get(message.status, 'cannot be retried')}; there is nothing to retry.",
            fields={"status": message.status},
        )
    OutboundMessage.objects.filter(pk=message.pk).update(status=OutboundStatus.QUEUED)
    record(
        actor=actor,
        action="email.retry_requested",
        target=ticket,
        before={"message": message.message_id, "status": message.status, "error": message.last_error},
        after={"status": OutboundStatus.QUEUED, "to": message.to},
    )
    send_after_commit([message.pk])
    message.status = OutboundStatus.QUEUED
    return message


def describe_retry(event: AuditEvent) -> str:
    """The ticket history's words for `email.retry_requested`."""
    to = ", ".join((event.after or {}).get("to") or []) or "the requester"
    return f"retried the e-mail to {to}"
