"""Playbook tasks done, skipped and left open over six weeks, built through the real services, and an
independent brute-force computation of the dashboard's playbook rows straight from the tasks."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, time, timedelta

from django.utils import timezone

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
from socdesk.tickets.services import ticket_create
from tests.cases.helpers import SETUP, make_playbook

MALWARE_TASKS = (("Isolate the host", 15, True), ("Collect a memory image", 60, False))


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
            status, reason = ("skipped", "Not needed") if skip else ("done", "")
            task_set_status(actor=actor, task=task, status=status, reason=reason)
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
            spans[key].append(max(0.0, (task.done_at - task.created_at).total_seconds()))
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
