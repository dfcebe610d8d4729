"""Ingesting a batch of alerts with a few statements per batch instead of about twenty per alert.

A flood is mostly two kinds of alert: new ones that open a ticket and repeats that count on their
open ticket. This module does those two in bulk: it reads the de-dup keys, tickets and alerts the
batch touches in three queries, decides each alert in memory, in order, and then writes every new
ticket, alert, raw payload, observable link, repeat line and audit event with one statement per
table. Whatever else comes up (an alert joining a grouped ticket, a `resolved` notice, a repeat
that raises the severity) is rare and has side effects worth the full services: the plan so far is
written first, then `alert_ingest` handles that one alert, and its key is read afresh afterwards.

The caller holds the ingest lock (see services._one_batch_at_a_time), so no other ingest changes
these keys meanwhile; it runs everything in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Min
from django.utils import timezone

from socdesk.accounts.models import Department
from socdesk.alerts import ticketing
from socdesk.alerts.adapters import NormalisedAlert
from socdesk.alerts.choices import AlertStatus
from socdesk.alerts.models import Alert, AlertRaw, DedupKey, Integration, WebhookDelivery
from socdesk.alerts.ticket_observables import observables_attach_many
from socdesk.audit.services import audit_event, record_many
from socdesk.core.actor import Actor
from socdesk.core.db import bulk_set, insert_new
from socdesk.tickets.choices import SEVERITY_RANK, EntryKind
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import ticket_create_many


@dataclass
class Incoming:
    """One normalised alert of a delivery: its de-dup key hash, observables found, and who sent it."""

    delivery: WebhookDelivery
    alert: NormalisedAlert
    key: str
    pairs: list[tuple[str, str]]  # ticketing.observable_pairs, found before the batch's transaction
    actor: Actor | None = None  # set when the batch is written


@dataclass
class _NewTicket:
    draft: object
    alerts: list[Alert] = field(default_factory=list)


@dataclass
class _Key:
    """What is known of one de-dup key: its row, its open ticket (saved or planned) and its alerts."""

    dedup: DedupKey
    ticket: Ticket | None  # the open ticket in the database, if any
    planned: _NewTicket | None = None  # a ticket this batch opens for the key
    alerts: dict[str, Alert] = field(default_factory=dict)  # by fingerprint, on the open ticket


@dataclass
class _Repeat:
    """An alert's repeats in this batch: its state before them and how many each sender made."""

    before_count: int
    before_status: str
    senders: dict[tuple[str, str], list] = field(default_factory=dict)  # (kind, ident) -> [actor, n]
    last: Actor | None = None


class BatchIngest:
    """Plan the batch's alerts in memory and write them in bulk; see the module docstring."""

    def __init__(self, source_of) -> None:
        self.source_of = source_of  # delivery -> adapter name
        self.now = timezone.now()
        self.keys: dict[str, _Key] = {}
        self._default_department: Department | None = None
        self._reset_plan()

    def _reset_plan(self) -> None:
        self.new_tickets: list[_NewTicket] = []
        self.new_alerts: list[tuple[Incoming, Alert]] = []
        self.repeats: dict[int, tuple[Alert, _Repeat]] = {}  # id(alert) -> alert, counts
        self.changed_keys: dict[str, DedupKey] = {}

    # --- deciding ---------------------------------------------------------------------------------

    def ingest(self, items: list[Incoming]) -> None:
        """Ingest the items in order (the caller sorted each delivery's alerts by key)."""
        self._load({item.key: item.alert.dedup_key[:300] for item in items})
        for item in items:
            if not self._plan(item):
                self.flush()
                from socdesk.alerts.services import alert_ingest

                alert_ingest(
                    actor=item.actor,
                    alert=item.alert,
                    source=self.source_of(item.delivery),
                    integration=item.delivery.integration,
                    delivery=item.delivery,
                )
                self.keys.pop(item.key, None)
                self._load({item.key: item.alert.dedup_key[:300]})
        self.flush()

    def _plan(self, item: Incoming) -> bool:
        """Add the alert to the plan; False when it needs the one-at-a-time services instead."""
        state, alert = self.keys[item.key], item.alert
        fingerprint = alert.fingerprint[:255]
        if state.ticket is not None or state.planned is not None:
            existing = state.alerts.get(fingerprint)
            if existing is None or alert.status == AlertStatus.RESOLVED:
                return False  # joins a grouped ticket, or a resolved notice
            if SEVERITY_RANK.get(alert.severity, 0) > SEVERITY_RANK.get(existing.severity, 0):
                return False  # raises the ticket's severity
            self._repeat(item, existing)
            return True
        if alert.status == AlertStatus.RESOLVED:
            return False
        if item.actor.agent is not None:
            return False  # an agent's personal token opens tickets with their permission checks
        self._open(item, state)
        return True

    def _repeat(self, item: Incoming, existing: Alert) -> None:
        _, counts = self.repeats.setdefault(
            id(existing), (existing, _Repeat(existing.occurrence_count, existing.status))
        )
        sender = counts.senders.setdefault((item.actor.kind, item.actor.ident), [item.actor, 0])
        sender[1] += 1
        counts.last = item.actor
        existing.occurrence_count += 1
        existing.last_seen = self.now
        existing.status = AlertStatus.FIRING
        existing.resolved_at = None
        existing.delivery = item.delivery

    def _open(self, item: Incoming, state: _Key) -> None:
        integration = item.delivery.integration
        previous = state.dedup.ticket  # a resolved or closed ticket of the same key, or None
        source = self.source_of(item.delivery)
        draft = ticketing.ticket_draft(
            actor=item.actor,
            alert=item.alert,
            source=source,
            integration=integration,
            previous=previous,
            department=self._department(integration),
        )
        planned = _NewTicket(draft)
        row = ticketing.alert_row(
            alert=item.alert,
            source=source,
            integration=integration,
            delivery=item.delivery,
            dedup=state.dedup,
            ticket=None,
            previous=previous,
            now=self.now,
        )
        planned.alerts.append(row)
        self.new_tickets.append(planned)
        self.new_alerts.append((item, row))
        state.planned, state.alerts = planned, {row.fingerprint: row}
        self.changed_keys[item.key] = state.dedup

    def _department(self, integration: Integration | None) -> Department:
        if integration is not None and integration.department_id:
            return integration.department
        if self._default_department is None:
            self._default_department = ticketing.default_department(None)
        return self._default_department

    # --- reading ----------------------------------------------------------------------------------

    def _load(self, labels: dict[str, str]) -> None:
        """Read the keys not known yet, their open tickets and those tickets' alerts (four queries)."""
        wanted = {key: label for key, label in labels.items() if key not in self.keys}
        if not wanted:
            return
        DedupKey.objects.bulk_create(
            [DedupKey(key=key, label=label) for key, label in sorted(wanted.items())], ignore_conflicts=True
        )
        dedups = DedupKey.objects.filter(key__in=list(wanted))
        if connection.vendor != "postgresql":
            dedups = list(dedups.select_related("ticket"))
        else:
            dedups = list(dedups)
            # Lock the keys' tickets for the batch, in id order, and read them afresh: an analyst
            # resolving one meanwhile waits for this commit, so no repeat counts on a ticket resolved
            # under it (SQLite's writer lock serialises the two already).
            ids = sorted({d.ticket_id for d in dedups if d.ticket_id})
            fresh = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=ids).order_by("id")}
            for dedup in dedups:
                if dedup.ticket_id:
                    dedup.ticket = fresh.get(dedup.ticket_id)
        open_tickets = {d.ticket_id: d.ticket for d in dedups if d.ticket is not None and d.ticket.is_open}
        first_ids = (
            Alert.objects.filter(ticket_id__in=list(open_tickets))
            .values("ticket_id", "fingerprint")
            .annotate(first=Min("id"))
            .values_list("first", flat=True)
        )
        alerts: dict[int, dict[str, Alert]] = {}
        if open_tickets:
            for alert in Alert.objects.filter(pk__in=first_ids):
                alert.ticket = open_tickets[alert.ticket_id]  # no query per alert later
                alerts.setdefault(alert.ticket_id, {})[alert.fingerprint] = alert
        for dedup in dedups:
            ticket = open_tickets.get(dedup.ticket_id)
            self.keys[dedup.key] = _Key(
                dedup=dedup, ticket=ticket, alerts=alerts.get(dedup.ticket_id, {}) if ticket else {}
            )

    # --- writing ----------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write the plan: tickets, alerts, raw payloads, key moves, observables, repeats, audit."""
        tickets = ticket_create_many([planned.draft for planned in self.new_tickets])
        for planned, ticket in zip(self.new_tickets, tickets, strict=True):
            for row in planned.alerts:
                row.ticket = ticket
        for key, dedup in self.changed_keys.items():
            state = self.keys[key]
            dedup.ticket = state.ticket = state.planned.alerts[0].ticket
            state.planned = None
        rows = [row for _, row in self.new_alerts]
        insert_new(rows)
        insert_new(
            [
                AlertRaw(alert=row, payload=item.alert.raw if item.alert.raw is not None else {})
                for item, row in self.new_alerts
            ]
        )
        bulk_set(list(self.changed_keys.values()), ["ticket"])
        links = [
            ticketing.observable_links(item.alert, row.ticket, row, item.pairs)
            for item, row in self.new_alerts
        ]
        observables_attach_many(links, now=self.now, fresh=True)
        events = [
            ticketing.ingested_event(
                actor=item.actor, record_=row, source=row.source, observables=len(link.pairs)
            )
            for (item, row), link in zip(self.new_alerts, links, strict=True)
        ]
        events += self._write_repeats()
        record_many(events)
        self._reset_plan()

    def _write_repeats(self) -> list:
        """Keep each repeated alert's one thread line up to date, save the counts; the audit events."""
        if not self.repeats:
            return []
        repeated = [alert for alert, _ in self.repeats.values()]
        reusable = {
            entry.pk: entry
            for entry in ThreadEntry.objects.filter(
                pk__in=[a.repeat_entry_id for a in repeated if a.repeat_entry_id], kind=EntryKind.EVENT
            ).only("id", "ticket_id", "body")
        }
        changed, created = [], []
        for alert, counts in self.repeats.values():
            text = ticketing.repeat_text(alert, self.now)
            entry = reusable.get(alert.repeat_entry_id)
            if entry is not None and entry.ticket_id == alert.ticket_id:
                entry.body = text
                changed.append(entry)
            else:
                entry = ThreadEntry(
                    ticket_id=alert.ticket_id,
                    kind=EntryKind.EVENT,
                    author_agent=counts.last.agent,
                    author_label=counts.last.label[:200],
                    body=text,
                    created_at=self.now,
                )
                created.append((alert, entry))
        bulk_set(changed, ["body"])
        insert_new([entry for _, entry in created])
        for alert, entry in created:
            alert.repeat_entry_id = entry.pk
        bulk_set(
            repeated,
            ["occurrence_count", "last_seen", "status", "resolved_at", "delivery", "repeat_entry_id"],
        )
        Ticket.objects.filter(pk__in={a.ticket_id for a in repeated}).update(last_activity_at=self.now)
        # One event per alert and sender: who sent how many repeats, and the count before and after.
        return [
            audit_event(
                actor=actor,
                action="alert.deduplicated",
                target=alert,
                target_label=f"{alert.source}: {alert.title}"[:200],
                before={"occurrence_count": counts.before_count, "status": counts.before_status},
                after={
                    "occurrence_count": alert.occurrence_count,
                    "ticket": alert.ticket.number,
                    "status": alert.status,
                    "repeats": repeats,
                },
            )
            for alert, counts in self.repeats.values()
            for actor, repeats in counts.senders.values()
        ]
