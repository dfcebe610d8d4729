"""Ticket filters on ticket events: a reply received, a severity raised, a reopened ticket, a repeated alert.

A filter with `on_events` runs at creation like every filter (socdesk.routing.apply) and also on the
events it lists: `filters_after_change` is the tickets' after-change hook, and alert ingest calls
`filters_on_event` for repeats once its batch is written. The actions go through the ticket services as
the "ticket-filters" system actor (each audited); what the filters do is never an event for the filters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from socdesk.core.errors import ServiceError
from socdesk.routing.apply import (
    CHANNELS,
    FILTERS_ACTOR,
    REFERENCES,
    FilterRun,
    count_hits,
    notify_after_commit,
    webhook_row,
)
from socdesk.routing.choices import FilterEvent
from socdesk.routing.matching import CompiledFilter, Ruleset, compile_filter, ruleset_of
from socdesk.routing.models import FilterRule, FilterWebhookDelivery
from socdesk.routing.selectors import filter_spec_of, ruleset_current
from socdesk.routing.subjects import subject_for_ticket
from socdesk.routing.tasks import webhooks_queue
from socdesk.routing.vocabulary import ActionType, FilterSpec, MatchedAction, RuleError
from socdesk.tickets.choices import SEVERITY_RANK, Status
from socdesk.tickets.hooks import TicketChange
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import (
    ticket_assign,
    ticket_change_severity,
    ticket_note,
    ticket_set_tags,
    ticket_transfer,
)

_event_cache: tuple[Ruleset, dict[str, Ruleset]] | None = None


def event_ruleset(event: str) -> Ruleset | None:
    """The enabled filters that run on this event, compiled (rebuilt when the filters change), or None."""
    global _event_cache
    ruleset = ruleset_current()
    if not ruleset.filters:
        return None
    if _event_cache is None or _event_cache[0] is not ruleset:
        enabled = {f.id for f in ruleset.filters}
        by_event: dict[str, list[tuple[FilterSpec, CompiledFilter]]] = {}
        for rule in FilterRule.objects.filter(pk__in=enabled).order_by("order", "id"):
            events = rule.on_events if isinstance(rule.on_events, list) else []
            if not events:
                continue
            spec = filter_spec_of(rule)
            try:
                compiled = compile_filter(spec)
            except RuleError:
                continue  # cannot happen for a filter in the ruleset; it would be disabled by then
            for name in events:
                by_event.setdefault(name, []).append((spec, compiled))
        _event_cache = (ruleset, {name: ruleset_of(pairs) for name, pairs in by_event.items()})
    return _event_cache[1].get(event)


def event_of_change(change: TicketChange) -> tuple[str, str] | None:
    """The filter event a ticket change is, with the text it brought (a reply's body), or None."""
    if change.action == "ticket.message_added":
        return FilterEvent.REPLY_RECEIVED, ""
    if change.action == "ticket.severity_changed":
        before, after = change.before.get("severity", ""), change.after.get("severity", "")
        if SEVERITY_RANK.get(after, -1) > SEVERITY_RANK.get(before, -1):
            return FilterEvent.SEVERITY_RAISED, ""
    if change.action == "ticket.status_changed":
        closed = (Status.RESOLVED, Status.CLOSED)
        if change.before.get("status") in closed and change.after.get("status") not in closed:
            return FilterEvent.REOPENED, ""
    return None


def filters_after_change(change: TicketChange) -> None:
    """The after-change hook: run the filters listening to this kind of change (never on their own)."""
    if change.actor.kind == "system" and change.actor.ident == FILTERS_ACTOR.ident:
        return  # what the filters do is not an event for the filters (no loops)
    found = event_of_change(change)
    if found is None:
        return
    event, _ = found
    body = ""
    if event == FilterEvent.REPLY_RECEIVED:
        entry = change.after.get("entry")
        if isinstance(entry, int):
            body = ThreadEntry.objects.filter(pk=entry).values_list("body", flat=True).first() or ""
    filters_on_event(event, change.ticket, body=body)


def filters_on_event(
    event: str,
    ticket: Ticket,
    *,
    body: str = "",
    alert: Mapping[str, Any] | None = None,
    channel_id: int | None = None,
) -> list[int]:
    """Run the filters listening to `event` on the ticket and apply their actions through the ticket
    services as the "ticket-filters" actor; returns the ids of the filters that matched."""
    ruleset = event_ruleset(event)
    if ruleset is None:
        return []
    now = timezone.now()
    pairs = alert.get("observables") if alert is not None else None
    subject = subject_for_ticket(
        ticket,
        alert=alert,
        observables=[
            (str(p[0]), str(p[1])) for p in pairs or () if isinstance(p, list | tuple) and len(p) == 2
        ],
        channel_id=channel_id,
    )
    # The event's moment and channel as at creation; a reply's text is what a `body` condition reads.
    subject = replace(subject, received_at=now, channel=CHANNELS.get(ticket.source, "web"))
    if body:
        subject = replace(subject, body=body)
    evaluation = ruleset.evaluate(subject)
    if not evaluation.matched:
        return []
    names = {f.id: f.name for f in ruleset.filters}
    run = FilterRun(ruleset, now=now)
    webhooks: list[FilterWebhookDelivery] = []
    for action in evaluation.actions:
        name = names.get(action.filter_id, "")
        try:
            with transaction.atomic():
                ticket = _apply_event_action(run, ticket, action, name, event, now, webhooks)
        except ServiceError as exc:
            ticket_note(
                actor=FILTERS_ACTOR,
                ticket=ticket,
                body=f"The ticket filter {name!r} could not {action.type.value.replace('_', ' ')}: "
                f"{exc.message}",
            )
    webhooks_queue(webhooks)
    count_hits(Counter(evaluation.matched), now)
    return list(evaluation.matched)


def _apply_event_action(
    run: FilterRun,
    ticket: Ticket,
    action: MatchedAction,
    name: str,
    event: str,
    now: datetime,
    webhooks: list[FilterWebhookDelivery],
) -> Ticket:
    kind, value = action.type, action.value
    actor = FILTERS_ACTOR
    if kind is ActionType.ADD_TAGS:
        current = list(ticket.tags.values_list("name", flat=True))
        return ticket_set_tags(actor=actor, ticket=ticket, tags=[*current, *value])
    if kind is ActionType.ADD_NOTE:
        ticket_note(actor=actor, ticket=ticket, body=value)
        return Ticket.objects.get(pk=ticket.pk)
    if kind is ActionType.SET_SEVERITY:
        if ticket.severity == value:
            return ticket
        return ticket_change_severity(actor=actor, ticket=ticket, severity=value)
    if kind in (ActionType.SET_AGENT, ActionType.SET_TEAM, ActionType.SET_DEPARTMENT):
        found = run._object(REFERENCES[kind][0], value, action)
        if found is None:
            return ticket
        if kind is ActionType.SET_DEPARTMENT:
            if ticket.department_id == found.pk:
                return ticket
            return ticket_transfer(
                actor=actor,
                ticket=ticket,
                department=found,  # type: ignore[arg-type]
                reason=f"Ticket filter {name!r} ({event}).",
            )
        agent = found if kind is ActionType.SET_AGENT else ticket.assignee
        team = found if kind is ActionType.SET_TEAM else ticket.team
        if (agent, team) == (ticket.assignee, ticket.team):
            return ticket
        return ticket_assign(actor=actor, ticket=ticket, agent=agent, team=team)  # type: ignore[arg-type]
    if kind is ActionType.NOTIFY:
        notify_after_commit(value, name, ticket, event)
    elif kind is ActionType.WEBHOOK:
        webhooks.append(webhook_row(value, action.filter_id, name, ticket, f"ticket.{event}", now))
    return ticket
