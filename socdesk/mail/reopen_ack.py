"""The "reopened by your reply" acknowledgement: a requester whose e-mail reopened their resolved or closed
ticket is told so, from an editable template (Admin → Mail templates), threaded on their message.

The same loop protection as the auto-response (socdesk.mail.autoresponse): never to automatic mail,
machine senders, SOCdesk's own addresses or a banned sender, not when the department turned it off, and
within SOCDESK_MAIL_AUTORESPONSE_LIMIT automatic e-mails to one address an hour. A reason not to send is
recorded as `email.reopen_ack_skipped` on the ticket (shown in its history). See docs/email.md.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from socdesk.accounts.models import Department
from socdesk.accounts.onboarding import outbound_mail_configured
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record
from socdesk.mail.autoresponse import AUTORESPONSE_ACTOR, recipient_refusal
from socdesk.mail.mail_templates import mail_render
from socdesk.mail.models import OutboundKind, OutboundMessage, TemplateKind
from socdesk.mail.outbound import outbound_queue
from socdesk.tickets.models import Ticket

log = logging.getLogger(__name__)


def reopen_ack_skip_reason(ticket: Ticket, address: str, automated: str) -> str:
    """Why the requester who reopened the ticket gets no acknowledgement, as a sentence; "" when they do."""
    # Read from the database: the ticket's department object may predate a change of the switch.
    if not Department.objects.filter(pk=ticket.department_id, reopen_ack=True).exists():
        return f"Reopening acknowledgements are off for the department {ticket.department.name}."
    if automated:
        return f"The e-mail that reopened it is automatic: {automated}"
    return recipient_refusal(address, timezone.now())


def reopen_ack_queue(
    *, ticket: Ticket, address: str, automated: str, answers: str, message: str
) -> OutboundMessage | None:
    """Queue the acknowledgement to `address` (the requester) of the reply that reopened the ticket, in
    the reply's transaction, answering that reply (`answers`, `<id>`); or record why not. None when
    nothing was queued (not configured mail and no address are only logged, as for auto-responses)."""
    address = address.strip().lower()
    if not address or not outbound_mail_configured():
        log.debug("No reopening acknowledgement for %s: no address, or mail not configured.", ticket.number)
        return None
    reason = reopen_ack_skip_reason(ticket, address, automated)
    if reason:
        log.info("No reopening acknowledgement for %s: %s", ticket.number, reason)
        record(
            actor=AUTORESPONSE_ACTOR,
            action="email.reopen_ack_skipped",
            target=ticket,
            after={"to": address, "reason": reason},
        )
        return None
    rendered = mail_render(TemplateKind.REOPEN_ACK, ticket, message=message.strip())
    return outbound_queue(
        ticket=ticket,
        entry=None,
        kind=OutboundKind.REOPEN_ACK,
        to=address,
        rendered=rendered,
        answers=answers[:255],
    )


def describe_reopen_ack_skipped(event: AuditEvent) -> str:
    """The ticket history's words for `email.reopen_ack_skipped`."""
    reason = (event.after or {}).get("reason") or ""
    return f"sent no reopening acknowledgement: {reason}".rstrip(": ")
