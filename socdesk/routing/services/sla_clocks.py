"""Tickets' SLA clocks: started when tickets open, kept in step with every ticket change.

`sla_clocks_start` is the tickets app's after-create hook (one COPY or INSERT per batch, however many
tickets an ingest batch opens); `sla_clock_follow` its after-change hook: it pauses the clock while the
ticket is on hold, marks the response met at the first agent reply or acknowledgement and the resolution
at resolve, resumes the resolution clock of a reopened ticket, and recomputes the due times when the
severity (targets), the department or the help topic (their plans) changes. A recompute is audited as
`ticket.sla_changed`.
`department_sla_set` gives a department its plan and escalation manager.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from socdesk.accounts.models import Agent, Department
from socdesk.audit.services import record
from socdesk.core import sql
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.routing import clocks, sla, snapshot
from socdesk.routing.choices import PlanSource
from socdesk.routing.models import DepartmentSLA, HelpTopic, SLAPlan, TicketSLA
from socdesk.routing.selectors import schedule_pure
from socdesk.tickets.choices import Status
from socdesk.tickets.models import Ticket

if TYPE_CHECKING:
    from socdesk.tickets.hooks import TicketChange
    from socdesk.tickets.services.lifecycle import TicketDraft

DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class PlanInfo:
    """What a clock needs of its plan: the pure schedule, targets per severity and escalation levels."""

    plan: SLAPlan
    schedule: sla.Schedule
    targets: dict[str, tuple[int, int]]
    levels: tuple[clocks.LevelRule, ...]


def plan_infos(plan_ids: Iterable[int]) -> dict[int, PlanInfo]:
    """The plans with these ids (those that exist), kept per process until the configuration changes."""
    wanted = {pk for pk in plan_ids if pk}
    if not wanted:
        return {}
    known: dict[int, PlanInfo | None] = snapshot.current().piece("plan_infos", dict)
    missing = wanted - known.keys()
    if missing:
        read = _plan_infos_read(missing)
        known.update({pk: read.get(pk) for pk in missing})
    return {pk: info for pk in wanted if (info := known.get(pk)) is not None}


def _plan_infos_read(wanted: set[int]) -> dict[int, PlanInfo]:
    """The plans with these ids, read in a few queries whatever their number (schedules once each)."""
    plans = (
        SLAPlan.objects.filter(pk__in=wanted)
        .select_related("schedule")
        .prefetch_related("targets", "escalations")
    )
    schedules: dict[int, sla.Schedule] = {}
    infos = {}
    for plan in plans:
        if plan.schedule_id not in schedules:
            schedules[plan.schedule_id] = schedule_pure(plan.schedule)
        infos[plan.pk] = PlanInfo(
            plan=plan,
            schedule=schedules[plan.schedule_id],
            targets={t.severity: (t.response_minutes, t.resolution_minutes) for t in plan.targets.all()},
            levels=tuple(
                clocks.LevelRule(level=e.level, target=e.target, trigger=e.trigger)
                for e in plan.escalations.all()
            ),
        )
    return infos


# --- choosing the plan ----------------------------------------------------------------------------------


def _id(value: Any) -> int | None:
    """An id given as an int, a numeric string or a model instance (hooks pass what they have)."""
    if value is None or value == "":
        return None
    pk = getattr(value, "pk", value)
    try:
        return int(pk)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class PlanChoices:
    """Which plan a new ticket gets when no filter chose one: by help topic, by department, the default."""

    by_topic: dict[int, int]
    by_department: dict[int, int]
    default: int | None


def _plan_choices_read() -> PlanChoices:
    return PlanChoices(
        by_topic=dict(HelpTopic.objects.filter(sla_plan__isnull=False).values_list("pk", "sla_plan_id")),
        by_department=dict(
            DepartmentSLA.objects.filter(plan__isnull=False).values_list("department_id", "plan_id")
        ),
        default=SLAPlan.objects.filter(is_default=True).order_by("name").values_list("pk", flat=True).first(),
    )


def plan_choices() -> PlanChoices:
    """The plans of help topics and departments and the default, kept per process until they change."""
    return snapshot.current().piece("plan_choices", _plan_choices_read)


def plans_chosen(tickets: Sequence[Ticket], drafts: Sequence[TicketDraft]) -> list[tuple[int, str] | None]:
    """Each ticket's (plan id, source): a filter's choice (hints["sla_plan"]), else the help topic's plan,
    else the department's, else the default plan; None when there is none (no clock)."""
    choices = plan_choices()
    topic_plans, department_plans, default = choices.by_topic, choices.by_department, choices.default
    chosen: list[tuple[int, str] | None] = []
    for ticket, draft in zip(tickets, drafts, strict=True):
        filter_plan = _id(draft.hints.get("sla_plan"))
        topic_plan = topic_plans.get(_id(draft.hints.get("help_topic", draft.help_topic)) or 0)
        if filter_plan:
            chosen.append((filter_plan, PlanSource.FILTER))
        elif topic_plan:
            chosen.append((topic_plan, PlanSource.HELP_TOPIC))
        elif ticket.department_id in department_plans:
            chosen.append((department_plans[ticket.department_id], PlanSource.DEPARTMENT))
        elif default:
            chosen.append((default, PlanSource.DEFAULT))
        else:
            chosen.append(None)
    return chosen


def _plan_for_department(department_id: int) -> tuple[int, str] | None:
    choices = plan_choices()
    plan = choices.by_department.get(department_id)
    if plan:
        return plan, PlanSource.DEPARTMENT
    return (choices.default, PlanSource.DEFAULT) if choices.default else None


def _plan_for_topic(topic_id: Any, department_id: int) -> tuple[int, str] | None:
    """The plan of a ticket put on this help topic (None: taken off its topic): the topic's, else the
    department's, else the default (a filter's choice is kept by the caller)."""
    plan = plan_choices().by_topic.get(_id(topic_id) or 0)
    if plan:
        return plan, PlanSource.HELP_TOPIC
    return _plan_for_department(department_id)


# --- computing a clock ----------------------------------------------------------------------------------


def pauses_of(clock: TicketSLA) -> list[sla.Pause]:
    """The clock's finished pauses as instants."""
    return [(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in clock.pauses]


def clock_compute(clock: TicketSLA, info: PlanInfo | None, severity: str, now: datetime) -> None:
    """Set the clock's targets and their at-risk and due instants from its plan, the ticket's severity,
    its start and pauses, then its states (`clock_refresh`). In memory; the caller saves.

    While the clock is paused the instants stay as they were: they are computed again on resume.
    """
    minutes = info.targets.get(severity) if info else None
    clock.response_minutes, clock.resolution_minutes = minutes if minutes else (None, None)
    if clock.paused_since is None:
        for name in ("response", "resolution"):
            times = clocks.TargetTimes(None, None)
            if info is not None:
                times = clocks.target_times(
                    start=clock.started_at,
                    minutes=getattr(clock, f"{name}_minutes"),
                    schedule=info.schedule,
                    at_risk_share=info.plan.at_risk_share,
                    pauses=pauses_of(clock),
                )
            setattr(clock, f"{name}_at_risk_at", times.at_risk_at)
            setattr(clock, f"{name}_due_at", times.due_at)
    clock_refresh(clock, info.levels if info else (), now)


def clock_refresh(clock: TicketSLA, levels: tuple[clocks.LevelRule, ...], now: datetime) -> None:
    """Set the clock's target states, overall state and next check from its stored instants (no calendar
    arithmetic: what the scan does to each row it claims). Escalation levels done that no longer hold
    are dropped; when one is due now, the next check is now."""
    paused = clock.paused_since is not None
    running: list[tuple[clocks.TargetTimes, str]] = []
    overall: list[tuple[str, bool]] = []
    due_now = False
    for name in ("response", "resolution"):
        has_target = bool(getattr(clock, f"{name}_minutes"))
        times = clocks.TargetTimes(getattr(clock, f"{name}_at_risk_at"), getattr(clock, f"{name}_due_at"))
        met_at = getattr(clock, f"{name}_met_at")
        if has_target:
            state = clocks.target_state(
                times=times, met_at=met_at, now=now, paused=paused, state=getattr(clock, f"{name}_state")
            )
        else:
            state = clocks.NONE
        setattr(clock, f"{name}_state", state)
        is_running = has_target and met_at is None
        overall.append((state, is_running))
        if is_running and not paused:
            running.append((times, state))
        level = clocks.levels_kept(levels, name, getattr(clock, f"{name}_level"), state)
        setattr(clock, f"{name}_level", level)
        if is_running and not paused and clocks.levels_due(levels, name, level, state):
            due_now = True
    clock.state = clocks.overall_state(overall, paused=paused)
    # A state already due (a clock started or recomputed past its at-risk or due time) is escalated by
    # the next scan: it is told to look now.
    clock.next_check_at = now if due_now else clocks.next_check(running, now)


def _response_met_at(ticket: Ticket) -> datetime | None:
    """The first agent reply or acknowledgement, whichever came first."""
    moments = [m for m in (ticket.acknowledged_at, ticket.first_response_at) if m is not None]
    return min(moments) if moments else None


# --- the hooks ------------------------------------------------------------------------------------------


# What clock_compute sets on a new clock (all but the ticket, plan and start).
COMPUTED_FIELDS = (
    *(
        f"{target}_{what}"
        for target in ("response", "resolution")
        for what in ("minutes", "at_risk_at", "due_at", "state", "level")
    ),
    "state",
    "next_check_at",
)


def sla_clocks_start(tickets: list[Ticket], drafts: list[TicketDraft], now: datetime) -> None:
    """Start the clocks of newly opened tickets (after-create hook): one INSERT for the batch."""
    chosen = plans_chosen(tickets, drafts)
    infos = plan_infos(choice[0] for choice in chosen if choice)
    rows = []
    # A batch's tickets share their creation time, so clocks of one plan and severity are computed once.
    computed: dict[tuple[int, str, datetime], TicketSLA] = {}
    for ticket, choice in zip(tickets, chosen, strict=True):
        if choice is None or choice[0] not in infos:
            continue
        plan_id, source = choice
        clock = TicketSLA(ticket=ticket, plan_id=plan_id, plan_source=source, started_at=ticket.created_at)
        same = computed.get((plan_id, ticket.severity, ticket.created_at))
        if same is None:
            clock_compute(clock, infos[plan_id], ticket.severity, now)
            computed[(plan_id, ticket.severity, ticket.created_at)] = clock
        else:
            for name in COMPUTED_FIELDS:
                setattr(clock, name, getattr(same, name))
        rows.append(clock)
    # COPY on PostgreSQL (rows this transaction made, in the ticket write path; read back as bulk_create
    # stores them: tests/routing/test_sla_clocks.py), bulk_create on SQLite.
    sql.insert_new(rows)


def _due_snapshot(clock: TicketSLA) -> dict[str, Any]:
    return {
        "sla_plan": clock.plan_id,
        "response_due_at": clock.response_due_at.isoformat() if clock.response_due_at else None,
        "resolution_due_at": clock.resolution_due_at.isoformat() if clock.resolution_due_at else None,
    }


# Changes of a ticket's status: a merge closes the duplicate and its undo reopens it, as a status change.
STATUS_ACTIONS = frozenset({"ticket.status_changed", "ticket.merged", "ticket.merge_undone"})
# Changes that move a clock whatever else happened (any change may also be the first agent action).
FOLLOWED_ACTIONS = STATUS_ACTIONS | frozenset(
    {"ticket.severity_changed", "ticket.transferred", "ticket.help_topic_changed"}
)
# Changes after which a ticket without a clock may get one (its new department's or topic's plan).
STARTING_ACTIONS = frozenset({"ticket.transferred", "ticket.help_topic_changed"})


def sla_clock_follow(change: TicketChange) -> None:
    """Keep a ticket's clock in step with a change to it (after-change hook, in the change's transaction)."""
    clock = TicketSLA.objects.select_for_update().filter(ticket_id=change.ticket.pk).first()
    ticket = change.ticket
    if clock is None:
        if change.action in STARTING_ACTIONS:
            _start_after_change(change)
        return
    if change.action not in FOLLOWED_ACTIONS and (
        clock.response_met_at is not None or _response_met_at(ticket) is None
    ):
        return  # a note, tags, an assignment...: nothing the clock depends on
    now = ticket.last_activity_at
    before = _due_snapshot(clock)
    recompute = False
    if change.action == "ticket.transferred" and clock.plan_source in (
        PlanSource.DEPARTMENT,
        PlanSource.DEFAULT,
    ):
        chosen = _plan_for_department(ticket.department_id)
        if chosen is not None and chosen[0] != clock.plan_id:
            clock.plan_id, clock.plan_source = chosen
            recompute = True
    if change.action == "ticket.help_topic_changed" and clock.plan_source != PlanSource.FILTER:
        # A filter's plan was a deliberate choice about this ticket and outranks any topic's.
        chosen = _plan_for_topic(change.after.get("help_topic"), ticket.department_id)
        if chosen is not None and chosen != (clock.plan_id, clock.plan_source):
            clock.plan_id, clock.plan_source = chosen
            recompute = True
    if change.action == "ticket.severity_changed":
        recompute = True
    if change.action in STATUS_ACTIONS and "status" in change.before:
        _follow_status(clock, change.before.get("status", ""), ticket, now)
    if clock.response_met_at is None:
        clock.response_met_at = _response_met_at(ticket)
    info = plan_infos([clock.plan_id] if clock.plan_id else []).get(clock.plan_id or 0)
    clock_compute(clock, info, ticket.severity, now)
    clock.save()
    after = _due_snapshot(clock)
    if recompute and after != before:
        record(
            actor=change.actor,
            action="ticket.sla_changed",
            target=ticket,
            target_label=f"{ticket.number} {ticket.subject}"[:200],
            before=before,
            after=after | {"reason": change.action, "plan_source": clock.plan_source},
        )


def _follow_status(clock: TicketSLA, previous: str, ticket: Ticket, now: datetime) -> None:
    """Pause on hold, resume after; stop at resolve or close; a reopened ticket resumes its resolution
    clock (the time it spent resolved does not count)."""
    status = ticket.status
    if clock.paused_since is not None and status != Status.ON_HOLD:
        clock.pauses = [*clock.pauses, [clock.paused_since.isoformat(), now.isoformat()]]
        clock.paused_since = None
    if status == Status.ON_HOLD and clock.paused_since is None:
        clock.paused_since = now
    if status in DONE_STATUSES:
        stop = ticket.resolved_at or ticket.closed_at or now
        clock.resolution_met_at = clock.resolution_met_at or stop
        # Resolved without a reply: nothing is left to respond to.
        clock.response_met_at = clock.response_met_at or _response_met_at(ticket) or stop
    elif previous in DONE_STATUSES and clock.resolution_met_at is not None:
        clock.pauses = [*clock.pauses, [clock.resolution_met_at.isoformat(), now.isoformat()]]
        clock.resolution_met_at = None


def _start_after_change(change: TicketChange) -> None:
    """A ticket that had no plan gets one when it moves: its new department's when transferred, its new
    topic's (else its department's) when put on another help topic; else the default plan."""
    ticket = change.ticket
    if change.action == "ticket.help_topic_changed":
        chosen = _plan_for_topic(change.after.get("help_topic"), ticket.department_id)
    else:
        chosen = _plan_for_department(ticket.department_id)
    if chosen is None or ticket.status in DONE_STATUSES:
        return
    info = plan_infos([chosen[0]]).get(chosen[0])
    if info is None:
        return
    clock = TicketSLA(ticket=ticket, plan_id=chosen[0], plan_source=chosen[1], started_at=ticket.created_at)
    if ticket.status == Status.ON_HOLD:
        clock.paused_since = ticket.last_activity_at
    clock.response_met_at = _response_met_at(ticket)
    clock_compute(clock, info, ticket.severity, ticket.last_activity_at)
    clock.save(force_insert=True)
    record(
        actor=change.actor,
        action="ticket.sla_changed",
        target=ticket,
        target_label=f"{ticket.number} {ticket.subject}"[:200],
        before={"sla_plan": None, "response_due_at": None, "resolution_due_at": None},
        after=_due_snapshot(clock) | {"reason": change.action, "plan_source": clock.plan_source},
    )


# --- department settings --------------------------------------------------------------------------------


@transaction.atomic
def department_sla_set(
    *, actor: Actor, department: Department, plan: SLAPlan | None, manager: Agent | None = None
) -> DepartmentSLA:
    """Give a department the SLA plan its tickets get when no filter or help topic picks one (None: the
    default plan) and the manager its escalations notify; changes no clock already running."""
    if plan is not None and not SLAPlan.objects.filter(pk=plan.pk).exists():
        raise ServiceError(
            "That SLA plan no longer exists; pick an existing one.", fields={"plan": "invalid"}
        )
    if manager is not None and not manager.user.is_active:
        raise ServiceError(
            f"{manager.name} is not an active agent; choose an active one as manager.",
            fields={"manager": "inactive"},
        )
    settings, _created = DepartmentSLA.objects.select_for_update().get_or_create(department=department)
    before = {"plan": settings.plan_id, "manager": settings.manager_id}
    settings.plan, settings.manager = plan, manager
    settings.save()
    record(
        actor=actor,
        action="department.sla_set",
        target=department,
        before=before,
        after={"plan": settings.plan_id, "manager": settings.manager_id},
    )
    return settings
