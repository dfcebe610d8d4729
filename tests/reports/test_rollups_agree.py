"""The roll-ups agree with a brute-force computation over the tickets, on both databases: every field of
PeriodFigures and NowFigures, after incremental folds (once, twice, in two halves), and `socdesk reports
rebuild` gives the same roll-ups as the folds."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from socdesk.accounts.models import Department, Team
from socdesk.reports.contributions import week_of
from socdesk.reports.figures import Period, Scope
from socdesk.reports.fold import MODELS, fold
from socdesk.reports.models import DirtyTicket, TicketFact, WeekAgent, WeekDuration
from socdesk.reports.selectors import now_figures, period_figures, scope_for_agent

from .scenario import (
    brute_now,
    brute_period,
    build_tickets,
    change_tickets,
    change_without_ticket_changes,
    decide_sla,
    spread_over_days,
    within_a_bucket,
)

pytestmark = pytest.mark.django_db

DURATIONS = [
    "tta_by_severity",
    "ttr_by_severity",
    "tta_by_department",
    "ttr_by_department",
    "tta_by_team",
    "ttr_by_team",
    "tta_by_week",
    "ttr_by_week",
]


@pytest.fixture
def tokyo(settings):
    """Days in a zone nine hours from UTC, so a day's boundary is not UTC midnight."""
    settings.TIME_ZONE = "Asia/Tokyo"


def rollup_rows() -> dict[str, set[tuple]]:
    """Every roll-up row that counts something, and every fact, as plain tuples."""
    rows: dict[str, set[tuple]] = {}
    for name, model in MODELS.items():
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        counts = [f for f in fields if f not in model._meta.constraints[0].fields]
        rows[name] = {
            row for row in model.objects.values_list(*fields) if any(row[fields.index(c)] for c in counts)
        }
    rows["facts"] = {
        (*row[:-1], tuple(row[-1]))
        for row in TicketFact.objects.exclude(created_day=None).values_list(
            *[f.attname for f in TicketFact._meta.concrete_fields]
        )
    }
    return rows


def assert_period_agrees(period: Period, scope: Scope) -> None:
    figures = period_figures(period, scope)
    expected = brute_period(period, scope)
    assert figures.opened == expected["opened"]
    assert figures.resolved == expected["resolved"]
    assert figures.verdicts_by_origin == expected["verdicts_by_origin"]
    assert figures.sla_response == expected["sla_response"]
    assert figures.sla_resolution == expected["sla_resolution"]
    for name in DURATIONS:
        assert getattr(figures, name) == expected.get(name, {}), name
        for key, durations in getattr(figures, name).items():
            seconds = expected["raw"][name][key]
            assert within_a_bucket(durations.median, seconds, 0.5), (name, key)
            assert within_a_bucket(durations.p90, seconds, 0.9), (name, key)
    assert [
        (r.rule, r.origin, r.alerts, r.tickets, r.resolved, r.false_positives, r.handling_seconds, r.verdicts)
        for r in figures.rules
    ] == expected["rules"]
    assert [(o.observable_id, o.tickets) for o in figures.observables] == expected["observables"]
    agents = expected.get("agents", {})
    assert [(a.agent_id, a.resolved, a.time_to_resolve) for a in figures.agents] == sorted(
        ((agent, d.count, d) for agent, d in agents.items()), key=lambda row: (-row[1], row[0])
    )
    assert figures.names["department"] == dict(
        Department.objects.filter(pk__in=scope.department_ids).values_list("pk", "name")
    )
    teams = {key for name in DURATIONS if "team" in name for key in getattr(figures, name) if key}
    teams |= {scope.team_id} if scope.team_id else set()
    assert figures.names["team"] == dict(Team.objects.filter(pk__in=teams).values_list("pk", "name"))


def assert_now_agrees(scope: Scope, now: datetime, alerts: int) -> None:
    figures = now_figures(scope, now=now)
    expected = brute_now(scope, now)
    for name, value in expected.items():
        assert getattr(figures, name) == value, name
    assert figures.alerts_last_hour == alerts
    assert figures.ingest_oldest_seconds == 0


def scopes(people) -> list[Scope]:
    return [
        scope_for_agent(people.admin),
        scope_for_agent(people.alice),
        scope_for_agent(people.carol),
        scope_for_agent(people.admin, department_id=people.it.pk),
        scope_for_agent(people.alice, team_id=people.tier1.pk),
    ]


def periods(now: datetime) -> list[Period]:
    """Periods of ragged days only, of whole weeks only, and of whole weeks between ragged ends (the
    weekly roll-ups serve the whole weeks, the daily ones the ragged ends)."""
    today = timezone.localtime(now).date()
    monday = week_of(today)
    chosen = [
        Period(today - timedelta(days=29), today),
        Period(today - timedelta(days=6), today),
        Period(today, today),
        Period(today - timedelta(days=13), today - timedelta(days=8)),
        Period(monday - timedelta(days=21), monday - timedelta(days=1)),
        Period(monday - timedelta(days=18), today),
        Period(monday - timedelta(days=16), monday - timedelta(days=2)),
    ]
    first, until = chosen[4].whole_weeks
    assert (first, until) == (chosen[4].start, chosen[4].end + timedelta(days=1))
    first, until = chosen[5].whole_weeks
    assert chosen[5].start < first < until <= chosen[5].end + timedelta(days=1)
    first, until = chosen[6].whole_weeks
    assert chosen[6].start < first < until <= chosen[6].end
    return chosen


def check_everything(people, now: datetime, alerts: int) -> None:
    assert not DirtyTicket.objects.exists()
    for scope in scopes(people):
        for period in periods(now):
            assert_period_agrees(period, scope)
        assert_now_agrees(scope, now, alerts)


def test_folded_rollups_agree_with_the_tickets(people, tokyo):
    alerts = build_tickets(people)
    # The opening folded in two halves; the changes are then folded over it (new minus old for real).
    pending = DirtyTicket.objects.count()
    fold(batch=pending // 2, until_empty=False)
    assert 0 < DirtyTicket.objects.count() < pending
    fold()
    change_tickets(people)
    now = timezone.now()
    spread_over_days(now)
    fold()
    # Changes the tickets app does not see as ticket changes, each marked by its own path.
    alerts += change_without_ticket_changes(people)
    fold()
    check_everything(people, now, alerts)
    decide_sla(now)
    assert DirtyTicket.objects.exists()
    fold()
    before = rollup_rows()
    call_command("reports", "fold")  # again: nothing is journalled, nothing changes
    assert rollup_rows() == before
    check_everything(people, now, alerts)
    # The scenario reached every kind of figure (so the comparison above compared something).
    figures = period_figures(periods(now)[0], scope_for_agent(people.admin))
    assert figures.rules and figures.observables and figures.agents and figures.verdicts_by_origin
    assert any(decided for _met, decided in figures.sla_response.values())
    assert {origin for _day, origin, _sev in figures.opened} >= {
        "web",
        "api",
        "email",
        "alertmanager",
        "wazuh",
    }
    assert len(figures.verdicts_by_origin) >= 4


def test_rebuild_gives_the_rollups_folding_gave(people, tokyo):
    alerts = build_tickets(people)
    fold()
    change_tickets(people)
    now = timezone.now()
    spread_over_days(now)
    fold()
    # Changes the tickets app does not see as ticket changes, each marked by its own path.
    alerts += change_without_ticket_changes(people)
    decide_sla(now)
    fold()
    folded = rollup_rows()
    assert folded["facts"] and folded["count"] and folded["duration"]
    for model in [TicketFact, *MODELS.values()]:
        model.objects.all().delete()  # an installation upgraded with tickets and no roll-ups yet
    call_command("reports", "rebuild", "--batch", "7")
    assert rollup_rows() == folded
    check_everything(people, now, alerts)


def test_the_duration_histograms_are_read_in_one_statement_per_level(people):
    """The four groupings of the duration roll-up (severity, department, team, week) cost one query of
    the daily rows, and one of the weekly rows when the period has a whole week; the whole period read
    costs a fixed number of queries whatever the period's length."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    build_tickets(people)
    change_tickets(people)
    fold()
    today = timezone.localdate()
    counts: dict[bool, set[int]] = {False: set(), True: set()}
    scope = scope_for_agent(people.admin)
    for days in (1, 7, 30, 90, 366):
        period = Period(today - timedelta(days=days - 1), today)
        first, until = period.whole_weeks
        with CaptureQueriesContext(connection) as captured:
            figures = period_figures(period, scope)
        for table, expected in (("reports_dayduration", 1), ("reports_weekduration", int(first < until))):
            reads = [q["sql"] for q in captured.captured_queries if table in q["sql"]]
            assert len(reads) == expected, reads
        counts[first < until].add(len(captured))
    assert figures.tta_by_severity or figures.ttr_by_severity
    assert len(counts[True]) == 1 and len(counts[False]) == 1
    assert counts[True] == {n + 2 for n in counts[False]}  # the weekly durations and agents


def test_the_upgrade_fills_the_weekly_rollups_from_the_daily_ones(people, tokyo):
    """The migration that adds the weekly tables fills them with what the fold would have kept."""
    from django.apps import apps

    fill = importlib.import_module("socdesk.reports.migrations.0003_weekly_duration_agent_rollups")
    build_tickets(people)
    change_tickets(people)
    spread_over_days(timezone.now())
    fold()
    folded = rollup_rows()
    assert folded["week_duration"] and folded["week_agent"]
    WeekDuration.objects.all().delete()
    WeekAgent.objects.all().delete()
    fill.sum_daily_rows_into_weeks(apps, None)
    assert rollup_rows() == folded
