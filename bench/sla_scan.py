"""Benchmark: the SLA scan over a large number of open tickets (target: <= 10 s per scan at 1,000,000).

    python bench/sla_scan.py                          # PostgreSQL, 1,000,000 open tickets (seeded once)
    python bench/sla_scan.py --tickets 100000 --no-append
    python bench/sla_scan.py --db sqlite --tickets 20000 --no-append

Seeds N open tickets with running SLA clocks into a dedicated benchmark database (BENCH_DATABASE_URL,
by default `socdesk_bench_sla`; never your own). The clocks started evenly over the last `--window`
hours against one 24/7 plan (response 60 min, resolution `--window` hours, at risk at 75 %) with two
escalation levels (response at risk: the assignee; resolution breached: the team lead), and are written
as they stand at the seeding time `T` (states, levels done, next check). That is the steady state of a
desk whose tickets arrive at a constant rate: every 30 seconds, about N x 4 x 30 s / window clocks cross
an at-risk or due instant, half of them with an escalation to announce and audit.

Then runs `--scans` scans at T + 30 s, T + 60 s, ... (the worker's interval), each as the worker runs it,
and reports per scan: clocks checked, escalations, seconds. A change reaches its ticket within one
interval when every scan takes less than the interval. Figures are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, configure, percentile

INTERVAL = timedelta(seconds=30)
RESPONSE_MINUTES = 60
AT_RISK_SHARE = 0.75
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/socdesk_bench_sla")


def ensure_plan(window_hours: int):
    """The 24/7 plan with two escalation levels, every department's plan (created once, via services)."""
    from socdesk.accounts.models import Department
    from socdesk.core.actor import Actor
    from socdesk.routing.models import SLAPlan
    from socdesk.routing.services.sla import (
        EscalationDefinition,
        PlanDefinition,
        ScheduleDefinition,
        schedule_create,
        sla_plan_create,
    )
    from socdesk.routing.services.sla_clocks import department_sla_set

    found = SLAPlan.objects.filter(name="Bench 24/7").first()
    if found is not None:
        return found
    actor = Actor.system("bench")
    schedule = schedule_create(actor=actor, definition=ScheduleDefinition(name="Bench 24/7", always=True))
    resolution = window_hours * 60
    plan = sla_plan_create(
        actor=actor,
        definition=PlanDefinition(
            name="Bench 24/7",
            schedule=schedule,
            at_risk_share=AT_RISK_SHARE,
            targets={
                s: (RESPONSE_MINUTES, resolution) for s in ("info", "low", "medium", "high", "critical")
            },
            escalations=[
                EscalationDefinition(trigger="at_risk", target="response", notify="assignee"),
                EscalationDefinition(trigger="breached", target="resolution", notify="team_lead"),
            ],
        ),
    )
    for department in Department.objects.all():
        department_sla_set(actor=actor, department=department, plan=plan)
    return plan


def seed(target: int, window_hours: int, plan, seeded_at: datetime) -> None:
    """Open tickets (status in progress, assignee and team set) with their clocks as they stand at T."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import Max
    from queue_list import ensure_org
    from seed import TICKET_COLUMNS

    from socdesk.accounts.models import Team
    from socdesk.routing import clocks
    from socdesk.routing.models import TicketSLA
    from socdesk.tickets.models import Ticket

    departments, agents_by_dept, _contacts, _tags = ensure_org()
    have = TicketSLA.objects.count()
    if have >= target:
        print(f"Reusing {have:,} SLA clocks already in the benchmark database.")
        return
    teams = {team.department_id: team.pk for team in Team.objects.all()}
    first_id = (Ticket.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    todo = target - have
    window = timedelta(hours=window_hours)
    step = window / todo
    resolution = window_hours * 60
    rules = (
        clocks.LevelRule(level=1, target="response", trigger="at_risk"),
        clocks.LevelRule(level=2, target="resolution", trigger="breached"),
    )
    clock_columns = [
        "ticket_id",
        "plan_id",
        "plan_source",
        "started_at",
        "response_minutes",
        "resolution_minutes",
        "response_at_risk_at",
        "response_due_at",
        "response_met_at",
        "response_state",
        "response_level",
        "resolution_at_risk_at",
        "resolution_due_at",
        "resolution_met_at",
        "resolution_state",
        "resolution_level",
        "state",
        "paused_since",
        "pauses",
        "next_check_at",
        "claimed_by",
        "updated_at",
    ]
    print(f"Seeding {todo:,} open tickets with SLA clocks ({have:,} present)...")
    started = time.perf_counter()
    batch = 20000
    for offset in range(0, todo, batch):
        tickets, rows = [], []
        for i in range(offset, min(offset + batch, todo)):
            tid = first_id + i
            index = i % len(departments)
            created = seeded_at - window + step * i
            assignee = agents_by_dept[index][i % len(agents_by_dept[index])]
            tickets.append(
                (
                    tid,
                    f"{settings.SOCDESK_TICKET_PREFIX}-{5_000_000 + tid}",
                    f"Bench alert {tid}",
                    "high",
                    "in_progress",
                    "",
                    "alert",
                    departments[index],
                    assignee,
                    teams.get(departments[index]),
                    None,
                    None,
                    "{}",
                    "{}",
                    1,
                    0,
                    created,
                    None,
                    None,
                    None,
                    None,
                    created,
                )
            )
            times = {
                "response": clocks.TargetTimes(
                    created + timedelta(minutes=RESPONSE_MINUTES * AT_RISK_SHARE),
                    created + timedelta(minutes=RESPONSE_MINUTES),
                ),
                "resolution": clocks.TargetTimes(
                    created + timedelta(minutes=resolution * AT_RISK_SHARE),
                    created + timedelta(minutes=resolution),
                ),
            }
            states = {
                name: clocks.target_state(times=t, met_at=None, now=seeded_at) for name, t in times.items()
            }
            levels = {name: clocks.levels_kept(rules, name, 9, states[name]) for name in times}
            running = [(times[name], states[name]) for name in times]
            rows.append(
                (
                    tid,
                    plan.pk,
                    "department",
                    created,
                    RESPONSE_MINUTES,
                    resolution,
                    times["response"].at_risk_at,
                    times["response"].due_at,
                    None,
                    states["response"],
                    levels["response"],
                    times["resolution"].at_risk_at,
                    times["resolution"].due_at,
                    None,
                    states["resolution"],
                    levels["resolution"],
                    clocks.overall_state([(s, True) for s in states.values()], paused=False),
                    None,
                    "[]",
                    clocks.next_check(running, seeded_at),
                    "",
                    seeded_at,
                )
            )
        _write(connection, transaction, TICKET_COLUMNS, tickets, clock_columns, rows)
        print(f"  {offset + len(rows):,} / {todo:,}", end="\r", flush=True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), "
                "(SELECT max(id) FROM tickets_ticket))"
            )
        cursor.execute("ANALYZE")
    print(f"\nSeeded in {time.perf_counter() - started:.0f} s.")


def _write(connection, transaction, ticket_columns, tickets, clock_columns, rows) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for table, cols, values in (
            ("tickets_ticket", ticket_columns, tickets),
            ("routing_ticketsla", clock_columns, rows),
        ):
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(cols))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--window", type=int, default=8, help="Hours over which the clocks started.")
    parser.add_argument("--scans", type=int, default=10)
    parser.add_argument(
        "--no-append", action="store_true", help="Print only; leave docs/benchmarks.md alone."
    )
    args = parser.parse_args()
    where = configure(args.db)

    from django.db import connection
    from django.db.models import Max
    from queue_list import ensure_org

    from socdesk.routing.models import TicketSLA
    from socdesk.routing.services.sla_scan import sla_scan

    ensure_org()  # departments, agents and teams with leads (the bench's people)
    plan = ensure_plan(args.window)
    # The seeding time T is kept in the database (the newest clock's last write), so a reused seed is
    # scanned from where its clocks stand, not from the time of this run.
    seed(args.tickets, args.window, plan, datetime.now(UTC))
    base = TicketSLA.objects.aggregate(m=Max("updated_at"))["m"]
    # Scans of an earlier run moved some clocks on: start after the latest instant a scan already used.
    last_scan = _last_scan_time()
    start = max(base, last_scan) if last_scan else base
    results = []
    for k in range(1, args.scans + 1):
        now = start + INTERVAL * k
        began = time.perf_counter()
        report = sla_scan(now=now)
        seconds = time.perf_counter() - began
        results.append((k, report.checked, report.escalations, seconds))
        print(
            f"scan {k}: {report.checked:,} clocks checked, {report.escalations:,} escalations, "
            f"{seconds:.2f} s"
        )
    _remember_scan_time(start + INTERVAL * args.scans)
    times = [r[3] for r in results]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM routing_ticketsla WHERE next_check_at IS NOT NULL")
        watched = cursor.fetchone()[0]
    body = (
        f"{TicketSLA.objects.count():,} open tickets with SLA clocks ({watched:,} still watched), "
        f"clocks started over {args.window} h; {args.scans} scans 30 s apart.\n\n"
        "| scan | clocks checked | escalations | seconds |\n|---:|---:|---:|---:|\n"
        + "".join(f"| {k} | {c:,} | {e:,} | {s:.2f} |\n" for k, c, e, s in results)
        + f"\np50 {percentile(times, 50):.2f} s, max {max(times):.2f} s per scan (target <= 10 s; a change "
        f"reaches its ticket within one 30 s interval while each scan takes less than the interval).\n"
    )
    print(body)
    if not args.no_append:
        path = append_results("SLA scan", " ".join(sys.argv), where, body)
        print(f"Appended to {path}")


STATE_FILE = Path(os.environ.get("SOCDESK_DATA_DIR", "var/bench")) / "sla_scan_bench.json"


def _last_scan_time() -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(STATE_FILE.read_text())["last_scan"])
    except (OSError, ValueError, KeyError):
        return None


def _remember_scan_time(moment: datetime) -> None:
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps({"last_scan": moment.isoformat()}))


if __name__ == "__main__":
    main()
