"""Where the apps above tickets act on the one ticket path (tickets imports nothing above them).

Every ticket is opened by `ticket_create_many` and every change to one is recorded by
`record_ticket_event`, whatever the channel (console, REST, osTicket and TheHive APIs, webhooks,
ingest, email). Apps register here when they load (their AppConfig.ready), so routing, SLA,
auto-assignment and notifications hook in once and every channel gets them:

before_create(drafts)                 before the batch is checked and written: may change each draft
                                      (department, team, assignee, severity, tags, hints) or raise a
                                      ServiceError (a PermissionDenied for a rule's refusal) to refuse
                                      the batch. Runs in the caller's transaction.
after_create(tickets, drafts, now)    after the tickets, their first entries and `ticket.created`
                                      events are written, in the same transaction, drafts in the same
                                      order as tickets.
after_change(change)                  after one ticket change is written and audited (reply, note,
                                      status, severity, assignment, transfer, tags, edit ...), in the
                                      same transaction; `change.action` is its audit action.
figures_touched(ticket_ids)           after something a ticket's figures depend on changed without a
                                      ticket change (alert repeats, SLA targets decided by the scan,
                                      the ticket deleted), in the same transaction: one call per batch.
reply_notice(entry)                   after an agent's reply is saved: (sentence, ok) for the console,
                                      saying what became of it outside SOCdesk (the mail app: "Reply
                                      queued for e-mail to ..."); ok False shows it as a warning. The
                                      first app that answers is shown.

A hook that writes to the ticket uses the ticket services (and so audits what it does); one that reaches
outside (mail, webhooks) does so after commit (`transaction.on_commit`) or through a worker job.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socdesk.core.actor import Actor
    from socdesk.tickets.models import ThreadEntry, Ticket
    from socdesk.tickets.services.lifecycle import TicketDraft


@dataclass(frozen=True)
class TicketChange:
    """One change to a ticket, as its audit event records it."""

    actor: Actor
    action: str
    ticket: Ticket
    before: dict[str, Any]
    after: dict[str, Any]


BeforeCreate = Callable[[list["TicketDraft"]], None]
AfterCreate = Callable[[list["Ticket"], list["TicketDraft"], datetime], None]
AfterChange = Callable[[TicketChange], None]
ReplyNotice = Callable[["ThreadEntry"], "tuple[str, bool] | None"]
FiguresTouched = Callable[[Collection[int]], None]

before_create: list[BeforeCreate] = []
after_create: list[AfterCreate] = []
after_change: list[AfterChange] = []
reply_notices: list[ReplyNotice] = []
figures_touched: list[FiguresTouched] = []


def hook_register(
    *,
    before: BeforeCreate | None = None,
    created: AfterCreate | None = None,
    changed: AfterChange | None = None,
    reply_notice: ReplyNotice | None = None,
    touched: FiguresTouched | None = None,
) -> None:
    """Add an app's hooks (once each, in the order apps load)."""
    if touched is not None and touched not in figures_touched:
        figures_touched.append(touched)
    if reply_notice is not None and reply_notice not in reply_notices:
        reply_notices.append(reply_notice)
    for registry, hook in ((before_create, before), (after_create, created), (after_change, changed)):
        if hook is not None and hook not in registry:
            registry.append(hook)  # type: ignore[arg-type]


def run_before_create(drafts: list[TicketDraft]) -> None:
    for hook in before_create:
        hook(drafts)


def run_after_create(tickets: list[Ticket], drafts: list[TicketDraft], now: datetime) -> None:
    for hook in after_create:
        hook(tickets, drafts, now)


def run_after_change(change: TicketChange) -> None:
    for hook in after_change:
        hook(change)


def run_figures_touched(ticket_ids: Collection[int]) -> None:
    if ticket_ids:
        for hook in figures_touched:
            hook(ticket_ids)


def run_reply_notice(entry: ThreadEntry) -> tuple[str, bool] | None:
    """The first (sentence, ok) an app has about what became of this reply (None: no app said anything)."""
    for hook in reply_notices:
        notice = hook(entry)
        if notice:
            return notice
    return None
