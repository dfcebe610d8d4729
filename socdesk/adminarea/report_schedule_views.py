"""The admin area's pages for scheduled SOC reports: list (with what each last sent), create, edit,
delete, and the PDF of the last whole period to look at before it goes out. Admins only (404 for anyone
else); the schedule services check every value and audit every change."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.web import admin_view
from socdesk.adminarea.report_schedule_forms import ReportScheduleForm
from socdesk.adminarea.views import show_refusal
from socdesk.core.errors import ServiceError
from socdesk.reports.models import ReportSchedule
from socdesk.reports.periods import last_complete
from socdesk.reports.report_sending import report_build
from socdesk.reports.schedules import (
    ScheduleDefinition,
    recipients_parse,
    schedule_create,
    schedule_delete,
    schedule_update,
)


@admin_view
@require_GET
def report_schedules(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/reports: every scheduled report with what it last sent."""
    rows = ReportSchedule.objects.select_related("department", "team")
    return render(request, "adminarea/report_schedules.html", {"rows": rows, "section": "reports"})


def _initial(schedule: ReportSchedule) -> dict[str, object]:
    return {
        "name": schedule.name,
        "department": schedule.department,
        "team": schedule.team,
        "frequency": schedule.frequency,
        "recipients": "\n".join(schedule.recipients),
        "enabled": schedule.enabled,
    }


def _page(request: HttpRequest, schedule: ReportSchedule | None) -> HttpResponse:
    form = ReportScheduleForm(request.POST or None, initial=_initial(schedule) if schedule else {})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        definition = ScheduleDefinition(**(data | {"recipients": recipients_parse(data["recipients"])}))
        actor = request.actor  # type: ignore[attr-defined]  # set by admin_view
        try:
            if schedule is None:
                saved = schedule_create(actor=actor, definition=definition)
            else:
                saved = schedule_update(actor=actor, schedule=schedule, definition=definition)
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Scheduled report {saved.name} saved.")
            return redirect("adminarea:report-schedule-edit", pk=saved.pk)
    status = 400 if form.errors else 200
    context = {"form": form, "schedule": schedule, "section": "reports"}
    return render(request, "adminarea/report_schedule_form.html", context, status=status)


@admin_view
@require_http_methods(["GET", "POST"])
def report_schedule_new(request: HttpRequest) -> HttpResponse:
    """GET shows an empty schedule; POST creates it."""
    return _page(request, None)


@admin_view
@require_http_methods(["GET", "POST"])
def report_schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the schedule; POST saves it."""
    return _page(request, get_object_or_404(ReportSchedule, pk=pk))


@admin_view
@require_GET
def report_schedule_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the PDF the schedule would send now (its last whole period), to look at; nothing is sent."""
    schedule = get_object_or_404(ReportSchedule.objects.select_related("department", "team"), pk=pk)
    period = last_complete(schedule.frequency, timezone.localdate())
    report = report_build(period, schedule.department, schedule.team)
    response = HttpResponse(report.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{report.pdf_filename}"'
    return response


@admin_view
@require_POST
def report_schedule_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: delete a scheduled report (what it sent stays in the audit trail)."""
    schedule = get_object_or_404(ReportSchedule, pk=pk)
    schedule_delete(actor=request.actor, schedule=schedule)  # type: ignore[attr-defined]
    messages.success(request, f"Scheduled report {schedule.name} deleted.")
    return redirect("adminarea:report-schedules")
