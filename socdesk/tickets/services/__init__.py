"""The ticket services: the only code that writes tickets, their threads and their tags.

Views, API endpoints, the alert pipeline, mail handlers and jobs change a ticket only by calling one of
these. Each is keyword-only, runs in one transaction, locks the ticket row, checks the actor's permission
(and, when given, the version the caller read), writes, bumps `version` and `last_activity_at`, and
records its audit event. `ticket_update` applies several changes at once through the others.

The modules, by concept: `numbering` (ticket numbers), `tags`, `lifecycle` (open, open a batch, delete),
`thread` (replies, notes, messages, alert ingest's event lines), `assignment` (assign, claim, release,
transfer), `fields` (status, severity, subject and due date), `update` (several changes in one step),
`saved_searches` (queue filters agents keep under a name), `collaborators` (contacts copied on a
ticket), `links` (related, duplicate and parent/child links between tickets), `merge` (merging a
duplicate into the ticket that survives, and undoing it the same day), `autoclose` (resolved tickets
closing by themselves after their department's quiet days);
`steps` holds what they share. Import the services from this package, not from its modules.
"""

from socdesk.tickets.services.assignment import (
    ticket_assign,
    ticket_claim,
    ticket_release,
    ticket_transfer,
)
from socdesk.tickets.services.autoclose import AutocloseReport, tickets_autoclose, tickets_due_for_autoclose
from socdesk.tickets.services.collaborators import (
    collaborator_add,
    collaborator_remove,
    collaborators_add_from_email,
)
from socdesk.tickets.services.fields import (
    ticket_change_severity,
    ticket_change_status,
    ticket_edit,
    ticket_store_custom_values,
)
from socdesk.tickets.services.lifecycle import (
    TicketDraft,
    ticket_create,
    ticket_create_many,
    ticket_delete,
    ticket_drafts_check,
)
from socdesk.tickets.services.links import ticket_link, ticket_unlink
from socdesk.tickets.services.merge import merge_undo_refusal, ticket_merge, ticket_merge_undo
from socdesk.tickets.services.numbering import (
    TICKET_NUMBER_COUNTER,
    TICKET_NUMBER_START,
    next_ticket_number,
)
from socdesk.tickets.services.saved_searches import (
    saved_search_create,
    saved_search_delete,
    saved_search_move,
    saved_search_update,
)
from socdesk.tickets.services.tags import normalise_tags, ticket_set_tags
from socdesk.tickets.services.thread import (
    ticket_add_message,
    ticket_event_lines_write,
    ticket_note,
    ticket_reply,
)
from socdesk.tickets.services.update import UNSET, TicketChanges, ticket_update

__all__ = [
    "TICKET_NUMBER_COUNTER",
    "TICKET_NUMBER_START",
    "UNSET",
    "AutocloseReport",
    "TicketChanges",
    "TicketDraft",
    "collaborator_add",
    "collaborator_remove",
    "collaborators_add_from_email",
    "merge_undo_refusal",
    "next_ticket_number",
    "normalise_tags",
    "saved_search_create",
    "saved_search_delete",
    "saved_search_move",
    "saved_search_update",
    "ticket_add_message",
    "ticket_assign",
    "ticket_change_severity",
    "ticket_change_status",
    "ticket_claim",
    "ticket_create",
    "ticket_create_many",
    "ticket_delete",
    "ticket_drafts_check",
    "ticket_edit",
    "ticket_event_lines_write",
    "ticket_link",
    "ticket_merge",
    "ticket_merge_undo",
    "ticket_note",
    "ticket_release",
    "ticket_reply",
    "ticket_set_tags",
    "ticket_store_custom_values",
    "ticket_transfer",
    "ticket_unlink",
    "ticket_update",
    "tickets_autoclose",
    "tickets_due_for_autoclose",
]
