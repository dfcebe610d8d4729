"""Every drill-down of the dashboard against the roll-up agreement scenario (tests/reports/scenario.py):
console, API, e-mail and alert tickets of several tools, reopened, transferred, repeated, SLA decided,
re-dated over three weeks, in an installation nine hours from UTC while the agents read in UTC."""

from __future__ import annotations

import pytest
from django.utils import timezone

from socdesk.reports.fold import fold
from socdesk.reports.views import _dashboard
from tests.reports.scenario import build_tickets, change_tickets, decide_sla, spread_over_days
from tests.reports.test_dashboard_views import FakeRequest, drill_downs_checked

pytestmark = pytest.mark.django_db


def test_each_drill_down_counts_what_its_number_counts(people, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    build_tickets(people)
    change_tickets(people)
    now = timezone.now()
    spread_over_days(now)
    decide_sla(now)
    fold()
    with timezone.override("UTC"):  # the agent's zone is not the installation's: links name the days' zone
        for agent, query in (
            (people.admin, "period=30d"),
            (people.alice, "period=30d"),
            (people.alice, f"period=7d&team={people.tier1.pk}"),
            (people.carol, "period=30d"),
        ):
            _picker, board = _dashboard(FakeRequest(agent, query))
            links = [v.href for p in board.period if p.chart for c in p.chart.categories for v in c.values]
            assert all("zone=Asia%2FTokyo" in href for href in links if href)
            checked = drill_downs_checked(agent, board)
            assert checked > (40 if agent != people.carol else 0), (agent, query)
