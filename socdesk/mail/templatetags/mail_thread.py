"""The e-mail line under each reply of a ticket's thread (tickets' template reads it: tickets sits below
mail and does not import it)."""

from __future__ import annotations

from django import template

from socdesk.mail.models import OutboundMessage
from socdesk.mail.outbound import outbound_by_entry
from socdesk.tickets.models import Ticket

register = template.Library()


@register.simple_tag(name="thread_emails")
def thread_emails_tag(ticket: Ticket) -> dict[int, OutboundMessage]:
    """The latest e-mail of each entry of the ticket's thread, by entry id (one query)."""
    return outbound_by_entry(ticket)


@register.filter(name="email_of")
def email_of(emails: dict[int, OutboundMessage], entry_id: int) -> OutboundMessage | None:
    return emails.get(entry_id)
