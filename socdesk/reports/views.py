"""The console's SOC dashboard (`/dashboard`) and each chart's numbers as CSV (`/dashboard/<chart>.csv`).

Thin: read the picker, ask the selectors for the agent's scope and its figures, build the panels
(socdesk.reports.dashboard), render. A department or team the agent may not see is a 404 (the scope
selector says NotFound, as for one that does not exist). Reading is not audited.
"""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from socdesk.accounts.models import Department
from socdesk.accounts.selectors import agents_visible_to, teams_visible_to, visible_department_ids
from socdesk.accounts.web import agent_view
from socdesk.reports.dashboard import Dashboard, Links, dashboard_build
from socdesk.reports.picker import CUSTOM, PERIODS, Picker, picker_from
from socdesk.reports.selectors import now_figures, period_figures, scope_for_agent
from socdesk.reports.visibility import sees_all_ingest
from socdesk.tickets.export import FORMULA_STARTS


def _dashboard(request) -> tuple[Picker, Dashboard]:
    installation = ZoneInfo(settings.TIME_ZONE)
    picker = picker_from(request.GET, timezone.localdate(timezone=installation))
    scope = scope_for_agent(request.agent, department_id=picker.department_id, team_id=picker.team_id)
    now = now_figures(scope)
    figures = period_figures(picker.period, scope)
    links = Links(reverse("tickets:queue"), picker.period, picker.department_id, picker.team_id)
    if timezone.get_current_timezone_name() != settings.TIME_ZONE:
        # The figures' days are the installation's; the queue reads days in the agent's zone unless told.
        links.scope["zone"] = settings.TIME_ZONE
    names = dict(
        (agent.pk, agent.name) for agent in agents_visible_to(request.agent).filter(pk__in=now.open_per_agent)
    )
    ingest = sees_all_ingest(request.agent)
    return picker, dashboard_build(now, figures, links=links, agent_names=names, ingest=ingest)


@agent_view
@require_GET
def dashboard(request):
    """The SOC dashboard: the live state, then the picked period's figures, each chart with its table."""
    picker, board = _dashboard(request)
    seen = visible_department_ids(request.agent)
    departments = Department.objects.all() if seen is None else Department.objects.filter(pk__in=seen)
    return render(
        request,
        "reports/dashboard.html",
        {
            "picker": picker,
            "board": board,
            "periods": [(key, label) for key, (label, _days) in PERIODS.items()] + [(CUSTOM, "Custom")],
            "departments": departments.order_by("name"),
            "teams": teams_visible_to(request.agent).order_by("name"),
            "csv_query": picker.query(),
            "zone_name": settings.TIME_ZONE,
        },
    )


@agent_view
@require_GET
def dashboard_csv(request, chart: str):
    """One chart's numbers as CSV, for the same picker parameters as the page."""
    picker, board = _dashboard(request)
    panel = board.panel(chart)
    if panel is None:
        raise Http404("No such chart.")
    out = io.StringIO()
    writer = csv.writer(out)
    for row in panel.csv:
        # Rule names and observables come from outside: never let a spreadsheet run one as a formula.
        writer.writerow(["'" + cell if cell.startswith(FORMULA_STARTS) else cell for cell in row])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"socdesk-{chart}-{picker.period.start}-{picker.period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
