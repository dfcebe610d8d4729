"""Writes and reads for scheduled SOC reports: create, update, delete (each validated and audited), and
the schedules due a report. Sending is `reports.report_sending`. See docs/soc-report.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from socdesk.accounts.models import Department, Team
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.names import machine_name_clean
from socdesk.reports.choices import Frequency
from socdesk.reports.models import ReportSchedule
from socdesk.reports.periods import last_complete

MAX_RECIPIENTS = 50


@dataclass(frozen=True)
class ScheduleDefinition:
    """A scheduled report's settings, as a form, the config file or the command line gives them."""

    name: str
    department: Department | None
    recipients: list[str] = field(default_factory=list)
    frequency: str = Frequency.WEEKLY
    team: Team | None = None
    enabled: bool = True


def _refuse(message: str, field_name: str) -> ServiceError:
    return ServiceError(message, fields={field_name: "invalid"})


def recipients_parse(text: str) -> list[str]:
    """Addresses written one a line or separated by commas or spaces (forms and the command line)."""
    return [part for part in re.split(r"[\s,;]+", text) if part]


def _validate(definition: ScheduleDefinition, instance: ReportSchedule | None) -> dict[str, Any]:
    """The cleaned values to store, or a ServiceError naming the field and what to do."""
    name = machine_name_clean(
        definition.name,
        taken=ReportSchedule.objects.all(),
        instance=instance,
        what="Scheduled report",
        example="soc-weekly",
    )
    if definition.department is None:
        raise _refuse("Choose the department the report is about.", "department")
    team = definition.team
    if team is not None and team.department_id != definition.department.pk:
        raise _refuse(
            f"Team {team.name} is not in {definition.department.name}; choose one of its teams or none.",
            "team",
        )
    if definition.frequency not in Frequency.values:
        raise _refuse(
            f"Unknown frequency {definition.frequency!r}: use {' or '.join(Frequency.values)}.", "frequency"
        )
    recipients: list[str] = []
    for raw in definition.recipients:
        address = raw.strip().lower()
        try:
            validate_email(address)
        except ValidationError:
            raise _refuse(f"{raw!r} is not an e-mail address.", "recipients") from None
        if address not in recipients:
            recipients.append(address)
    if not recipients:
        raise _refuse("Give at least one address to send the report to.", "recipients")
    if len(recipients) > MAX_RECIPIENTS:
        raise _refuse(f"At most {MAX_RECIPIENTS} recipients; send to a mailing list instead.", "recipients")
    return {
        "name": name,
        "department": definition.department,
        "team": team,
        "frequency": definition.frequency,
        "recipients": recipients,
        "enabled": bool(definition.enabled),
    }


def schedule_snapshot(schedule: ReportSchedule) -> dict[str, Any]:
    """The settings as the audit trail keeps them."""
    return {
        "name": schedule.name,
        "department_id": schedule.department_id,
        "team_id": schedule.team_id,
        "frequency": schedule.frequency,
        "recipients": list(schedule.recipients),
        "enabled": schedule.enabled,
    }


@transaction.atomic
def schedule_create(*, actor: Actor, definition: ScheduleDefinition) -> ReportSchedule:
    """Create a scheduled report (its first goes out at the worker's next run, for the last whole period)."""
    values = _validate(definition, None)
    schedule = ReportSchedule.objects.create(created_at=timezone.now(), **values)
    record(actor=actor, action="report_schedule.created", target=schedule, after=schedule_snapshot(schedule))
    return schedule


@transaction.atomic
def schedule_update(
    *, actor: Actor, schedule: ReportSchedule, definition: ScheduleDefinition
) -> ReportSchedule:
    """Replace a scheduled report's settings (what it already sent stays sent)."""
    schedule = ReportSchedule.objects.select_for_update().get(pk=schedule.pk)
    values = _validate(definition, schedule)
    before = schedule_snapshot(schedule)
    for name, value in values.items():
        setattr(schedule, name, value)
    schedule.save(update_fields=[*values])
    record(
        actor=actor,
        action="report_schedule.updated",
        target=schedule,
        before=before,
        after=schedule_snapshot(schedule),
    )
    return schedule


@transaction.atomic
def schedule_delete(*, actor: Actor, schedule: ReportSchedule) -> None:
    """Delete a scheduled report; the reports it sent stay in the audit trail."""
    record(actor=actor, action="report_schedule.deleted", target=schedule, before=schedule_snapshot(schedule))
    schedule.delete()


def schedule_definition(schedule: ReportSchedule, **changes: Any) -> ScheduleDefinition:
    """The stored settings as a definition, with some changed: for partial edits."""
    values: dict[str, Any] = {
        "name": schedule.name,
        "department": schedule.department,
        "team": schedule.team,
        "frequency": schedule.frequency,
        "recipients": list(schedule.recipients),
        "enabled": schedule.enabled,
    }
    return ScheduleDefinition(**(values | changes))


def schedules_due(today: date) -> list[ReportSchedule]:
    """Enabled schedules whose last whole week or month (before `today`) has not been sent yet."""
    due: list[ReportSchedule] = []
    for frequency in Frequency.values:
        period_end = last_complete(frequency, today).end
        due += ReportSchedule.objects.filter(enabled=True, frequency=frequency).filter(
            Q(last_period_end__isnull=True) | Q(last_period_end__lt=period_end)
        )
    return sorted(due, key=lambda schedule: schedule.name)
