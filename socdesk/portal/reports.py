"""What requesters write in the portal: a report on a help topic's form (a new ticket), a reply on
their ticket, and the honeypot's silent drop. Each goes through the tickets services, like e-mail.

A suspicious e-mail (uploaded as .eml or pasted) is wrapped the way a person reporting it by mail would
send it, the requester's note with the message attached as an .eml file, and read by the mail app's
parser and observable finder: the ticket gets the same observables, attachments and `original.eml` as
that mail would give it.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, make_msgid
from typing import Any

from django.conf import settings
from django.db import transaction

from socdesk.accounts.models import Contact
from socdesk.accounts.selectors import api_department
from socdesk.accounts.services import contact_name_set
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_text
from socdesk.mail.inbound import RAW_NAME
from socdesk.mail.observables import message_observables
from socdesk.mail.parse import ParsedMessage, parse_message
from socdesk.portal.selectors import PortalForm
from socdesk.portal.throttle import limit_count
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.choices import Source, Status
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import TicketDraft, ticket_add_message, ticket_change_status, ticket_create_many

REPORTED_NAME = "reported-message.eml"
SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def reported_message_wrap(contact: Contact, note: str, reported: bytes, filename: str = "") -> bytes:
    """The mail a person would send to report a message: from them, their note as the text, the reported
    message attached as an .eml file (pure)."""
    wrapper = EmailMessage(policy=SMTP)
    wrapper["From"] = formataddr((contact.name, contact.email))
    wrapper["To"] = settings.DEFAULT_FROM_EMAIL
    wrapper["Subject"] = "Suspicious e-mail reported in the portal"
    wrapper["Message-ID"] = make_msgid(domain="portal.socdesk")
    wrapper.set_content(note.strip() + "\n" if note.strip() else "Reported in the portal.\n")
    name = SAFE_NAME.sub("_", filename).strip() or REPORTED_NAME
    if not name.lower().endswith(".eml"):
        name += ".eml"
    wrapper.add_attachment(reported, maintype="application", subtype="octet-stream", filename=name)
    return wrapper.as_bytes()


def _reported_parts(
    contact: Contact, note: str, reported: bytes, filename: str
) -> tuple[ParsedMessage, list[IncomingFile], list[tuple[str, str]], str]:
    """The wrapped report read like received mail: the parse, the files to store (the reported message,
    then original.eml), the observables and the reported message's subject."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if len(reported) > limit:
        raise ServiceError(
            f"The e-mail is {len(reported):,} bytes; the limit is {limit:,} bytes.",
            fields={"suspicious_email": "too_large"},
        )
    raw = reported_message_wrap(contact, note, reported, filename)
    parsed = parse_message(raw, max_attachment_bytes=limit)
    files = [
        IncomingFile(a.filename or REPORTED_NAME, a.content)
        for a in parsed.attachments
        if a.content is not None and len(a.content) <= limit
    ]
    if len(raw) <= limit:
        files.append(IncomingFile(RAW_NAME, raw))
    subject = parsed.inner[0].subject if parsed.inner else ""
    return parsed, files, message_observables(parsed), subject


def report_submit(
    *,
    actor: Actor,
    contact: Contact,
    form: PortalForm,
    subject: str,
    body: str,
    values: dict[str, Any],
    attachments: list[IncomingFile] | None = None,
    reported: bytes = b"",
    reported_name: str = "",
    requester_name: str = "",
) -> Ticket:
    """Open a ticket on a portal form's help topic for the signed-in requester (the topic's department,
    custom fields checked as theirs), counted against the report limits per address and IP. A form that
    asks for a suspicious e-mail needs `reported` (the .eml's bytes or the pasted text); a
    `requester_name` given becomes the requester's name (empty: it stays as it is). ServiceError with
    nothing written for anything refused (the count stays: it is taken before the write)."""
    limit_count(
        "report",
        address=contact.email,
        ip=actor.ip,
        per_address=settings.SOCDESK_PORTAL_REPORTS_PER_ADDRESS,
        per_ip=settings.SOCDESK_PORTAL_REPORTS_PER_IP,
    )
    with transaction.atomic():
        # The name first, so that the reported message is wrapped as from it; a refusal below undoes it.
        if requester_name.strip():
            contact = contact_name_set(actor=actor, contact=contact, name=requester_name)
        return _report_open(actor, contact, form, subject, body, values, attachments, reported, reported_name)


def _report_open(
    actor: Actor,
    contact: Contact,
    form: PortalForm,
    subject: str,
    body: str,
    values: dict[str, Any],
    attachments: list[IncomingFile] | None,
    reported: bytes,
    reported_name: str,
) -> Ticket:
    subject = " ".join(clean_text(subject or "").split())
    files = list(attachments or [])
    observables: list[tuple[str, str]] = []
    if form.asks_for_email:
        if not reported.strip():
            raise ServiceError(
                "Attach the suspicious e-mail as a .eml file, or paste its headers and text.",
                fields={"suspicious_email": "required"},
            )
        _parsed, mail_files, observables, reported_subject = _reported_parts(
            contact, body, reported, reported_name
        )
        files = mail_files + files
        subject = subject or f"Suspicious e-mail: {reported_subject or '(no subject)'}"
    if not subject:
        raise ServiceError("Give your report a short title.", fields={"subject": "required"})
    topic = form.topic
    draft = TicketDraft(
        actor=actor,
        subject=subject[:255],
        department=topic.department or api_department(None),
        body=body,
        requester_email=contact.email,
        requester_name=contact.name,
        source=Source.WEB,
        extra={"channel": "portal"},
        attachments=files,
        observables=observables,
        custom_fields=values,
        help_topic=topic.pk,
        hints={"department_default": True},
    )
    [ticket] = ticket_create_many([draft])
    return ticket


@transaction.atomic
def requester_reply(
    *, actor: Actor, ticket: Ticket, body: str, attachments: list[IncomingFile] | None = None
) -> ThreadEntry:
    """The requester's message on their ticket, as if they had answered by e-mail: a resolved or closed
    ticket is reopened through the status service first (audited with why)."""
    if not clean_text(body or "").strip() and not attachments:
        raise ServiceError("Write a message or attach a file.", fields={"body": "required"})
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        contact = actor.obj
        is_requester = isinstance(contact, Contact) and ticket.requester_id == contact.pk
        # A collaborator is named by address, as when they answer by e-mail.
        who = "the requester" if is_requester else getattr(contact, "email", "a collaborator")
        ticket = ticket_change_status(
            actor=actor, ticket=ticket, status=Status.IN_PROGRESS, comment=f"{who} wrote back in the portal"
        )
    return ticket_add_message(actor=actor, ticket=ticket, body=body, attachments=attachments)


def honeypot_tripped(*, actor: Actor, form: str) -> None:
    """A form whose hidden trap field was filled (a bot): nothing is written but this audit event, so the
    trail counts them (`portal.honeypot_tripped`)."""
    record(actor=actor, action="portal.honeypot_tripped", target_type="portal", after={"form": form[:100]})
