"""Playbook task statistics on the SOC dashboard, the API and the report: they agree with a brute-force
count over the tasks (every scope and period, on both databases), carol never sees SOC's tasks, and each
row's drill-down (`?playbook=`) opens exactly the tickets the playbook was applied to."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from socdesk.accounts.services import apikey_create
from socdesk.cases.choices import TaskStatus
from socdesk.cases.models import Playbook, Task
from socdesk.cases.selectors import ticket_tasks
from socdesk.cases.services import (
    PlaybookDefinition,
    TemplateDefinition,
    playbook_apply,
    playbook_update,
    task_create,
    task_set_status,
)
from socdesk.reports.figures import Period, PlaybookTaskRow, Scope
from socdesk.reports.report_content import report_content
from socdesk.reports.selectors import period_figures, scope_for_agent
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_create
from tests.cases.helpers import SETUP, make_playbook

pytestmark = pytest.mark.django_db

MALWARE_TASKS = (("Isolate the host", 15, True), ("Collect a memory image", 60, False))


@pytest.fixture
def tokyo(settings):
    """Days in a zone nine hours from UTC, so a day's boundary is not UTC midnight."""
    settings.TIME_ZONE = "Asia/Tokyo"


def build(people) -> dict[str, Playbook]:
    """Phishing triage (3 tasks, then a version 2 that renames none and adds one) and Malware containment
    applied to SOC tickets (one in Tier 1) and IT tickets; tasks done, skipped and left open, with
    durations from minutes to days, spread over the last six weeks."""
    alice, carol = people.actor(people.alice), people.actor(people.carol)
    phishing = make_playbook()
    malware = make_playbook(name="Malware containment", tasks=MALWARE_TASKS)
    tickets = []
    for n in range(10):
        department, actor = (people.soc, alice) if n < 7 else (people.it, carol)
        ticket = ticket_create(
            actor=actor,
            subject=f"Case {n}",
            department=department,
            team=people.tier1 if n in (1, 4) else None,
        )
        playbook_apply(actor=actor, ticket=ticket, playbook=phishing)
        if n % 3 == 0:
            playbook_apply(actor=actor, ticket=ticket, playbook=malware)
        # A task added by hand is not the playbook's.
        task_create(actor=actor, ticket=ticket, title="Call the user")
        tickets.append((ticket, actor))
    # Version 2 keeps the titles (their figures carry over) and puts a new task first.
    playbook_update(
        actor=SETUP,
        playbook=phishing,
        definition=PlaybookDefinition(
            name=phishing.name,
            templates=[TemplateDefinition(title="Read the headers", required=False)]
            + [TemplateDefinition(title=t.title) for t in phishing.current.templates.order_by("order")],
        ),
    )
    late = ticket_create(actor=alice, subject="Late", department=people.soc)
    playbook_apply(actor=alice, ticket=late, playbook=phishing)
    tickets.append((late, alice))
    now = timezone.now()
    k = 0
    for ticket, actor in tickets:
        for task in ticket_tasks(ticket):
            k += 1
            if k % 5 == 4:
                continue  # left open
            skip = k % 5 == 2
            task_set_status(
                actor=actor, task=task, status="skipped" if skip else "done", reason="Not needed" if skip else ""
            )
            # When it happened: up to six weeks back, and how long it took: minutes to days.
            applied = now - timedelta(days=(k * 7) % 41, hours=k % 13)
            finished = applied + timedelta(minutes=(k * 37) % 3000 + 1)
            Task.objects.filter(pk=task.pk).update(
                created_at=applied,
                updated_at=finished,
                done_at=None if skip else finished,
            )
    assert Task.objects.filter(ticket=late, template__title="Read the headers").exists()
    return {"phishing": phishing, "malware": malware}


def nearest_rank(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return ordered[math.ceil(q * len(ordered)) - 1] if ordered else None


def brute_playbooks(period: Period, scope: Scope) -> list[PlaybookTaskRow]:
    """Every task looked at one by one, in plain Python."""
    zone = timezone.get_default_timezone()
    since = datetime.combine(period.start, time.min, zone)
    until = datetime.combine(period.end + timedelta(days=1), time.min, zone)
    spans: dict[tuple[int, str], list[float]] = defaultdict(list)
    skipped: dict[tuple[int, str], int] = defaultdict(int)
    for task in Task.objects.select_related("run", "template", "ticket"):
        if task.run is None or task.template is None:
            continue
        if task.ticket.department_id not in scope.department_ids:
            continue
        if scope.team_id is not None and task.ticket.team_id != scope.team_id:
            continue
        key = (task.run.playbook_id, task.template.title)
        if task.status == TaskStatus.DONE and since <= task.done_at < until:
            spans[key].append((task.done_at - task.created_at).total_seconds())
        elif task.status == TaskStatus.SKIPPED and since <= task.updated_at < until:
            skipped[key] += 1
    rows = []
    for playbook in Playbook.objects.order_by("name"):
        current = playbook.versions.order_by("-number").first()
        titles = [t.title for t in current.templates.order_by("order", "id")]
        others = sorted({title for p, title in [*spans, *skipped] if p == playbook.pk} - set(titles))
        position = 0
        for title in titles + others:
            key = (playbook.pk, title)
            if key not in spans and key not in skipped:
                continue
            position += 1
            rows.append(
                PlaybookTaskRow(
                    playbook_id=playbook.pk,
                    playbook=playbook.name,
                    position=position,
                    title=title,
                    done=len(spans[key]),
                    skipped=skipped[key],
                    median=nearest_rank(spans[key], 0.5),
                    p90=nearest_rank(spans[key], 0.9),
                )
            )
    return rows


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
