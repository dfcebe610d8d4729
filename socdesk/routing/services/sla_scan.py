"""The SLA scan: move due clocks to at risk / breached and escalate them, level by level, exactly once.

Run every 30 seconds by the worker (socdesk.routing.tasks) and by `socdesk sla scan`. Any number of
scans may run at once on any number of machines:

1. Claim: read up to `batch` clocks whose next check has come, then
   `UPDATE ... SET next_check_at = now + lease, claimed_by = token WHERE ticket_id IN (...) AND
   next_check_at <= now`; only the rows this UPDATE changed are this scan's (another scan's UPDATE finds
   the condition false once the first has committed).
2. States: each claimed clock's target states are read off its stored instants; the clocks with nothing
   to escalate are written back in one statement.
3. Escalation: the clocks with levels to climb are locked (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's
   writer lock is held already) where they still carry this scan's token and the levels it read; only
   those are escalated (recipients announced, team reassigned, severity raised, `ticket.escalated`
   audited), their new levels written with the states in the same transaction. A scan whose lease ran
   out and whose rows another scan claimed therefore escalates nothing twice.

Per batch of clocks the scan runs a fixed number of statements (claim, read, lock, one write of every
state, one INSERT of the escalation events); only escalations that act on the ticket cost more.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from socdesk.accounts.models import Agent
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import audit_event, record, record_many
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.metrics import SLA_BREACHES, count_after_commit
from socdesk.routing import clocks
from socdesk.routing.choices import EscalationRecipient
from socdesk.routing.events import Escalation, escalations_announce
from socdesk.routing.models import DepartmentSLA, TicketSLA
from socdesk.routing.services.sla_clocks import PlanInfo, clock_refresh, plan_infos
from socdesk.tickets.choices import Severity
from socdesk.tickets.hooks import run_figures_touched
from socdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

SCAN_ACTOR = Actor.system("sla-scan")
SCAN_BATCH = 1000
# How long a scan holds the rows it claimed; a scan that dies mid-batch leaves them to the next one
# after this (the conditional UPDATE on the levels keeps that from escalating anything twice).
LEASE = timedelta(minutes=2)
STATE_FIELDS = [
    "response_state",
    "resolution_state",
    "state",
    "response_level",
    "resolution_level",
    "next_check_at",
]
TARGETS = ("response", "resolution")


@dataclass
class ScanReport:
    """What one scan did: clocks checked, escalation levels climbed."""

    checked: int = 0
    escalations: int = 0


def sla_scan(*, now: datetime | None = None, batch: int = SCAN_BATCH) -> ScanReport:
    """Check every clock whose next check has come (in batches), write its states, escalate what is due."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    report = ScanReport()
    seen: set[int] = set()
    infos: dict[int, PlanInfo] = {}
    while True:
        candidates = list(
            TicketSLA.objects.filter(next_check_at__lte=now)
            .order_by("next_check_at")
            .values_list("ticket_id", flat=True)[:batch]
        )
        # A row this scan already handled comes back only when a change its escalation made (a raised
        # severity) brought a new level due: the next scan takes it, so one scan always ends.
        candidates = [pk for pk in candidates if pk not in seen]
        if not candidates:
            return report
        seen.update(candidates)
        claimed = _claim(candidates, token, now)
        if claimed:
            with transaction.atomic():
                _process(claimed, token, now, report, infos)


def _claim(candidates: list[int], token: str, now: datetime) -> list[int]:
    """The candidates this scan now holds (see the module docstring); autocommitted on its own."""
    TicketSLA.objects.filter(ticket_id__in=candidates, next_check_at__lte=now).update(
        next_check_at=now + LEASE, claimed_by=token
    )
    return list(
        TicketSLA.objects.filter(ticket_id__in=candidates, claimed_by=token).values_list("pk", flat=True)
    )


def _process(
    ids: list[int], token: str, now: datetime, report: ScanReport, infos: dict[int, PlanInfo]
) -> None:
    rows = list(TicketSLA.objects.filter(ticket_id__in=ids, claimed_by=token))
    missing = {row.plan_id for row in rows if row.plan_id and row.plan_id not in infos}
    if missing:
        infos.update(plan_infos(missing))
    quiet: list[TicketSLA] = []
    escalating: list[tuple[TicketSLA, tuple[int, int], list[tuple[str, list[clocks.LevelRule]]]]] = []
    states_before = {clock.pk: _target_states(clock) for clock in rows}
    for clock in rows:
        report.checked += 1
        info = infos.get(clock.plan_id or 0)
        levels_before = (clock.response_level, clock.resolution_level)
        clock_refresh(clock, info.levels if info else (), now)
        due = []
        if info is not None and clock.paused_since is None:
            for name in TARGETS:
                if getattr(clock, f"{name}_met_at") is None:
                    rules = clocks.levels_due(
                        info.levels, name, getattr(clock, f"{name}_level"), getattr(clock, f"{name}_state")
                    )
                    if rules:
                        due.append((name, rules))
        if due:
            escalating.append((clock, levels_before, due))
        else:
            quiet.append(clock)
    won = _still_ours(escalating, token)
    climbing = [(clock, due) for clock, _levels, due in escalating if clock.pk in won]
    for clock, due in climbing:
        for name, rules in due:
            setattr(clock, f"{name}_level", rules[-1].level)
        clock_refresh(clock, infos[clock.plan_id or 0].levels, now)  # the next check, these levels done
    # States and levels in one statement; the escalations below run in the same transaction.
    written = quiet + [clock for clock, _due in climbing]
    sql.bulk_set(written, STATE_FIELDS)
    _count_breaches(written, states_before)
    # A target decided (breached) changes the SOC metrics' SLA compliance: the apps above mark it.
    run_figures_touched([clock.pk for clock in written if _target_states(clock) != states_before[clock.pk]])
    # Only the tickets with a level to climb are read, with what their recipients need, in one query.
    tickets = Ticket.objects.select_related("assignee__user", "team__lead__user").in_bulk(
        [clock.pk for clock, _due in climbing]
    )
    for clock, _due in climbing:
        clock.ticket = tickets[clock.pk]
    managers = _Managers()
    told: list[AuditEvent] = []
    heard: list[Escalation] = []
    for clock, due in climbing:
        for name, rules in due:
            for rule in rules:
                event, escalation = _escalate(
                    clock, infos[clock.plan_id or 0], name, rule.level, now, managers
                )
                if event is not None:
                    told.append(event)
                heard.append(escalation)
                report.escalations += 1
    record_many(told)
    escalations_announce(heard)


def _target_states(clock: TicketSLA) -> tuple[str, ...]:
    return tuple(getattr(clock, f"{name}_state") for name in TARGETS)


def _count_breaches(written: list[TicketSLA], states_before: dict[int, tuple[str, ...]]) -> None:
    """Count the targets this scan found newly breached (`socdesk_sla_breaches_total`), once committed.

    Only rows this scan writes: a row another scan took over is counted by that scan.
    """
    for index, name in enumerate(TARGETS):
        newly = sum(
            1
            for clock in written
            if getattr(clock, f"{name}_state") == clocks.BREACHED
            and states_before[clock.pk][index] != clocks.BREACHED
        )
        count_after_commit(SLA_BREACHES, newly, target=name)


def _still_ours(
    escalating: list[tuple[TicketSLA, tuple[int, int], list[tuple[str, list[clocks.LevelRule]]]]], token: str
) -> set[int]:
    """The escalating clocks this scan still holds with the levels it read, locked until it commits.

    A scan whose lease ran out may have lost a row to another scan (which then climbs its levels):
    such a row no longer carries this scan's token, or no longer the levels it read, and is left alone.
    """
    if not escalating:
        return set()
    read = {clock.pk: levels for clock, levels, _due in escalating}
    locked = sql.for_update(TicketSLA.objects.filter(ticket_id__in=list(read), claimed_by=token))
    return {
        pk
        for pk, response_level, resolution_level in locked.values_list(
            "ticket_id", "response_level", "resolution_level"
        )
        if read[pk] == (response_level, resolution_level)
    }


class _Managers:
    """Departments' escalation managers, each read once per batch."""

    def __init__(self) -> None:
        self._known: dict[int, Agent | None] = {}

    def of(self, department_id: int) -> Agent | None:
        if department_id not in self._known:
            settings = (
                DepartmentSLA.objects.select_related("manager__user")
                .filter(department_id=department_id)
                .first()
            )
            self._known[department_id] = settings.manager if settings else None
        return self._known[department_id]


def _recipients(ticket: Ticket, notify: str, managers: _Managers) -> tuple[Agent, ...]:
    """The agents a level names: the assignee, the team lead or the department manager (active ones)."""
    agent: Agent | None = None
    if notify == EscalationRecipient.ASSIGNEE:
        agent = ticket.assignee
    elif notify == EscalationRecipient.TEAM_LEAD:
        agent = ticket.team.lead if ticket.team else None
    elif notify == EscalationRecipient.DEPARTMENT_MANAGER:
        agent = managers.of(ticket.department_id)
    return (agent,) if agent is not None and agent.user.is_active else ()


def _next_severity(severity: str) -> str | None:
    order = list(Severity.values)
    index = order.index(severity) if severity in order else len(order) - 1
    return order[index + 1] if index + 1 < len(order) else None


def _escalate(
    clock: TicketSLA, info: PlanInfo, target: str, level: int, now: datetime, managers: _Managers
) -> tuple[AuditEvent | None, Escalation]:
    """Climb one escalation level of one ticket: resolve its recipients and act. Returns the
    `ticket.escalated` event to write with the batch's (None when written here, after the actions
    it reports) and the escalation to announce."""
    from socdesk.tickets.services import ticket_assign, ticket_change_severity

    rule = next(e for e in info.plan.escalations.all() if e.level == level)
    ticket = clock.ticket
    state = getattr(clock, f"{target}_state")
    recipients = _recipients(ticket, rule.notify, managers)
    done: dict[str, Any] = {
        "target": target,
        "state": state,
        "level": level,
        "notified": [agent.name for agent in recipients],
    }
    acted = False
    if rule.reassign_team_id and ticket.team_id != rule.reassign_team_id:
        acted = True
        done["reassigned_team"] = _act(
            lambda: (
                ticket_assign(actor=SCAN_ACTOR, ticket=ticket, agent=None, team=rule.reassign_team).team_id
            )
        )
    if rule.raise_severity:
        ticket.refresh_from_db(fields=["severity"])
        higher = _next_severity(ticket.severity)
        if higher is not None:
            acted = True
            done["severity"] = _act(
                lambda: ticket_change_severity(actor=SCAN_ACTOR, ticket=ticket, severity=higher).severity
            )
    details: dict[str, Any] = {
        "target": ticket,
        "target_label": f"{ticket.number} {ticket.subject}"[:200],
        "after": done,
    }
    escalation = Escalation(
        ticket=ticket, target=target, state=state, level=level, recipients=recipients, at=now
    )
    if acted:  # the ticket as the actions left it, and the event after theirs
        ticket.refresh_from_db()
        record(actor=SCAN_ACTOR, action="ticket.escalated", **details)
        return None, escalation
    return audit_event(actor=SCAN_ACTOR, action="ticket.escalated", **details), escalation


def _act(action: Any) -> Any:
    """Run one escalation action through the ticket services; a refusal (the team left the department,
    the ticket already that way) is recorded on the escalation instead of stopping the scan."""
    try:
        with transaction.atomic():
            return action()
    except ServiceError as error:
        log.warning("SLA escalation action refused: %s", error.message)
        return {"refused": error.message}
