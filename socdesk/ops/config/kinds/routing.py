"""Schedules, SLA plans, departments' SLA settings and help topics (ticket filters are in `filters`,
integrations in `alerts`, custom forms in `forms`)."""

from __future__ import annotations

from typing import Any

from socdesk.ops.config.document import Path
from socdesk.ops.config.kinds.base import Entry, Kind, Writer, by_name, deleted
from socdesk.ops.config.kinds.base import definition as make
from socdesk.ops.config.schema import (
    Boolean,
    Check,
    Choice,
    Date,
    Field,
    Integer,
    ListOf,
    MapOf,
    Nullable,
    Number,
    Record,
    Ref,
    Text,
)
from socdesk.routing import sla
from socdesk.routing.choices import EscalationRecipient, EscalationTrigger, SlaTargetKind
from socdesk.routing.models import DepartmentSLA, HelpTopic, Schedule, SLAPlan
from socdesk.routing.services.sla import (
    EscalationDefinition,
    PlanDefinition,
    ScheduleDefinition,
    schedule_create,
    schedule_delete,
    schedule_update,
    sla_plan_create,
    sla_plan_delete,
    sla_plan_update,
)
from socdesk.routing.services.sla_clocks import department_sla_set
from socdesk.routing.services.topics import (
    TopicDefinition,
    help_topic_create,
    help_topic_delete,
    help_topic_update,
)
from socdesk.tickets.choices import Severity

# --- schedules -----------------------------------------------------------------------------------------


class Interval(Text):
    """`HH:MM-HH:MM`, written back with two-digit hours (`9:00-17:00` reads as `09:00-17:00`)."""

    def check(self, value: Any, path: Path, check: Check) -> Any:
        text = super().check(value, path, check)
        if not isinstance(text, str):
            return text
        start, sep, end = text.partition("-")
        try:
            if sep:
                return f"{sla.format_clock(sla.parse_clock(start))}-{sla.format_clock(sla.parse_clock(end))}"
        except sla.ScheduleError:
            pass
        return check.fail(path, f"{text!r} is not an interval; write it HH:MM-HH:MM, e.g. 08:00-17:00.")


def _schedule_entry(schedule: Schedule) -> Entry:
    hours: dict[str, list[str]] = {}
    for interval in schedule.working_hours.all():  # ordered by weekday, then start
        hours.setdefault(sla.WEEKDAY_NAMES[interval.weekday], []).append(f"{interval.start}-{interval.end}")
    return {
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "always": schedule.always,
        "hours": hours,
        "holidays": {holiday.date: holiday.name for holiday in schedule.holidays.all()},
    }


def _write_schedule(writer: Writer, entry: Entry, existing: Schedule | None) -> Schedule:
    definition = make(
        ScheduleDefinition,
        existing,
        name=entry["name"],
        time_zone=entry["time_zone"],
        always=entry["always"],
        hours=entry["hours"],
        holidays=entry["holidays"],
    )
    if existing is None:
        return schedule_create(actor=writer.actor, definition=definition)
    return schedule_update(actor=writer.actor, schedule=existing, definition=definition)


def _weekday_order(hours: dict[str, list[str]]) -> dict[str, list[str]]:
    # Monday first, as export writes them (the schema sorted the keys alphabetically), intervals in order.
    return {day: sorted(hours[day]) for day in sla.WEEKDAY_NAMES if day in hours}


def _check_schedule(record: Entry, path: Path, check: Check) -> None:
    record["hours"] = _weekday_order(record["hours"])
    if record["always"] and (record["hours"] or record["holidays"]):
        check.fail((*path, "always"), "a 24/7 schedule has no working hours or holidays; remove them.")


SCHEDULES = Kind(
    key="schedules",
    label="schedule",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "time_zone": Field(Text(required=True), "UTC"),
            "always": Field(Boolean(), False),
            "hours": Field(MapOf(Choice(sla.WEEKDAY_NAMES), ListOf(Interval())), {}),
            "holidays": Field(MapOf(Date(), Text(max_length=100)), {}),
        },
        validate=_check_schedule,
    ),
    read=lambda: by_name(
        [(s, _schedule_entry(s)) for s in Schedule.objects.prefetch_related("working_hours", "holidays")]
    ),
    find=lambda name: Schedule.objects.filter(name=name).first(),
    write=_write_schedule,
    remove=lambda writer, schedule: deleted(schedule_delete(actor=writer.actor, schedule=schedule)),
)

# --- SLA plans -----------------------------------------------------------------------------------------

ESCALATION = Record(
    {
        "target": Field(Choice(SlaTargetKind.values), SlaTargetKind.RESOLUTION.value),
        "trigger": Field(Choice(EscalationTrigger.values)),
        # Stored "" for nobody, written null; left out, the assignee (as in the services).
        "notify": Field(
            Nullable(Choice(v for v in EscalationRecipient.values if v)), EscalationRecipient.ASSIGNEE.value
        ),
        "reassign_team": Field(Nullable(Ref("teams")), None),
        "raise_severity": Field(Boolean(), False),
    }
)
TARGET = Record({"response": Field(Integer(minimum=1)), "resolution": Field(Integer(minimum=1))})


def _plan_entry(plan: SLAPlan) -> Entry:
    return {
        "name": plan.name,
        "schedule": plan.schedule.name,
        "at_risk_share": plan.at_risk_share,
        "default": plan.is_default,
        "targets": {
            t.severity: {"response": t.response_minutes, "resolution": t.resolution_minutes}
            for t in sorted(plan.targets.all(), key=lambda t: t.severity)
        },
        "escalations": [
            {
                "target": e.target,
                "trigger": e.trigger,
                "notify": e.notify or None,
                "reassign_team": e.reassign_team.name if e.reassign_team else None,
                "raise_severity": e.raise_severity,
            }
            for e in plan.escalations.all()  # ordered by level
        ],
    }


def _write_plan(writer: Writer, entry: Entry, existing: SLAPlan | None) -> SLAPlan:
    definition = make(
        PlanDefinition,
        existing,
        name=entry["name"],
        schedule=writer.resolve("schedules", entry["schedule"]),
        targets={sev: (t["response"], t["resolution"]) for sev, t in entry["targets"].items()},
        at_risk_share=entry["at_risk_share"],
        is_default=entry["default"],
        escalations=[
            EscalationDefinition(
                trigger=e["trigger"],
                target=e["target"],
                notify=e["notify"] or "",
                reassign_team=writer.resolve("teams", e["reassign_team"]),
                raise_severity=e["raise_severity"],
            )
            for e in entry["escalations"]
        ],
    )
    if existing is None:
        return sla_plan_create(actor=writer.actor, definition=definition)
    return sla_plan_update(actor=writer.actor, plan=existing, definition=definition)


def _one_default(entries: list[Entry]) -> list[tuple[int, str, str]]:
    defaults = [index for index, entry in enumerate(entries) if entry["default"]]
    return [
        (
            index,
            "default",
            f"only one SLA plan can be the default; {entries[defaults[0]]['name']!r} is already.",
        )
        for index in defaults[1:]
    ]


SLA_PLANS = Kind(
    key="sla_plans",
    label="SLA plan",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "schedule": Field(Ref("schedules")),
            "at_risk_share": Field(Number(), 0.75),
            "default": Field(Boolean(), False),
            "targets": Field(MapOf(Choice(Severity.values), TARGET)),
            "escalations": Field(ListOf(ESCALATION), []),
        }
    ),
    read=lambda: by_name(
        [
            (plan, _plan_entry(plan))
            for plan in SLAPlan.objects.select_related("schedule").prefetch_related(
                "targets", "escalations__reassign_team"
            )
        ]
    ),
    find=lambda name: SLAPlan.objects.filter(name=name).first(),
    write=_write_plan,
    remove=lambda writer, plan: deleted(sla_plan_delete(actor=writer.actor, plan=plan)),
    comment="Targets are working minutes in the plan's schedule; escalation levels run in the order given.",
    check_all=_one_default,
)

# --- departments' SLA settings -------------------------------------------------------------------------
# Their own section, after the plans: departments are applied first (plans' escalations name teams, which
# name departments), so a department entry could not name a plan that the same file creates.


def _department_sla_entry(settings: DepartmentSLA) -> Entry:
    return {
        "department": settings.department.name,
        "sla_plan": settings.plan.name if settings.plan is not None else None,
        "manager": settings.manager.user.get_username() if settings.manager is not None else None,
    }


def _write_department_sla(writer: Writer, entry: Entry, _existing: DepartmentSLA | None) -> DepartmentSLA:
    # One service sets them whether the department has settings yet or not.
    return department_sla_set(
        actor=writer.actor,
        department=writer.resolve("departments", entry["department"]),
        plan=writer.resolve("sla_plans", entry["sla_plan"]),
        manager=writer.resolve("agents", entry["manager"]),
    )


DEPARTMENT_SLA = Kind(
    key="department_sla",
    label="department SLA setting",
    schema=Record(
        {
            "department": Field(Ref("departments")),
            "sla_plan": Field(Nullable(Ref("sla_plans")), None),
            "manager": Field(Nullable(Ref("agents")), None),
        }
    ),
    # The departments that have settings (those without use the default plan and have no manager).
    read=lambda: sorted(
        (
            (settings, _department_sla_entry(settings))
            for settings in DepartmentSLA.objects.select_related("department", "plan", "manager__user")
        ),
        key=lambda row: str(row[1]["department"]),
    ),
    find=lambda name: DepartmentSLA.objects.filter(department__name=name).first(),
    write=_write_department_sla,
    comment="Per department: the SLA plan its tickets get when no filter or help topic picks one (null: the\n"
    "default plan) and the manager (username) its escalations notify as department_manager.",
    identity=lambda entry: str(entry["department"]),
    identity_key="department",
)

# --- help topics ---------------------------------------------------------------------------------------

# A sub-topic is named by its path from the top: "Security / Phishing".
TOPIC_SEPARATOR = " / "


def topic_paths() -> dict[int, str]:
    """Every help topic's path, by id."""
    topics = {t.pk: t for t in HelpTopic.objects.only("id", "name", "parent_id")}
    paths: dict[int, str] = {}

    def path(pk: int) -> str:
        if pk not in paths:
            topic = topics[pk]
            paths[pk] = (
                topic.name
                if topic.parent_id is None
                else path(topic.parent_id) + TOPIC_SEPARATOR + topic.name
            )
        return paths[pk]

    for pk in topics:
        path(pk)
    return paths


def find_topic(path: str) -> HelpTopic | None:
    for pk, topic_path in topic_paths().items():
        if topic_path == path:
            return HelpTopic.objects.get(pk=pk)
    return None


def _read_topics() -> list[tuple[Any, Entry]]:
    paths = topic_paths()
    topics = HelpTopic.objects.select_related("department", "team", "agent__user", "sla_plan", "form")
    rows = [
        (
            topic,
            {
                "name": topic.name,
                "parent": paths[topic.parent_id] if topic.parent_id else None,
                "department": topic.department.name if topic.department else None,
                "team": topic.team.name if topic.team else None,
                "agent": topic.agent.user.get_username() if topic.agent else None,
                "severity": topic.severity or None,
                "sla_plan": topic.sla_plan.name if topic.sla_plan else None,
                "portal_visible": topic.portal_visible,
                "auto_response": topic.auto_response,
                "form": topic.form.name if topic.form else None,
            },
        )
        for topic in topics
    ]
    return sorted(rows, key=lambda row: paths[row[0].pk].split(TOPIC_SEPARATOR))


def _topic_path(entry: Entry) -> str:
    name, parent = str(entry["name"]), entry["parent"]
    return name if parent is None else f"{parent}{TOPIC_SEPARATOR}{name}"


def _write_topic(writer: Writer, entry: Entry, existing: HelpTopic | None) -> HelpTopic:
    definition = make(
        TopicDefinition,
        existing,
        name=entry["name"],
        parent=writer.resolve("help_topics", entry["parent"]),
        department=writer.resolve("departments", entry["department"]),
        team=writer.resolve("teams", entry["team"]),
        agent=writer.resolve("agents", entry["agent"]),
        severity=entry["severity"] or "",
        sla_plan=writer.resolve("sla_plans", entry["sla_plan"]),
        portal_visible=entry["portal_visible"],
        auto_response=entry["auto_response"],
        form=writer.resolve("custom_forms", entry["form"]),
    )
    if existing is None:
        return help_topic_create(actor=writer.actor, definition=definition)
    return help_topic_update(actor=writer.actor, topic=existing, definition=definition)


HELP_TOPICS = Kind(
    key="help_topics",
    label="help topic",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "parent": Field(Nullable(Ref("help_topics")), None),
            "department": Field(Nullable(Ref("departments")), None),
            "team": Field(Nullable(Ref("teams")), None),
            "agent": Field(Nullable(Ref("agents")), None),
            "severity": Field(Nullable(Choice(Severity.values)), None),
            "sla_plan": Field(Nullable(Ref("sla_plans")), None),
            "portal_visible": Field(Boolean(), True),
            "auto_response": Field(Boolean(), True),
            # The custom form its tickets carry (null: a sub-topic uses its parent's).
            "form": Field(Nullable(Ref("custom_forms")), None),
        }
    ),
    read=_read_topics,
    find=find_topic,
    write=_write_topic,
    remove=lambda writer, topic: deleted(help_topic_delete(actor=writer.actor, topic=topic)),
    comment=f"A sub-topic names its parent by its path, e.g. parent: Security{TOPIC_SEPARATOR}Phishing.",
    identity=_topic_path,
    apply_order=lambda entry: _topic_path(entry).count(TOPIC_SEPARATOR),
)
