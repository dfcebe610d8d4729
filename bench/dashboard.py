"""Benchmark: the SOC metrics' reads and roll-up maintenance on a large database.

    python bench/dashboard.py                     # PostgreSQL, 1,000,000 tickets (seeded once, then reused)
    python bench/dashboard.py --db sqlite --tickets 100000

Seeds N tickets (bench/seed.py, through bench/queue_list.py's organisation) into a dedicated benchmark
database, rebuilds the roll-ups (`socdesk reports rebuild`, timed), then times `scope_for_agent` +
`now_figures` + `period_figures` together, server-side in-process, for 24 h, 7 d and 30 d as an admin
(every department) and as an analyst of one department: p50/p95 and queries per call. Then the fold
rate: tickets journalled and folded back (tickets/s). Figures are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, configure, percentile


def rebuild_timed() -> tuple[int, float]:
    from socdesk.reports.fold import rebuild

    started = time.perf_counter()
    counted = rebuild(
        progress=lambda done, total: print(f"\r  rebuilt {done:,}/{total:,}", end="", flush=True)
    )
    print()
    return counted, time.perf_counter() - started


def measure(runs: int) -> list[tuple]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from socdesk.accounts.models import Agent
    from socdesk.reports.figures import Period
    from socdesk.reports.selectors import now_figures, period_figures, scope_for_agent

    admin = Agent.objects.get(user__username="bench-admin")
    analyst = Agent.objects.get(user__username="bench-0-1")
    today = timezone.localdate()
    rows = []
    for who, agent in (("admin (6 departments)", admin), ("analyst (SOC)", analyst)):
        for label, days in (("24 h", 1), ("7 d", 7), ("30 d", 30)):
            period = Period(today - timedelta(days=days - 1), today)
            timings = []
            queries = 0
            for i in range(runs + 3):
                fresh = Agent.objects.select_related("user").get(pk=agent.pk)  # no cached permissions
                with CaptureQueriesContext(connection) as captured:
                    start = time.perf_counter()
                    scope = scope_for_agent(fresh)
                    now_figures(scope)
                    figures = period_figures(period, scope)
                    elapsed = (time.perf_counter() - start) * 1000
                if i >= 3:  # the first calls warm caches and connections
                    timings.append(elapsed)
                    queries = len(captured)
                reset_queries()
            opened = sum(figures.opened.values())
            rows.append((who, label, runs, percentile(timings, 50), percentile(timings, 95), queries, opened))
            print(rows[-1])
    return rows


def fold_rate(count: int) -> tuple[int, float]:
    from django.db import transaction

    from socdesk.reports.fold import fold
    from socdesk.reports.journal import tickets_mark
    from socdesk.tickets.models import Ticket

    ids = list(Ticket.objects.order_by("-pk").values_list("pk", flat=True)[:count])
    with transaction.atomic():
        tickets_mark(ids)
    started = time.perf_counter()
    report = fold()
    return report.tickets, time.perf_counter() - started


def explain_open() -> str:
    """EXPLAIN ANALYZE of now_figures' query of the open tickets, for an analyst of one department."""
    from django.db.models import Count, Min

    from socdesk.accounts.models import Agent
    from socdesk.reports.selectors import _scoped, scope_for_agent
    from socdesk.tickets.choices import OPEN_STATUSES
    from socdesk.tickets.models import Ticket

    scope = scope_for_agent(Agent.objects.get(user__username="bench-0-1"))
    query = (
        _scoped(Ticket.objects.filter(status__in=OPEN_STATUSES), scope)
        .order_by()
        .values("severity", "status", "assignee_id")
        .annotate(n=Count("*"), first=Min("created_at"))
    )
    return query.explain(analyze=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--tickets", type=int, default=None, help="default 1,000,000 (PostgreSQL) / 100,000 (SQLite)"
    )
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--no-rebuild", action="store_true", help="reuse the roll-ups already built (re-measure the reads)"
    )
    parser.add_argument("--fold", type=int, default=20000, help="tickets journalled for the fold rate")
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to docs/benchmarks.md"
    )
    args = parser.parse_args()
    tickets = args.tickets or (1_000_000 if args.db == "postgres" else 100_000)
    db = configure(args.db)
    from queue_list import seed

    seed(tickets)
    if args.no_rebuild:
        from socdesk.reports.models import TicketFact

        counted, rebuild_seconds = TicketFact.objects.count(), float("nan")
    else:
        counted, rebuild_seconds = rebuild_timed()
        print(f"Rebuilt the roll-ups from {counted:,} tickets in {rebuild_seconds:.1f} s")
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does after a bulk load: statistics, visibility
            cursor.execute("VACUUM ANALYZE")
    rows = measure(args.runs)
    folded, fold_seconds = fold_rate(args.fold)
    print(f"Folded {folded:,} tickets in {fold_seconds:.1f} s ({folded / fold_seconds:,.0f} tickets/s)")
    explain = explain_open() if args.db == "postgres" else ""

    from socdesk.reports.models import DayCount, DayDuration, TicketFact, WeekAgent, WeekDuration

    md = (
        (
            f"Roll-ups reused, not rebuilt ({TicketFact.objects.count():,} facts, "
            if args.no_rebuild
            else f"Roll-ups rebuilt from {counted:,} tickets in {rebuild_seconds:.1f} s "
            f"({counted / rebuild_seconds:,.0f} tickets/s; {TicketFact.objects.count():,} facts, "
        )
        + f"{DayCount.objects.count():,} count rows, {DayDuration.objects.count():,} duration rows, "
        f"{WeekDuration.objects.count():,} weekly duration and {WeekAgent.objects.count():,} weekly agent "
        "rows). "
        f"Fold: {folded:,} journalled tickets in {fold_seconds:.1f} s "
        f"({folded / fold_seconds:,.0f} tickets/s).\n\n"
        "`scope_for_agent` + `now_figures` + `period_figures`, in-process, server-side:\n\n"
        "| agent | period | runs | p50 ms | p95 ms | queries | tickets opened in period |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    for who, label, n, p50, p95, queries, opened in rows:
        md += f"| {who} | {label} | {n} | {p50:.1f} | {p95:.1f} | {queries} | {opened:,} |\n"
    if explain:
        md += "\nEXPLAIN ANALYZE of the live figures' query of open tickets (one department):\n\n"
        md += f"```\n{explain}\n```\n"
    print(md)
    if not args.no_record:
        url = os.environ.get("BENCH_DATABASE_URL")
        prefix = f"BENCH_DATABASE_URL={url} " if url else ""
        command = prefix + "python bench/dashboard.py " + " ".join(sys.argv[1:])
        path = append_results(f"SOC metrics, {counted:,} tickets", command.strip(), db, md)
        print(f"Figures appended to {path}")


if __name__ == "__main__":
    main()
