"""Playbook task statistics on the SOC dashboard, the API and the report: they agree with a brute-force
count over the tasks (every scope and period, on both databases), carol never sees SOC's tasks, and each
row's drill-down (`?playbook=`) opens exactly the tickets the playbook was applied to."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from socdesk.accounts.services import apikey_create
from socdesk.reports.figures import Period, Scope
from socdesk.reports.report_content import report_content
from socdesk.reports.selectors import period_figures, scope_for_agent
from socdesk.tickets.models import Ticket
from tests.cases.helpers import SETUP

from .playbook_scenario import brute_playbooks, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokyo(settings):
    """Days in a zone nine hours from UTC, so a day's boundary is not UTC midnight."""
    settings.TIME_ZONE = "Asia/Tokyo"


def test_playbook_figures_agree_with_the_tasks(people, tokyo):
    build(people)
    today = timezone.localdate()
    periods = [
        Period(today - timedelta(days=29), today),
        Period(today - timedelta(days=6), today),
        Period(today, today),
        Period(today - timedelta(days=40), today - timedelta(days=10)),
    ]
    scopes = [
        scope_for_agent(people.admin),
        scope_for_agent(people.alice),
        scope_for_agent(people.carol),
        scope_for_agent(people.admin, department_id=people.it.pk),
        scope_for_agent(people.alice, team_id=people.tier1.pk),
    ]
    seen_done = seen_skipped = 0
    for scope in scopes:
        for period in periods:
            expected = brute_playbooks(period, scope)
            assert period_figures(period, scope).playbooks == expected, (scope, period)
            seen_done += sum(row.done for row in expected)
            seen_skipped += sum(row.skipped for row in expected)
    # The scenario is not vacuous: done and skipped tasks in several scopes and periods.
    assert seen_done > 20 and seen_skipped > 5
    whole = period_figures(periods[3], scopes[0]).playbooks
    assert {row.playbook for row in whole} == {"Phishing triage", "Malware containment"}
    assert all(row.title != "Call the user" for row in whole)


def test_carol_sees_only_it_tasks(people):
    build(people)
    today = timezone.localdate()
    period = Period(today - timedelta(days=45), today)
    carol_rows = period_figures(period, scope_for_agent(people.carol)).playbooks
    it_only = brute_playbooks(period, Scope(department_ids=frozenset({people.it.pk})))
    assert carol_rows == it_only
    assert sum(r.done for r in carol_rows) < sum(
        r.done for r in period_figures(period, scope_for_agent(people.admin)).playbooks
    )


def test_playbook_drill_down_opens_the_playbooks_tickets(people, client):
    playbooks = build(people)
    malware = playbooks["malware"]
    client.force_login(people.alice.user)
    response = client.get("/tickets/", {"queue": "all", "playbook": malware.pk})
    assert response.status_code == 200
    expected = set(
        Ticket.objects.filter(playbook_runs__playbook=malware, department=people.soc).values_list(
            "number", flat=True
        )
    )
    assert expected
    shown = response.content.decode()
    for number in Ticket.objects.values_list("number", flat=True):
        assert (number in shown) == (number in expected), number
    assert f"Playbook {malware.pk} applied" in shown


def test_playbook_criterion_in_the_api_and_its_bad_input(people, client):
    playbooks = build(people)
    key = apikey_create(actor=SETUP, name="reader", scopes=["tickets:read"])[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    response = client.get("/api/v1/tickets", {"playbook": playbooks["malware"].pk}, **auth)
    assert response.status_code == 200, response.content
    numbers = {t["number"] for t in response.json()["items"]}
    assert numbers == set(
        Ticket.objects.filter(playbook_runs__playbook=playbooks["malware"]).values_list("number", flat=True)
    )
    bad = client.get("/api/v1/tickets", {"playbook": "phishing"}, **auth)
    assert bad.status_code == 400
    assert "playbook must be a number" in bad.content.decode()


def test_metrics_period_api_and_report_carry_the_playbooks(people, client):
    build(people)
    client.force_login(people.alice.user)
    key = apikey_create(actor=SETUP, name="metrics", scopes=["tickets:read"])[1]
    response = client.get("/api/v1/metrics/period", {"period": "30d"}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200, response.content
    today = timezone.localdate()
    period = Period(today - timedelta(days=29), today)
    everything = period_figures(period, scope_for_agent(people.admin)).playbooks
    assert response.json()["playbooks"] == [
        {
            "playbook_id": r.playbook_id,
            "playbook": r.playbook,
            "position": r.position,
            "title": r.title,
            "done": r.done,
            "skipped": r.skipped,
            "median_seconds": r.median,
            "p90_seconds": r.p90,
        }
        for r in everything
    ]
    figures = period_figures(period, scope_for_agent(people.alice))
    table = next(t for t in report_content(figures, scope_label="SOC").tables if t.title == "Playbook tasks")
    assert [row[:4] for row in table.rows] == [
        [r.playbook, f"{r.position}. {r.title}", f"{r.done:,}", f"{r.skipped:,}"] for r in figures.playbooks
    ]


def test_dashboard_panel_and_csv(people, client):
    build(people)
    client.force_login(people.alice.user)
    page = client.get("/dashboard", {"period": "30d"})
    assert page.status_code == 200
    assert 'data-panel="playbooks"' in page.content.decode()
    response = client.get("/dashboard/playbooks.csv", {"period": "30d"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["playbook", "position", "task", "done", "skipped", "median seconds", "p90 seconds"]
    today = timezone.localdate()
    figures = period_figures(Period(today - timedelta(days=29), today), scope_for_agent(people.alice))
    assert [row[:5] for row in rows[1:]] == [
        [r.playbook, str(r.position), r.title, str(r.done), str(r.skipped)] for r in figures.playbooks
    ]
    assert len(rows) > 2
