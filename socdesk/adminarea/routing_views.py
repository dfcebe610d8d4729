"""The admin area's pages for SLA plans, schedules and help topics: list, create, edit, delete.

Admins only (404 for anyone else). The routing services check every value and refuse with a sentence
(a bad interval names its weekday, a plan in use names who uses it); the page shows it and saves nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.web import admin_view
from socdesk.adminarea.custom_form_forms import TopicWithFormForm
from socdesk.adminarea.routing_forms import (
    WEEKDAY_FIELDS,
    EscalationRows,
    PlanForm,
    ScheduleForm,
)
from socdesk.adminarea.views import show_refusal
from socdesk.core.errors import ServiceError
from socdesk.routing.models import HelpTopic, Schedule, SLAPlan
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
from socdesk.routing.services.topics import (
    TopicDefinition,
    help_topic_create,
    help_topic_delete,
    help_topic_update,
)
from socdesk.routing.sla import format_clock


def _delete(
    request: HttpRequest, label: str, name: str, remove, back: str, edit: str, pk: int
) -> HttpResponse:
    """Run a delete service; its refusal (something still uses the object) comes back as a message."""
    try:
        remove()
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(edit, pk=pk)
    messages.success(request, f"{label} {name} deleted.")
    return redirect(back)


# --- schedules -------------------------------------------------------------------------------------------


@admin_view
@require_GET
def schedules(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/schedules: every schedule with its hours, holiday count and the plans using it."""
    rows = Schedule.objects.prefetch_related("working_hours").annotate(
        holiday_count=Count("holidays", distinct=True), plan_count=Count("sla_plans", distinct=True)
    )
    return render(request, "adminarea/schedules.html", {"rows": rows, "section": "schedules"})


def _schedule_initial(schedule: Schedule) -> dict[str, Any]:
    days: dict[str, list[str]] = {key: [] for key in WEEKDAY_FIELDS}
    for hours in schedule.working_hours.order_by("weekday", "start_minute"):
        days[WEEKDAY_FIELDS[hours.weekday]].append(
            f"{format_clock(hours.start_minute)}-{format_clock(hours.end_minute)}"
        )
    holidays = "\n".join(f"{h.date.isoformat()} {h.name}".strip() for h in schedule.holidays.order_by("date"))
    return {
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "always": schedule.always,
        "holidays": holidays,
        **{key: ", ".join(value) for key, value in days.items()},
    }


def _schedule_page(request: HttpRequest, schedule: Schedule | None) -> HttpResponse:
    office_hours = {key: "09:00-17:00" for key in WEEKDAY_FIELDS[:5]}  # a new schedule starts Mon-Fri 9-5
    initial = _schedule_initial(schedule) if schedule is not None else office_hours
    form = ScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        definition = ScheduleDefinition(
            name=data["name"],
            time_zone=data["time_zone"],
            always=data["always"],
            hours=form.hours(),
            holidays=data["holidays"],
        )
        try:
            if schedule is None:
                saved = schedule_create(actor=request.actor, definition=definition)  # type: ignore[attr-defined]
            else:
                saved = schedule_update(actor=request.actor, schedule=schedule, definition=definition)  # type: ignore[attr-defined]
        except ServiceError as exc:
            _place_schedule_refusal(form, exc)
        else:
            messages.success(request, f"Schedule {saved.name} saved.")
            return redirect("adminarea:schedules")
    status = 400 if form.errors else 200
    context = {"form": form, "schedule": schedule, "section": "schedules"}
    return render(request, "adminarea/schedule_form.html", context, status=status)


def _place_schedule_refusal(form: ScheduleForm, exc: ServiceError) -> None:
    """An interval refused for a weekday goes next to that weekday's box."""
    lowered = exc.message.lower()
    for key, label in zip(
        WEEKDAY_FIELDS,
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        strict=True,
    ):
        if f" {key} " in f" {lowered} " or label in lowered or f"{key}:" in lowered:
            form.add_error(key, exc.message)
            return
    show_refusal(form, exc)


@admin_view
@require_http_methods(["GET", "POST"])
def schedule_new(request: HttpRequest) -> HttpResponse:
    """GET shows an empty schedule; POST creates it."""
    return _schedule_page(request, None)


@admin_view
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the schedule; POST replaces its hours and holidays."""
    return _schedule_page(request, get_object_or_404(Schedule, pk=pk))


@admin_view
@require_POST
def schedule_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: delete a schedule no SLA plan uses."""
    schedule = get_object_or_404(Schedule, pk=pk)
    remove = lambda: schedule_delete(actor=request.actor, schedule=schedule)  # type: ignore[attr-defined]  # noqa: E731
    return _delete(
        request, "Schedule", schedule.name, remove, "adminarea:schedules", "adminarea:schedule-edit", pk
    )


# --- SLA plans -------------------------------------------------------------------------------------------


@admin_view
@require_GET
def plans(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/sla-plans: every plan with its schedule, targets and escalation levels."""
    rows = SLAPlan.objects.select_related("schedule").prefetch_related(
        "targets", Prefetch("escalations", to_attr="levels")
    )
    return render(request, "adminarea/sla_plans.html", {"rows": rows, "section": "sla"})


def _plan_initial(plan: SLAPlan) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    initial: dict[str, Any] = {
        "name": plan.name,
        "schedule": plan.schedule_id,
        "at_risk_share": plan.at_risk_share,
        "is_default": plan.is_default,
    }
    for target in plan.targets.all():
        initial[f"response_{target.severity}"] = target.response_minutes
        initial[f"resolution_{target.severity}"] = target.resolution_minutes
    levels = [
        {
            "trigger": e.trigger,
            "target": e.target,
            "notify": e.notify,
            "reassign_team": e.reassign_team_id,
            "raise_severity": e.raise_severity,
        }
        for e in plan.escalations.order_by("level")
    ]
    return initial, levels


def _plan_page(request: HttpRequest, plan: SLAPlan | None) -> HttpResponse:
    initial, levels = _plan_initial(plan) if plan is not None else ({}, [])
    if request.method == "POST":
        form = PlanForm(request.POST)
        escalations = EscalationRows(request.POST, prefix="esc")
    else:
        form = PlanForm(initial=initial)
        escalations = EscalationRows(initial=[*levels, {}], prefix="esc")
    if request.method == "POST" and (form.is_valid() & escalations.is_valid()):
        data = form.cleaned_data
        definition = PlanDefinition(
            name=data["name"],
            schedule=data["schedule"],
            targets=form.targets(),
            at_risk_share=data["at_risk_share"],
            is_default=data["is_default"],
            escalations=[
                EscalationDefinition(
                    trigger=row.cleaned_data["trigger"],
                    target=row.cleaned_data["target"],
                    notify=row.cleaned_data["notify"],
                    reassign_team=row.cleaned_data["reassign_team"],
                    raise_severity=row.cleaned_data["raise_severity"],
                )
                for row in escalations.forms
                if row.cleaned_data.get("trigger")
            ],
        )
        try:
            if plan is None:
                saved = sla_plan_create(actor=request.actor, definition=definition)  # type: ignore[attr-defined]
            else:
                saved = sla_plan_update(actor=request.actor, plan=plan, definition=definition)  # type: ignore[attr-defined]
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"SLA plan {saved.name} saved.")
            return redirect("adminarea:sla-plans")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "escalations": escalations, "plan": plan, "section": "sla"}
    return render(request, "adminarea/sla_plan_form.html", context, status=status)


@admin_view
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest) -> HttpResponse:
    """GET shows an empty SLA plan; POST creates it."""
    return _plan_page(request, None)


@admin_view
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the plan; POST replaces its settings, targets and escalation levels."""
    return _plan_page(request, get_object_or_404(SLAPlan, pk=pk))


@admin_view
@require_POST
def plan_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: delete a plan no help topic or filter uses."""
    plan = get_object_or_404(SLAPlan, pk=pk)
    remove = lambda: sla_plan_delete(actor=request.actor, plan=plan)  # type: ignore[attr-defined]  # noqa: E731
    return _delete(
        request, "SLA plan", plan.name, remove, "adminarea:sla-plans", "adminarea:sla-plan-edit", pk
    )


# --- help topics -------------------------------------------------------------------------------------------


def topic_tree(topics: list[HelpTopic]) -> list[tuple[HelpTopic, int]]:
    """The topics depth first under their parents, each with its depth (for indenting the list)."""
    children: dict[int | None, list[HelpTopic]] = {}
    for topic in topics:
        children.setdefault(topic.parent_id, []).append(topic)
    ordered: list[tuple[HelpTopic, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for topic in sorted(children.get(parent, []), key=lambda t: t.name.casefold()):
            ordered.append((topic, depth))
            walk(topic.pk, depth + 1)

    walk(None, 0)
    return ordered


@admin_view
@require_GET
def topics(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/help-topics: the topics as a tree, with the defaults each gives new tickets."""
    rows = list(HelpTopic.objects.select_related("department", "team", "agent__user", "sla_plan", "form"))
    tree = [(topic, depth, "\u203a " * depth) for topic, depth in topic_tree(rows)]
    return render(request, "adminarea/help_topics.html", {"rows": tree, "section": "topics"})


def _topic_page(request: HttpRequest, topic: HelpTopic | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if topic is not None:
        initial = {
            "name": topic.name,
            "parent": topic.parent_id,
            "department": topic.department_id,
            "team": topic.team_id,
            "agent": topic.agent_id,
            "severity": topic.severity,
            "sla_plan": topic.sla_plan_id,
            "portal_visible": topic.portal_visible,
            "auto_response": topic.auto_response,
            "form": topic.form_id,
        }
    form = TopicWithFormForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        definition = TopicDefinition(**form.cleaned_data)
        try:
            if topic is None:
                saved = help_topic_create(actor=request.actor, definition=definition)  # type: ignore[attr-defined]
            else:
                saved = help_topic_update(actor=request.actor, topic=topic, definition=definition)  # type: ignore[attr-defined]
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Help topic {saved.name} saved.")
            return redirect("adminarea:help-topics")
    status = 400 if form.errors else 200
    context = {"form": form, "topic": topic, "section": "topics"}
    return render(request, "adminarea/help_topic_form.html", context, status=status)


@admin_view
@require_http_methods(["GET", "POST"])
def topic_new(request: HttpRequest) -> HttpResponse:
    """GET shows an empty help topic; POST creates it."""
    return _topic_page(request, None)


@admin_view
@require_http_methods(["GET", "POST"])
def topic_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the help topic; POST saves it."""
    return _topic_page(request, get_object_or_404(HelpTopic, pk=pk))


@admin_view
@require_POST
def topic_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: delete a topic without sub-topics that no filter uses."""
    topic = get_object_or_404(HelpTopic, pk=pk)
    remove = lambda: help_topic_delete(actor=request.actor, topic=topic)  # type: ignore[attr-defined]  # noqa: E731
    return _delete(
        request, "Help topic", topic.name, remove, "adminarea:help-topics", "adminarea:help-topic-edit", pk
    )
