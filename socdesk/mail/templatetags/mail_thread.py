"""The e-mail lines under the entries of a ticket's thread: a reply's e-mail, a received message's HTML
version (tickets' template reads them: tickets sits below mail and does not import it)."""

from __future__ import annotations

from django import template

from socdesk.mail.inbound_html import inbound_html_by_entry
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


@register.simple_tag(name="thread_html_versions")
def thread_html_versions_tag(ticket: Ticket) -> dict[int, int]:
    """The received e-mail with an HTML part behind each entry of the ticket's thread: entry id -> the
    InboundMessage id its HTML version is shown by (one query)."""
    return inbound_html_by_entry(ticket)


@register.filter(name="html_version_of")
def html_version_of(versions: dict[int, int], entry_id: int) -> int | None:
    return versions.get(entry_id)
