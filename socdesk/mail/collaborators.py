"""The people an incoming e-mail was copied to become the ticket's collaborators.

A person who writes to the SOC and copies their manager expects the manager to hear the answer: the
message's Cc, and its To other than SOCdesk's own addresses, are copied on the ticket
(`SOCDESK_MAIL_CC_COLLABORATORS`, on by default). Never SOCdesk's own addresses (departments', the sender
address of its mail), never the sender; the tickets service skips the requester, agents and who is on
the ticket already. Automatic mail adds nobody: an auto-reply's recipients are not a conversation.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from socdesk.core.actor import Actor
from socdesk.mail.loops import is_own_address
from socdesk.mail.own import own_addresses
from socdesk.mail.parse import ParsedMessage
from socdesk.tickets.models import Collaborator, Ticket
from socdesk.tickets.services import collaborators_add_from_email

# A message copied to more people than this is a list or a mass mailing, not a conversation: only the
# first ones are taken (each is a contact, a row and an audit event).
MAX_COPIED = 50


def copied_addresses(parsed: ParsedMessage, own: Iterable[str]) -> list[str]:
    """The message's To and Cc that may become collaborators (pure): not ours (ignoring case and
    plus-tags), not the sender, each once, in order, at most MAX_COPIED."""
    own = list(own)
    sender = (parsed.from_address or "").lower()
    found: dict[str, None] = {}
    for address in (*parsed.to, *parsed.cc):
        address = address.strip().lower()
        if address and address != sender and not is_own_address(address, own):
            found.setdefault(address, None)
    return list(found)[:MAX_COPIED]


def collaborators_from_message(parsed: ParsedMessage, ticket: Ticket, author: Actor) -> list[Collaborator]:
    """Copy on the ticket the people the message was sent to (see the module); `author` is who wrote it
    (the requester, a collaborator, an agent), recorded as having added them. The ones added."""
    if not settings.SOCDESK_MAIL_CC_COLLABORATORS or parsed.automated:
        return []
    addresses = copied_addresses(parsed, own_addresses())
    if not addresses:
        return []
    return collaborators_add_from_email(
        actor=author, ticket=ticket, people=[("", address) for address in addresses]
    )
