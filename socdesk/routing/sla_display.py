"""How a ticket's SLA clock reads to people: the queue's SLA columns, the ticket page's clock, the API's
fields. Reads only (one query per page of rows); the clock rows are written by the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from socdesk.audit.models import AuditEvent
from socdesk.core.durations import duration_label
from socdesk.routing.choices import ClockState, TargetState
from socdesk.routing.models import SLAPlan, TicketSLA
from socdesk.routing.selectors import schedule_pure
from socdesk.routing.sla import working_time_between
from socdesk.tickets.models import Ticket
from socdesk.tickets.rows import RowCell

STATE_LABELS = dict(ClockState.choices)
TARGET_LABELS = dict(TargetState.choices)


def _running_due(clock: TicketSLA) -> tuple[str, datetime | None]:
    """The target that runs next (response first, then resolution) and its due time."""
    if clock.response_minutes and clock.response_met_at is None:
        return "response", clock.response_due_at
    if clock.resolution_minutes and clock.resolution_met_at is None:
        return "resolution", clock.resolution_due_at
    return "", None


# What the queue's SLA columns read with each row (Ticket lookups through the clock's reverse name).
CELL_FIELDS = (
    "sla__state",
    "sla__paused_since",
    "sla__response_minutes",
    "sla__response_met_at",
    "sla__response_due_at",
    "sla__response_state",
    "sla__resolution_minutes",
    "sla__resolution_met_at",
    "sla__resolution_due_at",
    "sla__resolution_state",
)


def sla_cell(row: dict[str, Any]) -> RowCell | None:
    """The queue's "SLA due" cell: when the running target (response, then resolution) is due, coloured
    by the clock's state (at risk, overdue), which the title names; "paused" while on hold, "met" when no
    target runs any more (None without a clock). One column, so the queue still fits a laptop's width."""
    state = row["sla__state"]
    if state is None:
        return None
    label = STATE_LABELS.get(state, state)
    if row["sla__paused_since"] is not None:
        return RowCell("paused", title="On hold: the SLA clock is paused", css="sla-state sla-paused")
    for target in ("response", "resolution"):
        if row[f"sla__{target}_minutes"] and row[f"sla__{target}_met_at"] is None:
            due = row[f"sla__{target}_due_at"]
            if due is None:
                break
            local = timezone.localtime(due)
            return RowCell(
                local.strftime("%b %-d, %H:%M"),
                title=f"{label}: {target} due {local.strftime('%Y-%m-%d %H:%M %Z')}",
                css=f"sla-{state}",
            )
    response = TARGET_LABELS.get(row["sla__response_state"], "")
    resolution = TARGET_LABELS.get(row["sla__resolution_state"], "")
    return RowCell(
        label.lower(),
        title=f"Response: {response.lower()}; resolution: {resolution.lower()}",
        css=f"sla-state sla-{state}",
    )


@dataclass(frozen=True)
class ClockView:
    """The ticket page's SLA clock: the plan, the running target and its remaining working time."""

    plan: str
    plan_source: str
    state: str
    state_label: str
    target: str
    target_words: str  # "to respond", "to resolve"
    due_at: datetime | None
    remaining_seconds: int | None  # working seconds left (negative: overdue by that much)
    remaining_label: str
    counting: bool  # whether the clock runs now (inside working hours, not paused)
    targets: list[dict[str, Any]]


def ticket_sla_clock(ticket: Ticket, now: datetime | None = None) -> ClockView | None:
    """The ticket's clock as the ticket page shows it (None without a plan): remaining working time
    computed on the server (the page's script only counts it down while the clock runs)."""
    clock = TicketSLA.objects.select_related("plan__schedule").filter(ticket_id=ticket.pk).first()
    if clock is None or clock.plan is None:
        return None
    now = now or timezone.now()
    plan: SLAPlan = clock.plan
    target, due = _running_due(clock)
    remaining: int | None = None
    counting = False
    label = ""
    if due is not None and clock.paused_since is None:
        schedule = schedule_pure(plan.schedule)
        if due >= now:
            left = working_time_between(now, due, schedule)
        else:
            left = -working_time_between(due, now, schedule)
        remaining = int(left.total_seconds())
        # The clock runs now when a working minute starts now (24/7 always; otherwise inside hours).
        counting = working_time_between(now, now + timedelta(minutes=1), schedule) > timedelta(0)
        label = f"{duration_label(left)} left" if remaining >= 0 else f"overdue by {duration_label(-left)}"
    elif clock.paused_since is not None:
        label = "paused while on hold"
    targets = []
    for name in ("response", "resolution"):
        if getattr(clock, f"{name}_minutes"):
            targets.append(
                {
                    "name": name,
                    "due_at": getattr(clock, f"{name}_due_at"),
                    "met_at": getattr(clock, f"{name}_met_at"),
                    "state": getattr(clock, f"{name}_state"),
                    "state_label": TARGET_LABELS.get(getattr(clock, f"{name}_state"), ""),
                }
            )
    return ClockView(
        plan=plan.name,
        plan_source=clock.get_plan_source_display(),
        state=clock.state,
        state_label=STATE_LABELS.get(clock.state, clock.state),
        target=target,
        target_words={"response": "to respond", "resolution": "to resolve"}.get(target, ""),
        due_at=due,
        remaining_seconds=remaining,
        remaining_label=label,
        counting=counting,
        targets=targets,
    )


def describe_escalation(event: AuditEvent) -> str:
    """The history's sentence for `ticket.escalated`."""
    after = event.after or {}
    state = "breached" if after.get("state") == "breached" else "at risk"
    text = f"escalated to level {after.get('level')}: the {after.get('target')} target is {state}"
    notified = after.get("notified") or []
    if notified:
        text += f"; notified {', '.join(notified)}"
    refused = [
        value["refused"]
        for value in (after.get("reassigned_team"), after.get("severity"))
        if isinstance(value, dict)
    ]
    if refused:
        text += f" (not done: {' '.join(refused)})"
    return text


def describe_sla_change(event: AuditEvent) -> str:
    """The history's sentence for `ticket.sla_changed`."""
    after = event.after or {}
    due = after.get("resolution_due_at") or after.get("response_due_at")
    when = timezone.localtime(datetime.fromisoformat(due)).strftime("%b %-d, %H:%M") if due else "none"
    return f"recomputed the SLA (resolution due {when})"


def ticket_sla_api(ticket: Ticket) -> dict[str, Any] | None:
    """The REST API's `sla` object of a ticket (None without a clock); reads `ticket.sla` (select it
    with the ticket: `select_related("sla")`, so a list costs no query per ticket)."""
    try:
        clock: TicketSLA = ticket.sla  # reverse one-to-one from routing
    except TicketSLA.DoesNotExist:
        return None
    return {
        "plan_id": clock.plan_id,
        "plan_source": clock.plan_source,
        "state": clock.state,
        "paused": clock.paused_since is not None,
        "response": {
            "due_at": clock.response_due_at,
            "met_at": clock.response_met_at,
            "state": clock.response_state,
            "level": clock.response_level,
        },
        "resolution": {
            "due_at": clock.resolution_due_at,
            "met_at": clock.resolution_met_at,
            "state": clock.resolution_state,
            "level": clock.resolution_level,
        },
    }
