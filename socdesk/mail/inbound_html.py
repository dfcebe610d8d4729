"""A received message's HTML version, for agents: found by the ticket they may see, served as a page of
its own under a Content-Security-Policy sandbox (docs/email.md, "The HTML version").

The reader already sanitised it (nh3: no scripts, no event handlers, no unknown URL schemes). The sandbox
is the second wall: the page runs no script whatever slipped through, has an origin of its own (no
console cookies, no console requests), loads nothing from anywhere, and shows remote images (often
tracking pixels telling the sender the mail was read) only when the agent asks for them.
"""

from __future__ import annotations

from django.db.models import QuerySet

from socdesk.accounts.models import Agent
from socdesk.core.errors import NotFound
from socdesk.mail.models import InboundMessage
from socdesk.tickets.models import Ticket
from socdesk.tickets.selectors import tickets_visible_to

# Styles only from SOCdesk's own static files (the bar above the mail; the reader removed the mail's own).
POLICY = "default-src 'none'; style-src 'self'; img-src {images}; form-action 'none'; sandbox"


def inbound_html_by_entry(ticket: Ticket) -> dict[int, int]:
    """Entry id -> the received message (with an HTML part) behind it, for the ticket's thread."""
    found = InboundMessage.objects.filter(ticket=ticket, entry__isnull=False).exclude(html="")
    return dict(found.values_list("entry_id", "pk"))


def inbound_html_get_for_agent(agent: Agent, message_id: int) -> InboundMessage:
    """The received message if it has an HTML version and the agent may see its ticket; NotFound
    otherwise (never 'forbidden')."""
    found: QuerySet[InboundMessage] = InboundMessage.objects.select_related("ticket").filter(
        pk=message_id, ticket__in=tickets_visible_to(agent)
    )
    message = found.exclude(html="").first()
    if message is None:
        raise NotFound("That e-mail's HTML version was not found.")
    return message


def html_policy(remote_images: bool) -> str:
    """The HTML version's Content-Security-Policy: nothing loads or runs; remote images on request."""
    return POLICY.format(images="data: https: http:" if remote_images else "data:")
