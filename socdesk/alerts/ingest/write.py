"""Applying a plan: the one writer of alert ingest, a few statements per table per batch.

`ingest` is the engine's entry point for a batch of alerts (a single alert is a batch of one): it
reads the batch's state, lets the planner decide each alert in order (socdesk.alerts.ingest.plan)
and writes the plan. The caller holds the ingest lock and the transaction (see
socdesk.alerts.ingest.deliveries).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, F, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from socdesk.alerts.ingest.plan import Incoming, Plan, Planner, TicketSlot
from socdesk.alerts.models import Alert, AlertRaw, AlertsPerMinute
from socdesk.alerts.ticket_observables import observables_attach_many
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record_many
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.metrics import ALERTS_PROCESSED, count_after_commit
from socdesk.routing import snapshot
from socdesk.tickets.hooks import run_figures_touched
from socdesk.tickets.models import Ticket
from socdesk.tickets.search import search_index
from socdesk.tickets.services import (
    ticket_change_severity,
    ticket_change_status,
    ticket_create_many,
    ticket_event_lines_write,
)

# The ticket changes a plan may ask for, by name (see Planner._raise_severity, _maybe_auto_resolve).
TICKET_CHANGES: dict[str, Callable[..., Ticket]] = {
    "severity": ticket_change_severity,
    "status": ticket_change_status,
}
ALERT_FIELDS = [
    "occurrence_count",
    "last_seen",
    "status",
    "resolved_at",
    "delivery",
    "repeat_entry_id",
    "severity",
]


def ingest(items: list[Incoming], *, now: datetime | None = None) -> list[Alert | None]:
    """Decide and write a batch of alerts, in order; returns each item's alert row (or None)."""
    writer = Writer(now or timezone.now())
    planner = Planner(clock=lambda: writer.now, plan=writer.plan, change=writer.change)
    with snapshot.pinned():  # the batch's rules, SLA and assignment follow one routing configuration
        planner.load(items)
        rows = [planner.decide(item) for item in items]
        writer.flush()
        planner.finish()
    count_after_commit(ALERTS_PROCESSED, len(items))
    alerts_per_minute_add(len(items), writer.now)
    return rows


def alerts_per_minute_add(count: int, now: datetime) -> None:
    """Count a batch's alerts in its minute's row (one upsert per batch; the dashboard's alert rate)."""
    if count:
        sql.upsert_add(
            AlertsPerMinute, ["minute"], ["alerts"], [(now.replace(second=0, microsecond=0), count)]
        )


def alert_occurrences_refresh(
    ticket_ids: set[int], *, active: Sequence[Ticket] = (), now: datetime | None = None
) -> None:
    """Recount Ticket.alert_occurrences for these tickets from their alerts, in one UPDATE.

    Recounted rather than incremented: whatever the batch did (new alerts, repeats, an alert that came
    back on a new ticket), the column ends equal to the sum it stands for. Not audited and not a new
    ticket version: it is a copy of the alerts' counts, whose changes have their own audit events.
    `active` (all among `ticket_ids`) also get `now` as their activity time in the same UPDATE, as
    `ticket_event_lines_write` would give it: one new version of each row instead of two.
    """
    if not ticket_ids:
        return
    total = (
        Alert.objects.filter(ticket_id=OuterRef("pk"))
        .order_by()
        .values("ticket_id")
        .annotate(total=Sum("occurrence_count"))
        .values("total")
    )
    changes: dict[str, Any] = {"alert_occurrences": Coalesce(Subquery(total), Value(0))}
    if active and now is None:
        raise ValueError("alert_occurrences_refresh: tickets made active need `now`, their activity time")
    if active and now is not None:
        active_ids = {ticket.pk for ticket in active}
        # All of them active (a batch of repeats): a plain value, no CASE to evaluate per row.
        changes["last_activity_at"] = (
            Value(now)
            if active_ids >= ticket_ids
            else Case(When(pk__in=sorted(active_ids), then=Value(now)), default=F("last_activity_at"))
        )
        for ticket in active:
            ticket.last_activity_at = now
    Ticket.objects.filter(pk__in=sorted(ticket_ids)).update(**changes)


class Writer:
    """Writes a `Plan` in bulk, and makes the ticket changes the planner asks for on the spot."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.plan = Plan()

    def flush(self) -> None:
        """Write everything planned so far, in dependency order, then start an empty plan."""
        plan = self.plan
        if not plan:
            return
        opened = self._open_tickets(plan.new_tickets, plan.new_alerts)
        fresh = {id(dedup) for dedup in plan.new_keys}
        for dedup, slot in plan.moved_keys.values():
            dedup.ticket = slot.ticket
        sql.insert_new(plan.new_keys)
        sql.bulk_set([dedup for dedup, _ in plan.moved_keys.values() if id(dedup) not in fresh], ["ticket"])
        for entry, slot in plan.new_lines:
            entry.ticket = slot.written()
        rows = []
        for _, row, slot in plan.new_alerts:
            row.ticket = slot.ticket
            rows.append(row)
        counted = {row.ticket_id for row in [*rows, *plan.changed_alerts.values()] if row.ticket_id}
        # The tickets opened just now went in with their count (`_open_tickets`), unless an alert
        # written before moved onto one of them: only the others are recounted.
        moved = {row.ticket_id for row in plan.changed_alerts.values()}
        recounted = counted - ({slot.written().pk for slot in plan.new_tickets} - moved)
        # A ticket opened (or already touched) at this batch time has its activity time already; one
        # that is recounted below gets it in the recount's UPDATE, not in a second one.
        touched = [
            ticket
            for ticket in (slot.written() for slot in plan.touched.values())
            if ticket.last_activity_at != self.now
        ]
        ticket_event_lines_write(
            new=[entry for entry, _ in plan.new_lines],
            rewritten=list(plan.changed_lines.values()),
            tickets=[ticket for ticket in touched if ticket.pk not in recounted],
            now=self.now,
        )
        for row in [*rows, *plan.changed_alerts.values()]:
            line = getattr(row, "_repeat_line", None)
            if line is not None:
                row.repeat_entry_id = line.pk
        sql.insert_new(rows)
        # Nothing reads the payloads back in this transaction: plain rows, no model instances.
        sql.copy_rows(
            AlertRaw,
            ["alert_id", "payload"],
            [
                (row.pk, item.alert.raw if item.alert.raw is not None else {})
                for item, row, _ in plan.new_alerts
            ],
        )
        sql.bulk_set(list(plan.changed_alerts.values()), ALERT_FIELDS)
        alert_occurrences_refresh(
            recounted, active=[ticket for ticket in touched if ticket.pk in recounted], now=self.now
        )
        # Alert counts feed the SOC metrics: the apps above mark the tickets whose count changed (one
        # insert); those opened in this batch were marked when they were created.
        run_figures_touched(counted - {slot.ticket.pk for slot in plan.new_tickets if slot.ticket})
        for links, slot in plan.links:
            links.ticket = slot.written()
        # Links to tickets opened just now cannot exist yet: they go in without the conflict check.
        observables_attach_many(
            [lk for lk, slot in plan.links if id(slot) in opened], now=self.now, fresh=True, index=False
        )
        observables_attach_many(
            [lk for lk, slot in plan.links if id(slot) not in opened], now=self.now, index=False
        )
        # One search upsert for the batch: the tickets opened, and those that got alerts or observables
        # (a repeat only counts up, which changes nothing that is searched).
        search_index(
            {row.ticket_id for row in rows} | {links.ticket.pk for links, _ in plan.links if links.ticket}
        )
        record_many([event() if callable(event) else event for event in plan.events])
        plan.clear()

    def _open_tickets(
        self, slots: list[TicketSlot], alerts: list[tuple[Incoming, Alert, TicketSlot]]
    ) -> set[int]:
        """Open the planned tickets, each with the occurrences of its new alerts; returns the slots' ids.

        Counted here so that a new ticket's row is written once: updating it straight after its insert
        would write a second copy of the row and of every index entry.
        """
        occurrences: dict[int, int] = {}
        for _, row, slot in alerts:
            occurrences[id(slot)] = occurrences.get(id(slot), 0) + row.occurrence_count
        drafts = [slot.opening() for slot in slots]
        for draft, slot in zip(drafts, slots, strict=True):
            draft.alert_occurrences = occurrences.get(id(slot), 0)
        events: list[AuditEvent] = []
        tickets = ticket_create_many(drafts, now=self.now, record=events.extend, index=False)
        for slot, ticket, event in zip(slots, tickets, events, strict=True):
            slot.ticket, slot.draft, slot.created_event = ticket, None, event
        return {id(slot) for slot in slots}

    def change(self, actor: Actor, slot: TicketSlot, steps: list[tuple[str, dict[str, Any]]]) -> str | None:
        """Write the plan so far, then change the ticket through its services: all steps or none.

        Returns None when done, or why the tickets services refused (the ticket is left as it was).
        What the batch writes afterwards is stamped after the services' own thread lines and events,
        so the thread reads in the order things happened.
        """
        self.flush()
        ticket = slot.written()
        try:
            with transaction.atomic():
                for name, arguments in steps:
                    ticket = TICKET_CHANGES[name](actor=actor, ticket=ticket, **arguments)
        except ServiceError as exc:
            return exc.message
        finally:
            self.now = max(self.now, timezone.now())
        # The services return a fresh copy; the plan's rows and keys all hold the slot's object.
        for field in type(ticket)._meta.concrete_fields:
            setattr(slot.ticket, field.attname, getattr(ticket, field.attname))
        return None
