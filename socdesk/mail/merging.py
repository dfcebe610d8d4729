"""The mail app's part of a ticket merge: the e-mails of the merged ticket's thread.

Registered with socdesk.tickets.merge_hooks when the app loads. The messages sent and received on the
duplicate follow its thread to the survivor, so a reply to one of them (matched by Message-ID) lands on
the survivor rather than reopening the duplicate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socdesk.mail.models import InboundMessage, OutboundMessage
from socdesk.tickets.merge_hooks import MergeMover
from socdesk.tickets.merge_movers import plural
from socdesk.tickets.models import Ticket


def describe(source: Ticket, target: Ticket) -> str | None:
    count = OutboundMessage.objects.filter(ticket=source).count()
    count += InboundMessage.objects.filter(ticket=source).count()
    return plural(count, "e-mail") if count else None


def move(source: Ticket, target: Ticket, now: datetime) -> dict[str, Any]:
    sent = list(OutboundMessage.objects.filter(ticket=source).order_by("pk").values_list("pk", flat=True))
    received = list(InboundMessage.objects.filter(ticket=source).order_by("pk").values_list("pk", flat=True))
    OutboundMessage.objects.filter(pk__in=sent).update(ticket=target)
    InboundMessage.objects.filter(pk__in=received).update(ticket=target)
    return {"sent": sent, "received": received} if sent or received else {}


def undo(source: Ticket, target: Ticket, moved: dict[str, Any]) -> None:
    OutboundMessage.objects.filter(pk__in=moved.get("sent", []), ticket=target).update(ticket=source)
    InboundMessage.objects.filter(pk__in=moved.get("received", []), ticket=target).update(ticket=source)


MOVER = MergeMover("mail", describe, move, undo)
