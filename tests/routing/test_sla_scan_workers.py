"""Two SLA scans at once on the same due clocks escalate each level of each ticket exactly once.

On PostgreSQL the two scans are two `socdesk sla scan` processes configured as workers on several
machines are (PostgreSQL and Redis); on both databases, two threads of this process.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from socdesk.accounts.testing import make_personas
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.routing.models import TicketSLA
from socdesk.routing.services.sla_scan import sla_scan
from socdesk.tickets.services import TicketDraft, ticket_create_many
from tests.core.processes import REPO, socdesk_argv, socdesk_env
from tests.routing.sla_fixtures import make_plans

TICKETS = 60
LEVELS_EACH = 2  # response at risk (assignee) then breached (team lead); resolution not yet breached


def _due_tickets(people) -> list[int]:
    """TICKETS tickets whose response target is breached, each with two escalation levels to climb."""
    make_plans(people)
    actor = Actor.system("ingest")
    tickets = ticket_create_many(
        [
            TicketDraft(
                actor=actor,
                subject=f"Alert {i}",
                department=people.soc,
                severity="high",
                assignee=people.bob,
                team=people.tier1,
            )
            for i in range(TICKETS)
        ]
    )
    now = timezone.now()
    TicketSLA.objects.update(
        response_at_risk_at=now - timedelta(minutes=20),
        response_due_at=now - timedelta(minutes=1),
        next_check_at=now - timedelta(minutes=1),
    )
    return [t.pk for t in tickets]


def _check_exactly_once(ids: list[int]) -> None:
    events = list(AuditEvent.objects.filter(action="ticket.escalated").values_list("target_id", "after"))
    per_ticket: dict[str, list[int]] = {}
    for target, after in events:
        per_ticket.setdefault(target, []).append(after["level"])
    assert len(events) == TICKETS * LEVELS_EACH, f"{len(events)} escalations for {TICKETS} tickets"
    assert all(sorted(levels) == [1, 2] for levels in per_ticket.values()), per_ticket
    assert set(per_ticket) == {str(pk) for pk in ids}
    assert set(TicketSLA.objects.values_list("response_level", "response_state")) == {(2, "breached")}


@pytest.mark.django_db(transaction=True)
def test_two_scans_in_threads_escalate_each_level_once():
    ids = _due_tickets(make_personas())
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            start.wait(timeout=30)
            sla_scan(batch=5)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    _check_exactly_once(ids)


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_on_postgresql_and_redis_escalate_each_level_once(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("workers on several machines share PostgreSQL; this runs with DATABASE_URL set")
    import subprocess

    ids = _due_tickets(make_personas())
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = socdesk_env(
        tmp_path,
        DATABASE_URL=url,
        REDIS_URL=os.environ.get("SOCDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
    )
    workers = [
        subprocess.Popen(
            socdesk_argv("sla", "scan", "--batch", "3"),
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=180) for worker in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    checked = [int(out.split("Checked ")[1].split(" ")[0]) for out, _ in outputs]
    assert sum(checked) == TICKETS, outputs  # every due clock checked by one scan or the other
    _check_exactly_once(ids)
