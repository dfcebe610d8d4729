"""The SLA scan: move due clocks to at risk / breached and escalate them, level by level, exactly once.

Run every 30 seconds by the worker (socdesk.routing.tasks) and by `socdesk sla scan`. Any number of
scans may run at once on any number of machines:

1. Claim: read up to `batch` clocks whose next check has come, then
   `UPDATE ... SET next_check_at = now + lease, claimed_by = token WHERE ticket_id IN (...) AND
   next_check_at <= now`; only the rows this UPDATE changed are this scan's (another scan's UPDATE finds
   the condition false once the first has committed).
2. States: each claimed clock's target states are read off its stored instants; the clocks with nothing
   to escalate are written back in one statement.
3. Escalation: a clock with levels to climb is written with `UPDATE ... WHERE ticket_id = ... AND
   claimed_by = token AND response_level = <read> AND resolution_level = <read>`; only when that UPDATE
   changed the row are the levels escalated (recipients announced, team reassigned, severity raised,
   `ticket.escalated` audited). A scan whose lease ran out and whose row another scan took therefore
   escalates nothing twice.
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
from socdesk.audit.services import record
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.routing import clocks
from socdesk.routing.choices import EscalationRecipient
from socdesk.routing.events import Escalation, escalation_announce
from socdesk.routing.models import DepartmentSLA, TicketSLA
from socdesk.routing.services.sla_clocks import PlanInfo, clock_refresh, plan_infos
from socdesk.tickets.choices import Severity
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
                _process(claimed, token, now, report)


def _claim(candidates: list[int], token: str, now: datetime) -> list[int]:
    """The candidates this scan now holds (see the module docstring); autocommitted on its own."""
    TicketSLA.objects.filter(ticket_id__in=candidates, next_check_at__lte=now).update(
        next_check_at=now + LEASE, claimed_by=token
    )
    return list(
        TicketSLA.objects.filter(ticket_id__in=candidates, claimed_by=token).values_list("pk", flat=True)
    )


def _process(ids: list[int], token: str, now: datetime, report: ScanReport) -> None:
    rows = list(
        TicketSLA.objects.filter(ticket_id__in=ids, claimed_by=token).select_related(
            "ticket__department", "ticket__assignee__user", "ticket__team__lead__user"
        )
    )
    infos = plan_infos({row.plan_id for row in rows if row.plan_id})
    quiet: list[TicketSLA] = []
    escalating: list[tuple[TicketSLA, tuple[int, int], list[tuple[str, list[clocks.LevelRule]]]]] = []
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
    sql.bulk_set(quiet, STATE_FIELDS)
    managers = _Managers()
    for clock, (response_level, resolution_level), due in escalating:
        for name, rules in due:
            setattr(clock, f"{name}_level", rules[-1].level)
        assert clock.plan_id is not None
        info = infos[clock.plan_id]
        clock_refresh(clock, info.levels, now)  # the next check, now that these levels are done
        won = TicketSLA.objects.filter(
            ticket_id=clock.pk,
            claimed_by=token,
            response_level=response_level,
            resolution_level=resolution_level,
        ).update(**{field: getattr(clock, field) for field in STATE_FIELDS})
        if not won:
            continue  # another scan took the row over (this one's lease ran out): it escalates
        for name, rules in due:
            for rule in rules:
                _escalate(clock, info, name, rule.level, now, managers)
                report.escalations += 1


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
) -> None:
    """Climb one escalation level of one ticket: announce its recipients, act, audit."""
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
    if rule.reassign_team_id and ticket.team_id != rule.reassign_team_id:
        done["reassigned_team"] = _act(
            lambda: (
                ticket_assign(actor=SCAN_ACTOR, ticket=ticket, agent=None, team=rule.reassign_team).team_id
            )
        )
    if rule.raise_severity:
        ticket.refresh_from_db(fields=["severity"])
        higher = _next_severity(ticket.severity)
        if higher is not None:
            done["severity"] = _act(
                lambda: ticket_change_severity(actor=SCAN_ACTOR, ticket=ticket, severity=higher).severity
            )
    if "reassigned_team" in done or "severity" in done:  # announce the ticket as the actions left it
        ticket.refresh_from_db()
    record(
        actor=SCAN_ACTOR,
        action="ticket.escalated",
        target=ticket,
        target_label=f"{ticket.number} {ticket.subject}"[:200],
        after=done,
    )
    escalation_announce(
        Escalation(ticket=ticket, target=target, state=state, level=level, recipients=recipients, at=now)
    )


def _act(action: Any) -> Any:
    """Run one escalation action through the ticket services; a refusal (the team left the department,
    the ticket already that way) is recorded on the escalation instead of stopping the scan."""
    try:
        with transaction.atomic():
            return action()
    except ServiceError as error:
        log.warning("SLA escalation action refused: %s", error.message)
        return {"refused": error.message}
