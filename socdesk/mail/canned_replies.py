"""A ticket filter's "reply with canned response": the reply is posted through the ticket services.

The filters (socdesk.routing.apply) leave `(canned response id, filter id, filter name)` in the draft's
hints; this after-create hook runs after routing's, in the ticket's transaction, and adds the reply as
the "ticket-filters" system actor, so it is audited as `ticket.replied` and queued for e-mail like any
reply (socdesk.mail.outbound). A canned response deleted since the filter was saved leaves an internal
note saying so instead: the ticket is never refused over it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from socdesk.mail.canned import canned_files, canned_render
from socdesk.mail.models import CannedResponse
from socdesk.routing.apply import CANNED_REPLIES, FILTERS_ACTOR
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft, ticket_note, ticket_reply

log = logging.getLogger(__name__)


def canned_replies_after_create(tickets: list[Ticket], drafts: list[TicketDraft], now: datetime) -> None:
    """The tickets after-create hook: each canned reply the filters asked for, in their order."""
    for ticket, draft in zip(tickets, drafts, strict=True):
        wanted = draft.hints.get(CANNED_REPLIES) or ()
        for canned_id, _filter_id, filter_name in wanted:
            canned = CannedResponse.objects.prefetch_related("attachments").filter(pk=canned_id).first()
            if canned is None:
                log.warning("Ticket filter %r: canned response %s no longer exists.", filter_name, canned_id)
                ticket_note(
                    actor=FILTERS_ACTOR,
                    ticket=ticket,
                    body=f"The ticket filter {filter_name!r} could not reply: its canned response "
                    f"(id {canned_id}) no longer exists.",
                )
                continue
            ticket_reply(
                actor=FILTERS_ACTOR,
                ticket=ticket,
                body=canned_render(canned, ticket),
                attachments=canned_files(canned),
            )
        if wanted:
            ticket.refresh_from_db()  # the caller keeps working with its own object
