"""Deciding what each alert does: the one place where SOCdesk de-duplicates.

`Planner.decide` takes the batch's alerts in order and, for each, picks one outcome:

    new ticket       the key has no open ticket: open one (linked to the key's previous ticket, if any)
    repeat           the alert is already on the key's open ticket: count it, keep its one thread line
                     up to date, raise the ticket's severity if the repeat is more severe
    joins            another alert of a grouped key: a new alert row on the key's open ticket
    resolved notice  the source says the alert cleared: mark it resolved (and, with the integration's
                     auto-resolve on, resolve the ticket once none of its alerts still fires)
    ignored          a resolved notice about an alert SOCdesk never saw firing
    rejected         a ticket filter refuses the ticket a new alert would open: the alert is dropped
                     (counted on its integration and audited as `alert.rejected`), the batch goes on

Everything is decided in memory, against the state `load` read for the batch's keys, and added to a
`Plan` (rows to insert, rows to update, thread lines, audit events, in decision order) that the
writer (socdesk.alerts.ingest.write) applies. A ticket change an analyst would see (severity,
status) is not planned but made at once through the tickets services, by the `change` callback the
writer provides, because what comes next depends on whether it was allowed. A batch of one alert
takes exactly the same path as a batch of five hundred, so the same deliveries end in the same
tickets, thread and audit trail however they were batched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, F

from socdesk.accounts.models import Department
from socdesk.alerts.adapters import NormalisedAlert
from socdesk.alerts.choices import AlertStatus
from socdesk.alerts.ingest.rows import (
    AUTO_RESOLUTION,
    alert_row,
    default_department,
    observable_links,
    repeat_text,
    ticket_draft,
)
from socdesk.alerts.models import Alert, DedupKey, Integration, WebhookDelivery
from socdesk.alerts.ticket_observables import ObservableLinks
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import audit_event
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.instances import unsaved
from socdesk.routing.apply import FilterRun, alert_as_dict
from socdesk.routing.apply_events import event_ruleset, filters_on_event
from socdesk.routing.choices import FilterEvent
from socdesk.tickets.choices import SEVERITY_RANK, EntryKind, Status
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import TicketDraft


@dataclass
class Incoming:
    """One normalised alert of a delivery: its de-dup key hash, observables found, and who sent it."""

    delivery: WebhookDelivery
    alert: NormalisedAlert
    key: str
    pairs: list[tuple[str, str]]  # rows.observable_pairs, found before the batch's transaction
    actor: Actor | None = None  # set when the batch is written

    @property
    def source(self) -> str:
        return self.delivery.adapter

    @property
    def written_by(self) -> Actor:
        """The actor, which the planner may rely on: every item gets one before its batch is planned."""
        if self.actor is None:
            raise ValueError("An alert was planned before its batch set the actor.")
        return self.actor


class TicketSlot:
    """A ticket the batch works on: one that exists (locked for the batch) or one the plan opens.

    `alerts` holds the ticket's alert rows by fingerprint; `firing` counts those still firing (a
    ticket is auto-resolved only when none is).
    """

    def __init__(self, ticket: Ticket | None = None, draft: TicketDraft | None = None) -> None:
        self.ticket = ticket
        self.draft = draft
        self.created_event: AuditEvent | None = None  # set by the writer for a ticket it opens
        self.alerts: dict[str, Alert] = {}
        self.firing = 0

    @property
    def severity(self) -> str:
        return self.ticket.severity if self.ticket is not None else self.opening().severity

    def opening(self) -> TicketDraft:
        """The draft of the ticket the plan opens (until the writer has opened it)."""
        if self.draft is None:
            raise ValueError("This slot holds no ticket draft.")
        return self.draft

    def written(self) -> Ticket:
        """The slot's ticket, once it exists: the writer opens planned tickets before it needs them."""
        if self.ticket is None:
            raise ValueError("The slot's ticket was read before the writer opened it.")
        return self.ticket

    def written_event(self) -> AuditEvent:
        """The `ticket.created` event of a ticket the plan opened (set by the writer when it opens it)."""
        if self.created_event is None:
            raise ValueError("The slot's ticket.created event was read before the writer opened it.")
        return self.created_event

    @property
    def is_open(self) -> bool:
        return self.ticket is None or self.ticket.is_open


@dataclass
class KeyState:
    """What is known of one de-dup key: its row, its open ticket, and the firing alerts it left behind."""

    dedup: DedupKey
    open: TicketSlot | None = None
    # Firing alerts of this key on tickets no longer open, newest last, by fingerprint: where a
    # `resolved` notice lands when the key has no open ticket.
    left_firing: dict[str, list[Alert]] = field(default_factory=dict)


@dataclass
class Plan:
    """The writes decided so far and not yet applied, in decision order."""

    new_keys: list[DedupKey] = field(default_factory=list)  # unsaved; they get their ticket first
    new_tickets: list[TicketSlot] = field(default_factory=list)
    new_alerts: list[tuple[Incoming, Alert, TicketSlot]] = field(default_factory=list)
    links: list[tuple[ObservableLinks, TicketSlot]] = field(default_factory=list)
    moved_keys: dict[int, tuple[DedupKey, TicketSlot]] = field(default_factory=dict)
    changed_alerts: dict[int, Alert] = field(default_factory=dict)  # saved rows, by id(row)
    new_lines: list[tuple[ThreadEntry, TicketSlot]] = field(default_factory=list)
    changed_lines: dict[int, ThreadEntry] = field(default_factory=dict)  # saved lines, by id(entry)
    touched: dict[int, TicketSlot] = field(default_factory=dict)  # last_activity_at = now, by id(slot)
    # Audit events in decision order; a callable builds its event once the rows it names have ids.
    events: list[AuditEvent | Callable[[], AuditEvent]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.new_keys
            or self.new_tickets
            or self.new_alerts
            or self.moved_keys
            or self.changed_alerts
            or self.new_lines
            or self.changed_lines
            or self.touched
            or self.events
        )

    def clear(self) -> None:
        """Start afresh once everything has been written (the planner keeps this same object)."""
        Plan.__init__(self)


# What the writer does for a ticket change: flush the plan, then run the tickets services for the
# steps (all or none); returns None when done (the slot's ticket is refreshed) or why it was refused.
ChangeTicket = Callable[[Actor, TicketSlot, list[tuple[str, dict[str, Any]]]], str | None]


def still_firing(count: int) -> str:
    """How many of a ticket's alerts still fire, as its resolved-notice line says it."""
    if count <= 0:
        return "no alert on this ticket is still firing"
    return f"{count} alert{'s' if count != 1 else ''} on this ticket still firing"


class Planner:
    """Decides each alert of a batch against the state of its keys; see the module docstring."""

    def __init__(self, *, clock: Callable[[], datetime], plan: Plan, change: ChangeTicket) -> None:
        self.clock = clock  # the writer's time: it moves on after a ticket change through a service
        self.plan = plan
        self.change = change
        self.keys: dict[str, KeyState] = {}
        # Existing tickets by id; looked up by nullable foreign keys, so a None key finds nothing.
        self._slots: dict[int | None, TicketSlot] = {}
        self._lines: dict[int, ThreadEntry] = {}  # repeat lines of loaded alerts, by id
        self._departments: dict[int | None, Department] = {}
        # Ticket filters: read once per batch (load); rejected alerts per integration id.
        self.filters: FilterRun | None = None
        self.rejected: Counter[int] = Counter()
        self.repeats_heard = False  # whether a filter listens to repeats (then they are kept below)
        self.repeated: list[tuple[TicketSlot, Incoming]] = []

    @property
    def now(self) -> datetime:
        return self.clock()

    # --- reading ----------------------------------------------------------------------------------

    def load(self, items: list[Incoming]) -> None:
        """Read the batch's keys, their open tickets (locked) with their alerts and repeat lines."""
        self.filters = FilterRun(now=self.now)
        self.repeats_heard = event_ruleset(FilterEvent.ALERT_REPEATED) is not None
        labels = {item.key: item.alert.dedup_key[:300] for item in items}
        dedups = list(DedupKey.objects.filter(key__in=list(labels)))
        # Keys never seen go in with the first flush, pointing at the ticket each opens by then: one
        # INSERT, no UPDATE of a row just written. No other batch can add them meanwhile: the
        # caller holds the ingest lock (socdesk.alerts.ingest.deliveries).
        known = {dedup.key for dedup in dedups}
        self.plan.new_keys = [
            DedupKey(key=key, label=label) for key, label in sorted(labels.items()) if key not in known
        ]
        dedups += self.plan.new_keys
        # Lock the keys' tickets for the batch, in id order, and read them afresh: an analyst resolving
        # one meanwhile waits for this commit, so no alert counts on a ticket resolved under it.
        ids = sorted({d.ticket_id for d in dedups if d.ticket_id})
        tickets: dict[int | None, Ticket] = {
            t.pk: t for t in sql.for_update(Ticket.objects.filter(pk__in=ids).order_by("id"))
        }
        for ticket in tickets.values():
            if ticket.is_open:
                self._slots[ticket.pk] = TicketSlot(ticket)
        # Only the alerts this batch can touch (its fingerprints), however many a grouped ticket has;
        # and how many alerts on each ticket still fire, for auto-resolve.
        fingerprints = sorted({item.alert.fingerprint[:255] for item in items})
        open_ids = list(self._slots)
        touchable = Alert.objects.filter(ticket_id__in=open_ids, fingerprint__in=fingerprints)
        for alert in touchable.order_by("id"):
            slot = self._slots[alert.ticket_id]
            alert.ticket = slot.ticket
            slot.alerts.setdefault(alert.fingerprint, alert)
        firing = (
            Alert.objects.filter(ticket_id__in=open_ids, status=AlertStatus.FIRING)
            .values("ticket_id")
            .annotate(count=Count("id"))
            .values_list("ticket_id", "count")
        )
        for ticket_id, count in firing:
            self._slots[ticket_id].firing = count
        line_ids = [a.repeat_entry_id for s in self._slots.values() for a in s.alerts.values()]
        self._lines = {
            entry.pk: entry
            for entry in ThreadEntry.objects.filter(
                pk__in=[i for i in line_ids if i], kind=EntryKind.EVENT
            ).only("id", "ticket_id", "body")
        }
        for dedup in dedups:
            dedup.ticket = tickets.get(dedup.ticket_id)
            self.keys[dedup.key] = KeyState(dedup=dedup, open=self._slots.get(dedup.ticket_id))
        self._load_left_firing(items)

    def _load_left_firing(self, items: list[Incoming]) -> None:
        """For `resolved` notices: the firing alerts their keys left on tickets that are not open.

        Loaded for every key with a notice in the batch, not only those without an open ticket now:
        the batch may auto-resolve a key's ticket before its next notice arrives.
        """
        wanted = {
            (self.keys[i.key].dedup.pk, i.alert.fingerprint[:255])
            for i in items
            if i.alert.status == AlertStatus.RESOLVED and self.keys[i.key].dedup.pk is not None
        }
        if not wanted:
            return
        by_pk = {state.dedup.pk: state for state in self.keys.values()}
        firing = (
            Alert.objects.filter(
                dedup_key_id__in=sorted({k for k, _ in wanted}),
                fingerprint__in=sorted({f for _, f in wanted}),
                status=AlertStatus.FIRING,
            )
            .exclude(ticket_id__in=list(self._slots))
            .select_related("ticket")
            .order_by("id")
        )
        for alert in firing:
            if (alert.dedup_key_id, alert.fingerprint) in wanted:
                by_pk[alert.dedup_key_id].left_firing.setdefault(alert.fingerprint, []).append(alert)

    # --- deciding ---------------------------------------------------------------------------------

    def decide(self, item: Incoming) -> Alert | None:
        """Decide one alert and add its writes to the plan; returns its alert row (None: ignored)."""
        state, alert = self.keys[item.key], item.alert
        fingerprint = alert.fingerprint[:255]
        slot = state.open
        if slot is not None:
            existing = slot.alerts.get(fingerprint)
            if existing is not None:
                if alert.status != AlertStatus.RESOLVED:
                    self._repeat(item, existing, slot)
                elif existing.status == AlertStatus.FIRING:
                    self._resolve(item, existing, slot)
                    self._maybe_auto_resolve(item, slot)
                return existing  # a resent "resolved" changes nothing
            if alert.status == AlertStatus.RESOLVED:
                return None
            return self._add_alert(item, state, slot, joined=True)
        if alert.status == AlertStatus.RESOLVED:
            left = state.left_firing.get(fingerprint)
            if not left:
                return None
            latest = left.pop()
            self._resolve(item, latest, None)
            return latest
        slot = self._open(item, state)
        if slot is None:
            return None
        return self._add_alert(item, state, slot, joined=False)

    def finish(self) -> None:
        """After the batch is written: count rejected alerts (one UPDATE per integration) and filter hits,
        and run the filters that listen to repeats on the tickets that got one."""
        for integration_id, count in sorted(self.rejected.items()):
            Integration.objects.filter(pk=integration_id).update(rejected_count=F("rejected_count") + count)
        self.rejected.clear()
        if self.filters is not None:
            self.filters.finish()
        repeated, self.repeated = self.repeated, []
        for slot, item in repeated:
            filters_on_event(
                FilterEvent.ALERT_REPEATED,
                slot.written(),
                alert=alert_as_dict(item.alert, source=item.source, observables=item.pairs),
                channel_id=item.delivery.integration_id,
            )

    def _open(self, item: Incoming, state: KeyState) -> TicketSlot | None:
        """Plan a new ticket for the key (linked to its previous one, if any), unless a filter refuses it."""
        integration = item.delivery.integration
        draft = ticket_draft(
            actor=item.written_by,
            alert=item.alert,
            source=item.source,
            integration=integration,
            previous=state.dedup.ticket,
            department=self._department(integration),
        )
        draft.alert = alert_as_dict(item.alert, source=item.source, observables=item.pairs)
        if self.filters is not None:
            refused_by = self.filters.route(draft)
            if refused_by is not None:
                self._reject(item, refused_by)
                return None
        slot = TicketSlot(draft=draft)
        self.plan.new_tickets.append(slot)
        self.plan.events.append(slot.written_event)
        self.plan.moved_keys[id(state.dedup)] = (state.dedup, slot)
        state.open = slot
        return slot

    def _reject(self, item: Incoming, filter_name: str) -> None:
        """Drop an alert a ticket filter refused: counted on its integration, audited, no ticket."""
        integration = item.delivery.integration
        if integration is not None:
            self.rejected[integration.pk] += 1
        self.plan.events.append(
            audit_event(
                actor=item.written_by,
                action="alert.rejected",
                target=integration,
                target_type="integration",
                target_id=str(integration.pk) if integration is not None else "",
                target_label=f"{item.source}: {item.alert.title}"[:200],
                after={
                    "filter": filter_name,
                    "fingerprint": item.alert.fingerprint[:255],
                    "delivery": item.delivery.pk,
                },
            )
        )

    def _add_alert(self, item: Incoming, state: KeyState, slot: TicketSlot, *, joined: bool) -> Alert:
        """A new alert row on the slot's ticket: its raw payload and observables go with it."""
        previous = None if joined else state.dedup.ticket
        row = alert_row(
            alert=item.alert,
            source=item.source,
            integration=item.delivery.integration,
            delivery=item.delivery,
            dedup=state.dedup,
            ticket=slot.ticket,
            previous=previous,
            now=self.now,
        )
        slot.alerts[row.fingerprint] = row
        slot.firing += row.status == AlertStatus.FIRING
        self.plan.new_alerts.append((item, row, slot))
        links = observable_links(item.alert, slot.ticket, row, item.pairs)
        self.plan.links.append((links, slot))
        if joined:
            self._raise_severity(item.written_by, slot, row.severity)
            text = f"Another alert joined this ticket: {row.title} ({still_firing(slot.firing)})"
            self._line(item.written_by, slot, text)
        after = {
            "fingerprint": row.fingerprint,
            "severity": row.severity,
            "status": row.status,
            "delivery": item.delivery.pk,
            "previous_ticket": previous.number if previous else None,
            "observables": len(links.pairs),
        }
        self._event(item, "alert.ingested", row, slot, after=after)
        return row

    def _repeat(self, item: Incoming, existing: Alert, slot: TicketSlot) -> None:
        """Count a repeat: one `alert.deduplicated` event per delivery, one thread line kept current."""
        before = {"occurrence_count": existing.occurrence_count, "status": existing.status}
        if existing.status != AlertStatus.FIRING:
            slot.firing += 1
        existing.occurrence_count += 1
        existing.last_seen = self.now
        existing.status = AlertStatus.FIRING
        existing.resolved_at = None
        existing.delivery = item.delivery
        if SEVERITY_RANK.get(item.alert.severity, 0) > SEVERITY_RANK.get(existing.severity, 0):
            existing.severity = item.alert.severity
            self._raise_severity(item.written_by, slot, item.alert.severity)
        self._changed(existing)
        self._repeat_line(item.written_by, existing, slot)
        if self.repeats_heard:
            self.repeated.append((slot, item))
        after = {"occurrence_count": existing.occurrence_count, "status": existing.status}
        self._event(item, "alert.deduplicated", existing, slot, before=before, after=after)

    def _resolve(self, item: Incoming, alert: Alert, slot: TicketSlot | None) -> None:
        """The source says the alert cleared: mark it, note it on its ticket, audit it."""
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = alert.last_seen = self.now
        self._changed(alert)
        text = f"Alert resolved at the source: {alert.title}"
        if slot is not None:
            slot.firing -= 1
            # A grouped ticket holds many alerts: say how many still fire (a number kept for the batch).
            text += f" ({still_firing(slot.firing)})"
        elif alert.ticket is not None:  # a left-behind alert: its ticket is no longer open
            slot = self._slot_of(alert.ticket)
        if slot is not None:
            self._line(item.written_by, slot, text)
        before, after = {"status": AlertStatus.FIRING}, {"status": AlertStatus.RESOLVED}
        self._event(item, "alert.resolved", alert, slot, before=before, after=after)

    def _maybe_auto_resolve(self, item: Incoming, slot: TicketSlot) -> None:
        """With the integration's auto-resolve on, resolve the ticket once none of its alerts fires."""
        integration: Integration | None = item.delivery.integration
        if integration is None or not integration.auto_resolve or slot.firing > 0 or not slot.is_open:
            return
        actor = item.written_by
        comment = "every alert on this ticket resolved at the source (auto-resolve)"
        steps = [("status", {"status": Status.RESOLVED, "resolution": AUTO_RESOLUTION, "comment": comment})]
        if (
            slot.ticket is None or slot.ticket.status == Status.NEW
        ):  # the state machine goes via "in progress"
            steps.insert(0, ("status", {"status": Status.IN_PROGRESS}))
        refused = self.change(actor, slot, steps)  # all steps or none
        if refused is not None:
            self._line(actor, slot, f"Auto-resolve was refused: {refused}")
        if not slot.is_open:
            for state in self.keys.values():
                if state.open is slot:
                    state.open = None

    def _raise_severity(self, actor: Actor, slot: TicketSlot, severity: str) -> None:
        """Raise the ticket's severity when an alert on it is more severe (never lowers it)."""
        if SEVERITY_RANK.get(severity, 0) <= SEVERITY_RANK.get(slot.severity, 0):
            return
        refused = self.change(actor, slot, [("severity", {"severity": severity})])
        if refused is not None:
            self._line(actor, slot, f"Raising the severity to {severity} was refused: {refused}")

    def _event(
        self,
        item: Incoming,
        action: str,
        alert: Alert,
        slot: TicketSlot | None,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any],
    ) -> None:
        """Add the audit event of an alert's outcome. `before`/`after` are the values as decided now (a
        later alert of the batch may change the row); ids and the ticket number are read when written."""

        def build() -> AuditEvent:
            ticket = slot.written() if slot is not None else None
            return audit_event(
                actor=item.written_by,
                action=action,
                target=alert,
                target_label=f"{alert.source}: {alert.title}"[:200],
                before=before,
                after={"ticket": ticket.number if ticket is not None else None} | after,
            )

        self.plan.events.append(build)

    # --- thread lines -----------------------------------------------------------------------------

    def _line(self, actor: Actor, slot: TicketSlot, text: str) -> ThreadEntry:
        entry = unsaved(
            ThreadEntry,
            kind=EntryKind.EVENT,
            author_agent=actor.agent,
            author_label=actor.label[:200],
            body=text,
            created_at=self.now,
        )
        self.plan.new_lines.append((entry, slot))
        self.plan.touched[id(slot)] = slot
        return entry

    def _repeat_line(self, actor: Actor, alert: Alert, slot: TicketSlot) -> None:
        """Rewrite the alert's one repeat line in place, or start it."""
        text = repeat_text(alert, self.now)
        line = getattr(alert, "_repeat_line", None) or self._lines.get(alert.repeat_entry_id or 0)
        if line is not None and (
            line.pk is None or line.ticket_id == (slot.ticket.pk if slot.ticket else None)
        ):
            line.body = text
            if line.pk is not None:
                self.plan.changed_lines[id(line)] = line
            self.plan.touched[id(slot)] = slot
        else:
            line = self._line(actor, slot, text)
        alert._repeat_line = line

    # --- helpers ----------------------------------------------------------------------------------

    def _changed(self, alert: Alert) -> None:
        if alert.pk is not None:
            self.plan.changed_alerts[id(alert)] = alert

    def _slot_of(self, ticket: Ticket) -> TicketSlot:
        """A slot for a ticket that is not open (a resolved notice's line on a closed ticket)."""
        if ticket.pk not in self._slots:
            self._slots[ticket.pk] = TicketSlot(ticket)
        return self._slots[ticket.pk]

    def _department(self, integration: Integration | None) -> Department:
        key = integration.department_id if integration is not None else None
        if key not in self._departments:
            self._departments[key] = default_department(integration)
        return self._departments[key]
