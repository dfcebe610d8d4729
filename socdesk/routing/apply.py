"""Ticket filters at work: run the ruleset on every new ticket and carry out its actions.

Wired through the tickets hooks (socdesk.tickets.hooks), so every channel gets the same behaviour:

    before_create   `filters_before_create`: each draft becomes a MatchSubject, the current ruleset is
                    evaluated, and what can be decided before the write is applied to the draft
                    (department, team, agent, severity, tags) or left in `draft.hints` for after it
                    (help_topic, sla_plan, status, notes, suppress_autoresponse, notify, webhooks,
                    playbooks: applied by socdesk.cases; canned_replies: answered by
                    socdesk.mail.canned_replies). A `reject` raises PermissionDenied (a 403 on the web
                    and the APIs).
    after_create    `filters_after_create`: notes and the status through the ticket services as the
                    "ticket-filters" system actor, e-mails after commit, webhooks queued for a worker,
                    and the filters' hit counts (one UPDATE per filter per batch, after commit).

Filters that also run on ticket events: socdesk.routing.apply_events.

A caller that batches requests (alert ingest, the osTicket API) routes each draft on its own first with
a `FilterRun`, so one refused alert or request never refuses the batch around it; a routed draft is
marked and the hook leaves it alone. A filter whose action points at an object deleted since it was
saved, or that no longer compiles, is disabled with its reason and a warning logged; ingestion goes on.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone

from socdesk.accounts.models import Agent, Department, Team
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.routing import snapshot
from socdesk.routing.matching import Ruleset
from socdesk.routing.models import FilterRule, FilterWebhookDelivery, HelpTopic
from socdesk.routing.selectors import ruleset_current_with_skipped
from socdesk.routing.snapshot import configuration_changed
from socdesk.routing.tasks import webhooks_queue
from socdesk.routing.vocabulary import (
    REFUSING,
    ActionType,
    MatchedAction,
    MatchSubject,
    subject_for_alert,
)
from socdesk.tickets.choices import Status
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import (
    TicketDraft,
    ticket_change_status,
    ticket_note,
)
from socdesk.tickets.services.steps import assignee_fits

log = logging.getLogger(__name__)

FILTERS_ACTOR = Actor.system("ticket-filters")
# Marks a draft the filters have seen (hints are the drafts' notes between the routing hooks).
APPLIED = "filters_applied"
MATCHED = "filters_matched"
# The tickets' sources that are not channels of their own were typed in by an agent: the web.
CHANNELS = {"web": "web", "email": "email", "api": "api", "alert": "alert"}
REFERENCES: dict[ActionType, tuple[type[Model], str]] = {
    ActionType.SET_DEPARTMENT: (Department, "department"),
    ActionType.SET_TEAM: (Team, "team"),
    ActionType.SET_AGENT: (Agent, "agent"),
    ActionType.SET_HELP_TOPIC: (HelpTopic, "help topic"),
}


# The canned responses a filter asked to reply with: (canned response id, filter id, filter name).
CANNED_REPLIES = "canned_replies"
# Set on a draft refused by a "ban sender" action.
BAN_SENDER = "ban_sender"


class SenderBanRequested(PermissionDenied):
    """A ticket filter's "ban sender" refused the ticket: the channel that can (mail, socdesk.mail.inbound)
    adds `address` to its ban list; everywhere else it is a refusal like `reject`."""

    def __init__(self, message: str, *, address: str, filter_name: str) -> None:
        super().__init__(message, fields={"filter": filter_name})
        self.address = address
        self.filter_name = filter_name


def refusal_message(actor: Actor, filter_name: str) -> str:
    """The sentence a refused requester reads: agents may learn which filter, others only that one did."""
    if actor.agent is not None:
        return (
            f"The ticket filter {filter_name!r} refused this ticket; ask an administrator if it should not."
        )
    return "A ticket filter refused this ticket; contact the help desk if it should not."


# ---- subjects ------------------------------------------------------------------------------------------


def alert_as_dict(alert: Any, *, source: str, observables: Iterable[tuple[str, str]] | None = None) -> dict:
    """A normalised alert (the adapters' dataclass) as the dict filters read: `alert.raw...`, its labels
    (`alert.labels...`, from the adapter's `extra`) and the observables found in it. Shallow: the raw
    payload is not copied."""
    data = {f.name: getattr(alert, f.name) for f in fields(alert)}
    extra = data.get("extra") if isinstance(data.get("extra"), Mapping) else {}
    labels = extra.get("labels") if isinstance(extra, Mapping) else None
    data["labels"] = dict(labels) if isinstance(labels, Mapping) else {}
    data["source"] = source
    if observables is not None:
        data["observables"] = [tuple(pair) for pair in observables]
    return data


def origin_id(origin: str) -> int | None:
    """The integration's or mailbox's id in a draft's origin (`integration:7` → 7)."""
    _kind, _, ident = (origin or "").partition(":")
    return int(ident) if ident.isdigit() else None


def subject_for_draft(draft: TicketDraft, received_at: datetime, help_topic_name: str = "") -> MatchSubject:
    """What the filters see of a ticket draft (with its normalised alert, for alert ingest)."""
    channel_id = origin_id(draft.origin)
    tags = tuple(str(tag) for tag in draft.tags)
    if draft.alert is not None:
        base = subject_for_alert(
            draft.alert,
            adapter=str(draft.alert.get("source") or ""),
            received_at=received_at,
            channel_id=channel_id,
            labels=draft.alert.get("labels") if isinstance(draft.alert.get("labels"), Mapping) else None,
        )
        return replace(
            base,
            requester_name=draft.requester_name,
            requester_email=draft.requester_email,
            severity=draft.severity,
            tags=tags,
            custom_fields=draft.custom_fields,
            help_topic=help_topic_name,
        )
    return MatchSubject(
        channel=CHANNELS.get(draft.source, "web"),
        channel_id=channel_id,
        received_at=received_at,
        requester_name=draft.requester_name,
        requester_email=draft.requester_email,
        subject=draft.subject,
        body=draft.body,
        severity=draft.severity,
        source=draft.source,
        help_topic=help_topic_name,
        tags=tags,
        custom_fields=draft.custom_fields,
        observables=tuple((str(t), str(v)) for t, v in draft.observables),
    )


# ---- disabling filters that became invalid ---------------------------------------------------------------


def filter_disable_invalid(*, rule_id: int, reason: str) -> bool:
    """Disable a filter that can no longer run as saved, with the reason (audited, logged); False when it
    was disabled already. Runs in the caller's transaction, which it never breaks."""
    rule = FilterRule.objects.filter(pk=rule_id, enabled=True).first()
    if rule is None:
        return False
    reason = reason[:500]
    FilterRule.objects.filter(pk=rule_id).update(enabled=False, disabled_reason=reason)
    configuration_changed()  # an update() sends no signal
    log.warning("Ticket filter %s (%s) disabled: %s", rule.pk, rule.name, reason)
    record(
        actor=FILTERS_ACTOR,
        action="ticket_filter.disabled",
        target=rule,
        before={"enabled": True},
        after={"enabled": False, "disabled_reason": reason},
    )
    return True


_skips_seen: Ruleset | None = None  # the ruleset whose skipped filters were disabled already


def _disable_skipped(ruleset: Ruleset, skipped: tuple[tuple[int, str], ...]) -> None:
    """Disable the stored filters the ruleset left out (they no longer compile), once per ruleset."""
    global _skips_seen
    if _skips_seen is ruleset:
        return
    for rule_id, reason in skipped:
        filter_disable_invalid(rule_id=rule_id, reason=reason)
    _skips_seen = ruleset


# ---- creation --------------------------------------------------------------------------------------------


class FilterRun:
    """The ruleset applied to one batch of drafts; objects read once, rejections counted for the batch."""

    def __init__(self, ruleset: Ruleset | None = None, *, now: datetime | None = None) -> None:
        if ruleset is None:
            ruleset, skipped = ruleset_current_with_skipped()
            _disable_skipped(ruleset, skipped)
        self.ruleset = ruleset
        self.names = {f.id: f.name for f in self.ruleset.filters}
        self.now = now or timezone.now()
        self.rejected_hits: Counter[int] = Counter()
        self._objects: dict[tuple[type[Model], int], Model | None] = {}

    def route(self, draft: TicketDraft) -> str | None:
        """Apply the filters to the draft; returns the name of the filter that refuses it, else None."""
        if draft.hints.get(APPLIED):
            return None
        draft.hints[APPLIED] = True
        if not self.ruleset.filters:
            return None
        topic = self._object(HelpTopic, draft.help_topic, None) if draft.help_topic else None
        evaluation = self.ruleset.evaluate(subject_for_draft(draft, self.now, str(topic or "")))
        for timeout in evaluation.timeouts:
            log.warning(
                "Ticket filter %r, condition %s: the regular expression ran out of time (no match).",
                self.names.get(timeout.filter_id, timeout.filter_id),
                timeout.condition_index + 1,
            )
        if not evaluation.matched:
            return None
        if evaluation.rejected:
            self.rejected_hits.update(evaluation.matched)
            rejecting = next(a.filter_id for a in evaluation.actions if a.type in REFUSING)
            if evaluation.bans_sender:
                draft.hints[BAN_SENDER] = True
            return self.names.get(rejecting, "")
        draft.hints[MATCHED] = evaluation.matched
        self._apply(draft, evaluation.actions)
        return None

    def finish(self) -> None:
        """Count the rejections' hits (after commit; right away outside a transaction)."""
        count_hits(self.rejected_hits, self.now)
        self.rejected_hits = Counter()

    def _apply(self, draft: TicketDraft, actions: Iterable[MatchedAction]) -> None:
        hints = draft.hints
        for action in actions:
            kind, value, name = action.type, action.value, self.names.get(action.filter_id, "")
            if kind in REFERENCES:
                found = self._object(REFERENCES[kind][0], value, action)
                if found is None:
                    continue
                if kind is ActionType.SET_DEPARTMENT:
                    if draft.routed_from is None and found.pk != draft.department.pk:
                        draft.routed_from = draft.department
                    draft.department = found  # type: ignore[assignment]
                elif kind is ActionType.SET_TEAM:
                    draft.team = found  # type: ignore[assignment]
                elif kind is ActionType.SET_AGENT:
                    draft.assignee = found  # type: ignore[assignment]
                else:
                    hints["help_topic"] = value
            elif kind is ActionType.SET_SEVERITY:
                draft.severity = value
            elif kind is ActionType.SET_SLA_PLAN:
                hints["sla_plan"] = value
            elif kind is ActionType.SET_STATUS:
                hints["status"] = (value, name)
            elif kind is ActionType.ADD_TAGS:
                draft.tags = [*draft.tags, *value]
            elif kind is ActionType.ADD_NOTE:
                hints.setdefault("notes", []).append(value)
            elif kind is ActionType.SUPPRESS_AUTORESPONSE:
                hints["suppress_autoresponse"] = True
            elif kind is ActionType.NOTIFY:
                hints.setdefault("notify", []).append((value, action.filter_id, name))
            elif kind is ActionType.WEBHOOK:
                hints.setdefault("webhooks", []).append((value, action.filter_id, name))
            elif kind is ActionType.APPLY_PLAYBOOK:
                # Applied after the ticket is written by the cases app's after-create hook.
                hints.setdefault("playbooks", []).append((value, name))
            elif kind is ActionType.REPLY_CANNED:
                # Sent once the ticket exists, by the mail app's after-create hook (it owns the
                # canned responses and the mail).
                hints.setdefault(CANNED_REPLIES, []).append((value, action.filter_id, name))
        self._fit_assignment(draft)

    def _fit_assignment(self, draft: TicketDraft) -> None:
        """A department set by a filter may not fit the team or assignee the channel gave: those are left
        out (with a note) rather than refusing the ticket over a routing rule."""
        department = draft.department
        if draft.team is not None and draft.team.department_id not in (None, department.pk):
            draft.hints.setdefault("notes", []).append(
                f"Ticket filters: the team {draft.team.name} belongs to another department than "
                f"{department.name}, so the ticket was not given to it."
            )
            draft.team = None
        if draft.assignee is not None and not assignee_fits(department, draft.assignee, draft.team):
            draft.hints.setdefault("notes", []).append(
                f"Ticket filters: {draft.assignee.name} holds no role in {department.name}, so the "
                "ticket was not assigned to them."
            )
            draft.assignee = None

    def _object(self, model: type[Model], pk: Any, action: MatchedAction | None) -> Model | None:
        key = (model, pk)
        if key not in self._objects:
            self._objects[key] = model._default_manager.filter(pk=pk).first()
        found = self._objects[key]
        if found is None and action is not None:
            label = REFERENCES[action.type][1]
            filter_disable_invalid(
                rule_id=action.filter_id,
                reason=f"Action {action.type.value} points at a {label} that no longer exists (id {pk}); "
                "pick an existing one and enable the filter again.",
            )
        return found


def filters_before_create(drafts: list[TicketDraft]) -> None:
    """The before-create hook: route each draft; the first refused one refuses the batch (PermissionDenied).

    Callers that batch independent requests route each one first (`FilterRun.route`), so a batch reaching
    here holds only drafts already routed, and one refusal never takes the others down with it.
    """
    if all(draft.hints.get(APPLIED) for draft in drafts):
        return
    run = FilterRun()
    try:
        for draft in drafts:
            refused_by = run.route(draft)
            if refused_by is not None:
                if not snapshot.confirmed():  # refused by filters that may since have changed
                    run.rejected_hits.clear()  # counted once, by the check that stands
                    raise snapshot.Stale()
                if draft.hints.get(BAN_SENDER):
                    raise SenderBanRequested(
                        refusal_message(draft.actor, refused_by),
                        address=draft.requester_email,
                        filter_name=refused_by,
                    )
                raise PermissionDenied(refusal_message(draft.actor, refused_by))
    finally:
        run.finish()


def count_hits(hits: Mapping[int, int], now: datetime) -> None:
    """Add to the filters' hit counts and last match: one UPDATE per filter, after commit (so concurrent
    tickets never queue on a filter's row, and only tickets that exist are counted)."""
    pending = {pk: count for pk, count in hits.items() if count}
    if not pending:
        return

    def write() -> None:
        for pk, count in sorted(pending.items()):
            FilterRule.objects.filter(pk=pk).update(hit_count=F("hit_count") + count, last_matched_at=now)

    transaction.on_commit(write)


def filters_after_create(tickets: list[Ticket], drafts: list[TicketDraft], now: datetime) -> None:
    """The after-create hook: what the filters decided that needs the ticket (see the module docstring)."""
    hits: Counter[int] = Counter()
    webhooks: list[FilterWebhookDelivery] = []
    for ticket, draft in zip(tickets, drafts, strict=True):
        hints = draft.hints
        # Notes are written for any routing step that left one (block 2 writes `hints["notes"]`).
        notes = hints.get("notes", ())
        for text in notes:
            ticket_note(actor=FILTERS_ACTOR, ticket=ticket, body=text)
        matched = hints.get(MATCHED)
        if matched:
            hits.update(matched)
        if "status" in hints:
            _set_status(Ticket.objects.get(pk=ticket.pk), *hints["status"])
        if notes or "status" in hints:
            ticket.refresh_from_db()  # the caller (alert ingest) keeps working with its own object
        for address, _rule_id, name in hints.get("notify", ()):
            notify_after_commit(address, name, ticket, "ticket.created")
        webhooks += [
            webhook_row(url, rule_id, name, ticket, "ticket.created", now)
            for url, rule_id, name in hints.get("webhooks", ())
        ]
    webhooks_queue(webhooks)
    count_hits(hits, now)


def _set_status(ticket: Ticket, status: str, filter_name: str) -> Ticket:
    """The status a filter asked for, through the state machine (a new ticket goes via in progress)."""
    if status == ticket.status:
        return ticket
    try:
        with transaction.atomic():
            changed = ticket
            if ticket.status == Status.NEW and status not in (Status.IN_PROGRESS, Status.ON_HOLD):
                changed = ticket_change_status(actor=FILTERS_ACTOR, ticket=changed, status=Status.IN_PROGRESS)
            resolution = "not_applicable" if status in (Status.RESOLVED, Status.CLOSED) else ""
            return ticket_change_status(
                actor=FILTERS_ACTOR,
                ticket=changed,
                status=status,
                resolution=resolution,
                comment=f"ticket filter {filter_name}",
            )
    except ServiceError as exc:
        ticket_note(
            actor=FILTERS_ACTOR,
            ticket=ticket,
            body=f"The ticket filter {filter_name!r} could not set the status to {status}: {exc.message}",
        )
        return ticket


def _ticket_payload(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "severity": ticket.severity,
        "status": ticket.status,
        "source": ticket.source,
        "department": ticket.department.name if ticket.department_id else None,
        "team": ticket.team.name if ticket.team_id and ticket.team else None,
        "assignee": ticket.assignee.user.get_username() if ticket.assignee_id and ticket.assignee else None,
        "created_at": ticket.created_at.isoformat(),
    }


def webhook_row(
    url: str, rule_id: int, name: str, ticket: Ticket, event: str, now: datetime
) -> FilterWebhookDelivery:
    payload = {
        "event": event,
        "filter": {"id": rule_id, "name": name},
        "ticket": _ticket_payload(ticket),
        "at": now.isoformat(),
    }
    return FilterWebhookDelivery(
        rule_id=rule_id,
        filter_name=name[:100],
        url=url,
        event=event,
        ticket_number=ticket.number,
        payload=payload,
        next_attempt_at=now,
        created_at=now,
    )


def notify_after_commit(address: str, filter_name: str, ticket: Ticket, event: str) -> None:
    """E-mail the address once the ticket is committed (a rolled-back ticket sends nothing)."""
    what = "was opened" if event == "ticket.created" else f"had an event ({event.replace('_', ' ')})"
    subject = f"[{ticket.number}] {ticket.subject}"[:200]
    body = (
        f"Ticket {ticket.number} {what} and matched the ticket filter {filter_name!r}.\n\n"
        f"Subject: {ticket.subject}\nSeverity: {ticket.severity}\nStatus: {ticket.status}\n"
        f"Department: {ticket.department.name}\n"
    )

    def send() -> None:
        try:
            send_mail(subject, body, None, [address])
        except Exception as exc:  # mail trouble must never surface in the request that opened the ticket
            log.warning(
                "Ticket filter %r could not e-mail %s about %s: %s", filter_name, address, ticket.number, exc
            )

    transaction.on_commit(send)
