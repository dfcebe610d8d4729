"""Writes of observables on tickets: linking from alerts, and agents adding, removing and flagging them."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from socdesk.accounts.choices import Perm
from socdesk.accounts.selectors import agent_can
from socdesk.alerts import observables as obs
from socdesk.alerts.models import Alert, AlertObservable, Observable, TicketObservable
from socdesk.audit.services import record
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.tickets.models import Ticket
from socdesk.tickets.search import search_index

FLAGS = ("ioc", "sighted")


def _observables_for(pairs: list[tuple[str, str]], now: datetime) -> dict[tuple[str, str], Observable]:
    """Get or create each (type, value) once, refreshing last_seen, in one INSERT ... ON CONFLICT.

    Sorted so concurrent inserts always lock in one order. The returned objects carry their ids but
    not their stored flags (callers that need the flags filter on them in SQL).
    """
    wanted = {obs.value_hash(kind, value): (kind, value) for kind, value in pairs}
    if not wanted:
        return {}
    # One statement instead of insert-ignore, select and update: PostgreSQL and SQLite both return the
    # ids of inserted and updated rows. Written by socdesk.core.sql rather than bulk_create: Django's
    # insert compiler costs more CPU than the upsert, and alert ingest runs it under the ingest lock.
    # (Ingest batches run one at a time, so last_seen on a hot observable is not a row that concurrent
    # ingest transactions queue on.)
    ids = dict(
        sql.upsert_set(
            Observable,
            ["type", "value", "value_hash", "ioc", "sighted", "first_seen", "last_seen"],
            [
                (kind, value, digest, False, False, now, now)
                for digest, (kind, value) in sorted(wanted.items())
            ],
            unique=["value_hash"],
            update=["last_seen"],
            returning=["value_hash", "id"],
        )
    )
    rows = []
    for digest, (kind, value) in sorted(wanted.items()):
        row = Observable(
            id=ids[digest], type=kind, value=value, value_hash=digest, first_seen=now, last_seen=now
        )
        row._state.adding = False
        rows.append(row)
    return {(o.type, o.value): o for o in rows}


@dataclass
class ObservableLinks:
    """Observables found in one alert (or a ticket's first message), to link to it and to its ticket."""

    ticket: Ticket | None  # None while the alert's ticket is only planned: the writer sets it
    alert: Alert | None
    pairs: list[tuple[str, str]]
    ioc: Set[tuple[str, str] | None] = frozenset()
    sighted: Set[tuple[str, str] | None] = frozenset()
    origin: str = "alert"  # where the ticket's link came from: alert, message (found in its text), agent


def observables_attach_many(
    all_links: list[ObservableLinks], *, now: datetime, fresh: bool = False, index: bool = True
) -> dict[tuple[str, str], Observable]:
    """Link the observables of many alerts at once: one upsert, two link inserts, flag updates.

    `fresh`: every alert and ticket was created in this transaction, so none of the links exists yet
    and they are inserted without the conflict check (a batch of new alerts). `index=False`: the
    caller rewrites the tickets' search documents itself (alert ingest, once per batch).
    """
    by_pair = _observables_for([pair for links in all_links for pair in links.pairs], now)
    if not by_pair:
        return {}
    alert_rows: list[tuple[int, int]] = []
    ticket_rows: dict[tuple[int, int], list[Any]] = {}
    ioc: set[int] = set()
    sighted: set[int] = set()
    for links in all_links:
        if links.ticket is None:
            raise ValueError("Observables were linked before their alert's ticket was opened.")
        mine = {pair: by_pair[pair].pk for pair in links.pairs if pair in by_pair}
        if links.alert is not None:
            alert_rows += [(links.alert.pk, pk) for pk in mine.values()]
        for pair, pk in mine.items():
            # Two alerts of one ticket may share an observable: the first one's flags are kept.
            ticket_rows.setdefault(
                (links.ticket.pk, pk),
                [links.ticket.pk, pk, pair in links.ioc, pair in links.sighted, links.origin, now],
            )
        ioc |= {pk for pair, pk in mine.items() if pair in links.ioc}
        sighted |= {pk for pair, pk in mine.items() if pair in links.sighted}
    if fresh:
        sql.copy_rows(AlertObservable, ["alert_id", "observable_id"], alert_rows)
        sql.copy_rows(
            TicketObservable,
            ["ticket_id", "observable_id", "ioc", "sighted", "origin", "added_at"],
            list(ticket_rows.values()),
        )
    else:
        AlertObservable.objects.bulk_create(
            [AlertObservable(alert_id=a, observable_id=o) for a, o in alert_rows], ignore_conflicts=True
        )
        TicketObservable.objects.bulk_create(
            [
                TicketObservable(
                    ticket_id=t, observable_id=o, ioc=i, sighted=s, origin=origin, added_at=added
                )
                for t, o, i, s, origin, added in ticket_rows.values()
            ],
            ignore_conflicts=True,
        )
    if ioc:
        Observable.objects.filter(pk__in=ioc, ioc=False).update(ioc=True)
    if sighted:
        Observable.objects.filter(pk__in=sighted, sighted=False).update(sighted=True)
    if index:
        search_index({ticket_id for ticket_id, _ in ticket_rows})
    return by_pair


def observables_link_found(
    found: list[tuple[Ticket, list[tuple[str, str]]]],
    *,
    actor: Actor | None,
    now: datetime,
    fresh: bool = False,
) -> None:
    """Link observables found in tickets' text (origin "message"): the tickets services call this
    through the tickets.observables seam, inside their transaction.

    With an actor (an agent's reply or note, at their request) each ticket gets one `observable.added`
    event naming the observables new to it; without one they belong to the ticket's opening.
    """
    if actor is None:
        links = [ObservableLinks(ticket=t, alert=None, pairs=pairs, origin="message") for t, pairs in found]
        # The opening service writes the tickets' search documents once everything is linked.
        observables_attach_many(links, now=now, fresh=fresh, index=False)
        return
    for ticket, pairs in found:
        on_ticket = set(
            TicketObservable.objects.filter(
                ticket=ticket, observable__value_hash__in=[obs.value_hash(k, v) for k, v in pairs]
            ).values_list("observable__type", "observable__value")
        )
        new = [pair for pair in pairs if pair not in on_ticket]
        if not new:
            continue
        links = [ObservableLinks(ticket=ticket, alert=None, pairs=new, origin="message")]
        observables_attach_many(links, now=now)
        record(
            actor=actor,
            action="observable.added",
            target=ticket,
            target_label=f"{ticket.number} {ticket.subject}"[:200],
            after={"observables": [f"{k}:{v}"[:500] for k, v in new], "origin": "message"},
        )


def _require_edit(actor: Actor, ticket: Ticket) -> None:
    if actor.agent is None:
        return
    if not agent_can(actor.agent, Perm.VIEW, ticket):
        raise NotFound(f"Ticket {ticket.number} was not found.")
    if not agent_can(actor.agent, Perm.EDIT, ticket):
        raise PermissionDenied(f"You do not have the edit permission in {ticket.department.name}.")


def _audit(
    actor: Actor,
    action: str,
    ticket: Ticket,
    link: TicketObservable,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record(
        actor=actor,
        action=action,
        target=ticket,
        target_label=f"{ticket.number} {ticket.subject}"[:200],
        before=before,
        after={"observable": f"{link.observable.type}:{link.observable.value}"[:500], **(after or {})},
    )


@transaction.atomic
def ticket_observable_add(
    *, actor: Actor, ticket: Ticket, type: str, value: str, ioc: bool = False
) -> TicketObservable:
    """An agent adds an observable to a ticket (normalised; refused when it is not a valid value)."""
    _require_edit(actor, ticket)
    pair = obs.normalise(type, value or "")
    if pair is None:
        raise ServiceError(
            f"{(value or '').strip()[:100]!r} is not a valid {type or 'observable'} value.",
            fields={"value": "invalid"},
        )
    now = timezone.now()
    observable = _observables_for([pair], now)[pair]
    observable.refresh_from_db(fields=["ioc"])
    link, created = TicketObservable.objects.get_or_create(
        ticket=ticket, observable=observable, defaults={"ioc": ioc, "origin": "agent", "added_at": now}
    )
    if not created:
        raise ServiceError(f"{pair[1]} is already on this ticket.", fields={"value": "duplicate"})
    if ioc and not observable.ioc:
        Observable.objects.filter(pk=observable.pk).update(ioc=True)
    search_index([ticket.pk])
    _audit(actor, "observable.added", ticket, link, after={"ioc": ioc})
    return link


@dataclass(frozen=True)
class ObservablesAdded:
    """What a hand-typed list added to a ticket, what was on it already, and what was not valid."""

    added: list[TicketObservable]
    already: list[str]
    invalid: list[str]
    kind: str = "auto"

    @property
    def message(self) -> str:
        """A sentence for the agent: what was added, and what was not and why."""
        parts = []
        if self.added:
            values = ", ".join(link.observable.value for link in self.added[:10])
            more = f" and {len(self.added) - 10} more" if len(self.added) > 10 else ""
            parts.append(f"Added {values}{more}.")
        if self.already:
            parts.append(f"Already on this ticket: {', '.join(self.already[:10])}.")
        if self.invalid:
            parts.append("Not added: " + obs.invalid_sentence(self.invalid, self.kind))
        return " ".join(parts)


@transaction.atomic
def ticket_observables_add_list(
    *, actor: Actor, ticket: Ticket, values: str, type: str = "auto", ioc: bool = False
) -> ObservablesAdded:
    """An agent adds a list of observables (separated by commas, spaces or new lines, defanged or not).

    Each entry is typed and normalised (obs.parse_list); the valid ones are added in one audit event,
    the invalid ones are named in the result. Refused, with nothing written, when none is valid or
    every valid one is on the ticket already.
    """
    _require_edit(actor, ticket)
    kind = (type or "auto").strip().lower()
    if kind != "auto" and kind not in obs.TYPE_NAMES:
        raise ServiceError(f"{type!r} is not an observable type.", fields={"type": "invalid"})
    parsed = obs.parse_list(values, kind)
    if not parsed.valid:
        if not parsed.invalid:
            raise ServiceError("Type one or more values to add.", fields={"value": "required"})
        raise ServiceError(obs.invalid_sentence(parsed.invalid, kind), fields={"value": "invalid"})
    on_ticket = set(
        TicketObservable.objects.filter(
            ticket=ticket, observable__value_hash__in=[obs.value_hash(k, v) for k, v in parsed.valid]
        ).values_list("observable__type", "observable__value")
    )
    new = [pair for pair in parsed.valid if pair not in on_ticket]
    already = [value for kind_, value in parsed.valid if (kind_, value) in on_ticket]
    if not new:
        sentence = " ".join(f"{value} is already on this ticket." for value in already[:10])
        if parsed.invalid:
            sentence += " " + obs.invalid_sentence(parsed.invalid, kind)
        raise ServiceError(sentence, fields={"value": "duplicate"})
    now = timezone.now()
    by_pair = _observables_for(new, now)
    links = [
        TicketObservable(ticket=ticket, observable=by_pair[pair], ioc=ioc, origin="agent", added_at=now)
        for pair in new
    ]
    # ignore_conflicts: another agent adding the same value meanwhile is not an error; the link is there.
    TicketObservable.objects.bulk_create(links, ignore_conflicts=True)
    if ioc:
        Observable.objects.filter(pk__in=[o.pk for o in by_pair.values()], ioc=False).update(ioc=True)
    record(
        actor=actor,
        action="observable.added",
        target=ticket,
        target_label=f"{ticket.number} {ticket.subject}"[:200],
        after={
            "observables": [f"{kind_}:{value}"[:500] for kind_, value in new],
            "ioc": ioc,
            "not_valid": parsed.invalid[:50],
        },
    )
    return ObservablesAdded(added=links, already=already, invalid=parsed.invalid, kind=kind)


@transaction.atomic
def ticket_observable_remove(*, actor: Actor, ticket: Ticket, link_id: int) -> None:
    """Take an observable off a ticket (the observable and its alert links stay)."""
    _require_edit(actor, ticket)
    link = _link(ticket, link_id)
    _audit(actor, "observable.removed", ticket, link, before={"ioc": link.ioc, "sighted": link.sighted})
    link.delete()
    search_index([ticket.pk])
    _refresh_flags(link.observable)


@transaction.atomic
def ticket_observable_flag(
    *, actor: Actor, ticket: Ticket, link_id: int, flag: str, on: bool
) -> TicketObservable:
    """Mark an observable on this ticket as an IOC or as sighted (or clear the mark)."""
    if flag not in FLAGS:
        raise ServiceError("The flag must be ioc or sighted.", fields={"flag": "invalid"})
    _require_edit(actor, ticket)
    link = _link(ticket, link_id)
    before = getattr(link, flag)
    if before == on:
        return link
    setattr(link, flag, on)
    link.save(update_fields=[flag])
    _refresh_flags(link.observable)
    _audit(actor, "observable.flagged", ticket, link, before={flag: before}, after={flag: on})
    return link


def _link(ticket: Ticket, link_id: int) -> TicketObservable:
    link = (
        TicketObservable.objects.select_for_update()
        .select_related("observable")
        .filter(pk=link_id, ticket=ticket)
        .first()
    )
    if link is None:
        raise NotFound("That observable is not on this ticket.")
    return link


def _refresh_flags(observable: Observable) -> None:
    """Keep the observable's own flags as 'flagged on at least one ticket'."""
    links = TicketObservable.objects.filter(observable=observable)
    Observable.objects.filter(pk=observable.pk).update(
        ioc=links.filter(ioc=True).exists(), sighted=links.filter(sighted=True).exists()
    )
