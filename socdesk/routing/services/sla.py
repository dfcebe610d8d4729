"""Writes for schedules and SLA plans (targets and escalation levels); each validates and is audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction

from socdesk.accounts.models import Team
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_text
from socdesk.routing import sla
from socdesk.routing.choices import EscalationRecipient, EscalationTrigger, SlaTargetKind
from socdesk.routing.models import (
    DepartmentSLA,
    EscalationLevel,
    Holiday,
    Schedule,
    SLAPlan,
    SLATarget,
    WorkingHours,
)
from socdesk.routing.services._common import filters_using
from socdesk.routing.snapshot import configuration_changed
from socdesk.tickets.choices import Severity


@dataclass(frozen=True)
class ScheduleDefinition:
    """A schedule as given: 24/7, or `{"mon": ["08:00-12:00", ...]}` in a time zone, with holidays."""

    name: str
    time_zone: str = "UTC"
    always: bool = False
    hours: Mapping[str, Sequence[str]] | None = None
    holidays: Mapping[date, str] | None = None


def _name(text: str, what: str) -> str:
    name = clean_text(text).strip()
    if not name or len(name) > 100:
        raise ServiceError(f"{what} needs a name of 1 to 100 characters.", fields={"name": "invalid"})
    return name


def _pure_schedule(definition: ScheduleDefinition) -> sla.Schedule:
    """The pure schedule, which checks time zone, intervals and overlaps; errors become ServiceErrors."""
    try:
        if definition.always:
            return sla.Schedule(time_zone=definition.time_zone, always=True)
        return sla.Schedule.weekly(
            definition.time_zone, definition.hours or {}, (definition.holidays or {}).keys()
        )
    except sla.ScheduleError as error:
        raise ServiceError(f"Schedule {definition.name!r}: {error}", fields={"hours": "invalid"}) from None


def _schedule_snapshot(schedule: Schedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "always": schedule.always,
        "hours": [
            [h.weekday, sla.format_clock(h.start_minute), sla.format_clock(h.end_minute)]
            for h in schedule.working_hours.order_by("weekday", "start_minute")
        ],
        "holidays": {h.date.isoformat(): h.name for h in schedule.holidays.order_by("date")},
    }


def _write_schedule(schedule: Schedule, definition: ScheduleDefinition, pure: sla.Schedule) -> None:
    schedule.working_hours.all().delete()
    schedule.holidays.all().delete()
    if pure.always:
        return
    WorkingHours.objects.bulk_create(
        WorkingHours(schedule=schedule, weekday=day, start_minute=start, end_minute=end)
        for day, intervals in enumerate(pure.week)
        for start, end in intervals
    )
    Holiday.objects.bulk_create(
        Holiday(schedule=schedule, date=day, name=clean_text(name)[:100])
        for day, name in sorted((definition.holidays or {}).items())
    )
    configuration_changed()  # bulk writes send no signal


@transaction.atomic
def schedule_create(*, actor: Actor, definition: ScheduleDefinition) -> Schedule:
    """Create a schedule (working hours and holidays), refusing bad intervals with the weekday named."""
    name = _name(definition.name, "A schedule")
    pure = _pure_schedule(definition)
    if Schedule.objects.filter(name__iexact=name).exists():
        raise ServiceError(f"A schedule named {name!r} already exists.", fields={"name": "taken"})
    schedule = Schedule.objects.create(name=name, time_zone=pure.time_zone, always=pure.always)
    _write_schedule(schedule, definition, pure)
    record(actor=actor, action="schedule.created", target=schedule, after=_schedule_snapshot(schedule))
    return schedule


@transaction.atomic
def schedule_update(*, actor: Actor, schedule: Schedule, definition: ScheduleDefinition) -> Schedule:
    """Replace a schedule's name, zone, hours and holidays."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    name = _name(definition.name, "A schedule")
    pure = _pure_schedule(definition)
    if Schedule.objects.filter(name__iexact=name).exclude(pk=schedule.pk).exists():
        raise ServiceError(f"A schedule named {name!r} already exists.", fields={"name": "taken"})
    before = _schedule_snapshot(schedule)
    schedule.name, schedule.time_zone, schedule.always = name, pure.time_zone, pure.always
    schedule.save()
    _write_schedule(schedule, definition, pure)
    record(
        actor=actor,
        action="schedule.updated",
        target=schedule,
        before=before,
        after=_schedule_snapshot(schedule),
    )
    return schedule


@transaction.atomic
def schedule_delete(*, actor: Actor, schedule: Schedule) -> None:
    """Delete a schedule no SLA plan uses."""
    plans = list(SLAPlan.objects.filter(schedule=schedule).values_list("name", flat=True))
    if plans:
        raise ServiceError(
            f"Schedule {schedule.name!r} is used by the SLA plan(s) {', '.join(plans)}; "
            "give them another schedule first."
        )
    record(actor=actor, action="schedule.deleted", target=schedule, before=_schedule_snapshot(schedule))
    schedule.delete()


@dataclass(frozen=True)
class EscalationDefinition:
    """One escalation level: when the target is at risk / breached, notify someone, optionally act."""

    trigger: str
    target: str = SlaTargetKind.RESOLUTION
    notify: str = EscalationRecipient.ASSIGNEE
    reassign_team: Team | None = None
    raise_severity: bool = False


@dataclass(frozen=True)
class PlanDefinition:
    """An SLA plan: targets per severity as (response, resolution) working minutes, and escalations."""

    name: str
    schedule: Schedule
    targets: Mapping[str, tuple[int, int]]
    at_risk_share: float = 0.75
    is_default: bool = False
    escalations: Sequence[EscalationDefinition] = ()


def _validate_plan(definition: PlanDefinition) -> str:
    name = _name(definition.name, "An SLA plan")
    if not 0 < definition.at_risk_share <= 1:
        raise ServiceError(
            f"SLA plan {name!r}: the at-risk share must be more than 0 and at most 1 (e.g. 0.75).",
            fields={"at_risk_share": "out_of_range"},
        )
    if not definition.targets:
        raise ServiceError(
            f"SLA plan {name!r} needs a target for at least one severity.", fields={"targets": "empty"}
        )
    for severity, (response, resolution) in definition.targets.items():
        if severity not in Severity.values:
            raise ServiceError(
                f"SLA plan {name!r}: unknown severity {severity!r} (use {', '.join(Severity.values)}).",
                fields={"targets": "invalid"},
            )
        if not (isinstance(response, int) and isinstance(resolution, int) and 0 < response <= resolution):
            raise ServiceError(
                f"SLA plan {name!r}, {severity}: the response target must be at least 1 minute and no longer "
                "than the resolution target.",
                fields={"targets": "invalid"},
            )
    for level, escalation in enumerate(definition.escalations, start=1):
        where = f"SLA plan {name!r}, escalation level {level}"
        if escalation.trigger not in EscalationTrigger.values:
            raise ServiceError(f"{where}: trigger must be at_risk or breached, not {escalation.trigger!r}.")
        if escalation.target not in SlaTargetKind.values:
            raise ServiceError(f"{where}: target must be response or resolution, not {escalation.target!r}.")
        if escalation.notify not in EscalationRecipient.values:
            raise ServiceError(
                f"{where}: notify must be one of {', '.join(v for v in EscalationRecipient.values if v)} "
                f"(or empty), not {escalation.notify!r}."
            )
        if not (escalation.notify or escalation.reassign_team or escalation.raise_severity):
            raise ServiceError(f"{where}: it must notify someone, reassign or raise the severity.")
        if (
            escalation.reassign_team is not None
            and not Team.objects.filter(pk=escalation.reassign_team.pk).exists()
        ):
            raise ServiceError(f"{where}: the team to reassign to no longer exists.")
    return name


def _plan_snapshot(plan: SLAPlan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "schedule": plan.schedule.name,
        "at_risk_share": plan.at_risk_share,
        "is_default": plan.is_default,
        "targets": {t.severity: [t.response_minutes, t.resolution_minutes] for t in plan.targets.all()},
        "escalations": [
            [e.level, e.target, e.trigger, e.notify, e.reassign_team_id, e.raise_severity]
            for e in plan.escalations.all()
        ],
    }


def _write_plan(plan: SLAPlan, definition: PlanDefinition) -> None:
    if definition.is_default:
        # One default plan: the constraint refuses a second one, so the old one gives way first.
        SLAPlan.objects.filter(is_default=True).exclude(pk=plan.pk).update(is_default=False)
    plan.targets.all().delete()
    plan.escalations.all().delete()
    SLATarget.objects.bulk_create(
        SLATarget(plan=plan, severity=severity, response_minutes=response, resolution_minutes=resolution)
        for severity, (response, resolution) in sorted(definition.targets.items())
    )
    EscalationLevel.objects.bulk_create(
        EscalationLevel(
            plan=plan,
            level=level,
            target=e.target,
            trigger=e.trigger,
            notify=e.notify,
            reassign_team=e.reassign_team,
            raise_severity=e.raise_severity,
        )
        for level, e in enumerate(definition.escalations, start=1)
    )
    configuration_changed()  # bulk writes send no signal


@transaction.atomic
def sla_plan_create(*, actor: Actor, definition: PlanDefinition) -> SLAPlan:
    """Create an SLA plan with its targets and escalation levels."""
    name = _validate_plan(definition)
    if SLAPlan.objects.filter(name__iexact=name).exists():
        raise ServiceError(f"An SLA plan named {name!r} already exists.", fields={"name": "taken"})
    plan = SLAPlan.objects.create(
        name=name, schedule=definition.schedule, at_risk_share=definition.at_risk_share
    )
    _write_plan(plan, definition)
    if definition.is_default:
        plan.is_default = True
        plan.save(update_fields=["is_default"])
    record(actor=actor, action="sla_plan.created", target=plan, after=_plan_snapshot(plan))
    return plan


@transaction.atomic
def sla_plan_update(*, actor: Actor, plan: SLAPlan, definition: PlanDefinition) -> SLAPlan:
    """Replace an SLA plan's settings, targets and escalation levels."""
    plan = SLAPlan.objects.select_for_update().get(pk=plan.pk)
    name = _validate_plan(definition)
    if SLAPlan.objects.filter(name__iexact=name).exclude(pk=plan.pk).exists():
        raise ServiceError(f"An SLA plan named {name!r} already exists.", fields={"name": "taken"})
    before = _plan_snapshot(plan)
    _write_plan(plan, definition)
    plan.name, plan.schedule, plan.at_risk_share = name, definition.schedule, definition.at_risk_share
    plan.is_default = definition.is_default
    plan.save()
    record(actor=actor, action="sla_plan.updated", target=plan, before=before, after=_plan_snapshot(plan))
    return plan


@transaction.atomic
def sla_plan_delete(*, actor: Actor, plan: SLAPlan) -> None:
    """Delete an SLA plan that no help topic or ticket filter uses."""
    topics = list(plan.topics.values_list("name", flat=True))
    filters = filters_using("set_sla_plan", plan.pk)
    departments = list(
        DepartmentSLA.objects.filter(plan=plan)
        .values_list("department__name", flat=True)
        .order_by("department__name")
    )
    if topics or filters or departments:
        users = (
            [f"help topic {t!r}" for t in topics]
            + [f"ticket filter {f!r}" for f in filters]
            + [f"department {d!r}" for d in departments]
        )
        raise ServiceError(f"SLA plan {plan.name!r} is used by {', '.join(users)}; change them first.")
    record(actor=actor, action="sla_plan.deleted", target=plan, before=_plan_snapshot(plan))
    plan.delete()
