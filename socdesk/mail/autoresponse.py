"""The auto-response: the requester of a new ticket, from any channel, is told its number by e-mail.

Wired as a tickets after-create hook, so the message is queued in the ticket's own transaction and sent by
the worker like a reply. It is never sent to automatic mail, machine senders, SOCdesk's own addresses or
a banned sender, nor when the department, the help topic, a ticket filter or the osTicket API's
`autorespond: false` turns it off, nor past SOCDESK_MAIL_AUTORESPONSE_LIMIT messages to one address in
an hour (auto-responses and reopening acknowledgements together). Each of those is recorded as
`email.autoresponse_skipped` on the ticket with its reason (shown in its history); a ticket without a
requester address (alerts) or with outbound mail not configured is only logged at debug level (that is
every alert: an event each would be noise). See docs/email.md.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.html import strip_tags

from socdesk.accounts.models import Department
from socdesk.accounts.onboarding import outbound_mail_configured
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.mail.bans import ban_for
from socdesk.mail.loops import HINT_AUTOMATED, MACHINE_SENDERS, is_own_address
from socdesk.mail.mail_templates import mail_render
from socdesk.mail.models import AUTOMATIC_KINDS, OutboundKind, OutboundMessage, TemplateKind
from socdesk.mail.outbound import outbound_queue
from socdesk.mail.own import own_addresses
from socdesk.tickets.choices import Source
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft

log = logging.getLogger(__name__)

AUTORESPONSE_ACTOR = Actor.system("auto-response")
SUPPRESS = "suppress_autoresponse"
WINDOW = timedelta(hours=1)


def _recent_count(address: str, now: datetime) -> int:
    """How many automatic e-mails (auto-responses and reopening acknowledgements) went to this address in
    the last hour (the outgoing queue is the count): two kinds that answered each other would loop."""
    return OutboundMessage.objects.filter(
        kind__in=AUTOMATIC_KINDS, recipient=address, created_at__gte=now - WINDOW
    ).count()


def recipient_refusal(address: str, now: datetime, *, own: list[str] | None = None) -> str:
    """Why SOCdesk may send no automatic e-mail to this address, as a sentence ("" when it may): a mail
    server's address, one of SOCdesk's own, a banned one, or one past SOCDESK_MAIL_AUTORESPONSE_LIMIT."""
    local = address.rpartition("@")[0].split("+", 1)[0]
    if local in MACHINE_SENDERS:
        return f"The requester {address} is a mail server's {local} address."
    if is_own_address(address, own_addresses() if own is None else own):
        return f"The requester {address} is one of SOCdesk's own addresses."
    ban = ban_for(address)
    if ban is not None:
        return f"The requester {address} is banned ({ban.value})."
    limit = settings.SOCDESK_MAIL_AUTORESPONSE_LIMIT
    if _recent_count(address, now) >= limit:
        return (
            f"{address} already got {limit} automatic e-mails in the last hour "
            "(SOCDESK_MAIL_AUTORESPONSE_LIMIT)."
        )
    return ""


def skip_reason(
    ticket: Ticket,
    draft: TicketDraft,
    address: str,
    now: datetime,
    *,
    department_on: bool = True,
    own: list[str] | None = None,
) -> str:
    """Why this new ticket's requester gets no auto-response, as a sentence; "" when they get one."""
    if not department_on:
        return f"Auto-responses are off for the department {ticket.department.name}."
    if draft.hints.get(SUPPRESS):
        # The help topic's switch and the filter action both leave this hint (socdesk.routing).
        return "The help topic or a ticket filter turned the auto-response off for this ticket."
    if (draft.extra or {}).get("autorespond") is False:
        return "The API request asked for no auto-response (autorespond: false)."
    automated = draft.hints.get(HINT_AUTOMATED)
    if automated:
        return f"The e-mail that opened it is automatic: {automated}"
    return recipient_refusal(address, now, own=own)


def autoresponses_after_create(tickets: list[Ticket], drafts: list[TicketDraft], now: datetime) -> None:
    """The tickets after-create hook: queue each new ticket's auto-response, or record why not."""
    candidates = []
    for ticket, draft in zip(tickets, drafts, strict=True):
        if draft.alert is not None or ticket.source == Source.ALERT:
            continue  # an alert's ticket has no requester to answer (and a batch of alerts costs nothing)
        requester = ticket.requester
        address = (requester.email if requester is not None else "").strip().lower()
        if address:
            candidates.append((ticket, draft, address))
        else:
            log.debug("No auto-response for %s: the requester has no e-mail address.", ticket.number)
    if not candidates:
        return
    if not outbound_mail_configured():
        log.debug("No auto-responses for %s: outbound mail is not configured.", candidates[0][0].number)
        return
    # Read from the database: the caller's department objects may predate a change of the switch.
    departments = {ticket.department_id for ticket, _draft, _address in candidates}
    switched_on = dict(Department.objects.filter(pk__in=departments).values_list("pk", "auto_response"))
    own = own_addresses()
    for ticket, draft, address in candidates:
        on = switched_on.get(ticket.department_id, True)
        reason = skip_reason(ticket, draft, address, now, department_on=on, own=own)
        if reason:
            log.info("No auto-response for %s: %s", ticket.number, reason)
            record(
                actor=AUTORESPONSE_ACTOR,
                action="email.autoresponse_skipped",
                target=ticket,
                after={"to": address, "reason": reason},
            )
            continue
        message = strip_tags(draft.body) if draft.body_format == "html" else draft.body
        rendered = mail_render(TemplateKind.AUTO_RESPONSE, ticket, message=message.strip())
        # A ticket opened by e-mail keeps the message's id: the auto-response answers that message.
        answers = str((draft.extra or {}).get("message-id") or "") if ticket.source == Source.EMAIL else ""
        outbound_queue(
            ticket=ticket,
            entry=None,
            kind=OutboundKind.AUTO_RESPONSE,
            to=address,
            rendered=rendered,
            answers=answers[:255],
        )


def describe_skipped(event: AuditEvent) -> str:
    """The ticket history's words for `email.autoresponse_skipped`."""
    reason = (event.after or {}).get("reason") or ""
    return f"sent no auto-response: {reason}".rstrip(": ")
