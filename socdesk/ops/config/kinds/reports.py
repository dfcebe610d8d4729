"""Scheduled SOC reports: whose figures, how often, to whom."""

from __future__ import annotations

from django.db.models import Model

from socdesk.ops.config.kinds.base import Entry, Kind, Writer, by_name, definition, deleted
from socdesk.ops.config.schema import Boolean, Choice, Field, ListOf, Nullable, Record, Ref, Text
from socdesk.reports.choices import Frequency
from socdesk.reports.models import ReportSchedule
from socdesk.reports.schedules import ScheduleDefinition, schedule_create, schedule_delete, schedule_update


def _read_report_schedules() -> list[tuple[Model, Entry]]:
    rows: list[tuple[Model, Entry]] = []
    for schedule in ReportSchedule.objects.select_related("department", "team"):
        entry = {
            "name": schedule.name,
            "department": schedule.department.name,
            "team": schedule.team.name if schedule.team else None,
            "frequency": schedule.frequency,
            "recipients": list(schedule.recipients),
            "enabled": schedule.enabled,
        }
        rows.append((schedule, entry))
    return by_name(rows)


def _write_report_schedule(writer: Writer, entry: Entry, existing: ReportSchedule | None) -> ReportSchedule:
    values = {key: value for key, value in entry.items() if key not in ("department", "team")}
    schedule_definition = definition(
        ScheduleDefinition,
        existing,
        department=writer.resolve("departments", entry["department"]),
        team=writer.resolve("teams", entry["team"]),
        **values,
    )
    if existing is None:
        return schedule_create(actor=writer.actor, definition=schedule_definition)
    return schedule_update(actor=writer.actor, schedule=existing, definition=schedule_definition)


REPORT_SCHEDULES = Kind(
    key="report_schedules",
    label="scheduled report",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=50)),
            "department": Field(Ref("departments")),
            "team": Field(Nullable(Ref("teams")), None),
            "frequency": Field(Choice(Frequency.values), Frequency.WEEKLY.value),
            "recipients": Field(ListOf(Text(required=True, max_length=254))),
            "enabled": Field(Boolean(), True),
        }
    ),
    read=_read_report_schedules,
    find=lambda name: ReportSchedule.objects.filter(name=name).first(),
    write=_write_report_schedule,
    remove=lambda writer, schedule: deleted(schedule_delete(actor=writer.actor, schedule=schedule)),
    comment="The SOC report e-mailed weekly (the last whole Monday-to-Sunday week) or monthly (the last\n"
    "whole month), with the PDF attached; docs/soc-report.md.",
)
