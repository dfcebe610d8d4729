"""Benchmark: CPU and SQL statements per ticket on the shared write path, in one process.

    python bench/hot_path.py --db postgres           # BENCH_DATABASE_URL, default socdesk_bench_hot_path
    python bench/hot_path.py --db sqlite --profile osticket

No server and no client: the osTicket API's create (its view through Django's request cycle, one
request at a time, and its group writer `_open_many` with groups of 16 and of 1) and one batch of
alert deliveries (`deliveries_process`, 500 Alertmanager deliveries, some repeating) run in this
process, each timed by process CPU (`time.process_time`, this process only: the database server's
share is not in it) and with every SQL statement counted. A figure a busy machine cannot inflate as
much as wall-clock throughput, and the statement counts do not depend on the load at all.
`--profile osticket|group|single|ingest` prints cProfile's top functions (process time) for that
part instead; otherwise the table is appended to docs/benchmarks.md (unless --no-append).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import ROOT, append_results, configure
from ingest import am_alert, am_group, fingerprints, fresh_database, make_key


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--tickets", type=int, default=400, help="osTicket requests (default 400)")
    parser.add_argument("--alerts", type=int, default=500, help="deliveries in the ingest batch")
    parser.add_argument("--filters", type=int, default=0, help="ticket filters to create first")
    parser.add_argument("--sla", action="store_true", help="a default SLA plan on every ticket")
    parser.add_argument("--profile", choices=["osticket", "group", "single", "ingest"], default=None)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args()


def osticket_body(i: int) -> bytes:
    return json.dumps(
        {
            "name": "Bench User",
            "email": f"user{i % 500}@corp.example",
            "subject": f"Phishing report {i}",
            "message": f"User reports a suspicious mail from evil{i}.example (203.0.113.{i % 250})",
            "priority": 2,
        }
    ).encode()


class Counted:
    """Process CPU seconds and SQL statements of the block."""

    def __enter__(self):
        from django.db import connection

        self.statements = 0
        self._wrapper = connection.execute_wrapper(self._count)
        self._wrapper.__enter__()
        self.cpu = time.process_time()
        return self

    def _count(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)

    def __exit__(self, *exc):
        self.cpu = time.process_time() - self.cpu
        self._wrapper.__exit__(*exc)


def run_osticket(raw_key: str, start: int, count: int, profiler: cProfile.Profile | None) -> Counted:
    from django.test import Client

    client = Client(HTTP_X_API_KEY=raw_key, HTTP_HOST="127.0.0.1")
    bodies = [osticket_body(start + i) for i in range(count)]
    with Counted() as counted:
        if profiler:
            profiler.enable()
        for body in bodies:
            response = client.post("/api/tickets.json", body, content_type="application/json")
            assert response.status_code == 201, response.content
        if profiler:
            profiler.disable()
    return counted


def run_group(raw_key: str, start: int, count: int, size: int, profiler: cProfile.Profile | None) -> Counted:
    """The group writer alone, fed requests checked as the view checks them (parsing and checks not timed)."""
    from django.db import transaction

    from socdesk.accounts.keyauth import authenticate_key
    from socdesk.accounts.selectors import api_department
    from socdesk.api.osticket import _open_many, _Pending
    from socdesk.api.osticket_formats import request_from_json
    from socdesk.tickets.observables import observables_in_text

    class FakeRequest:
        META = {"REMOTE_ADDR": "127.0.0.1"}

    key, actor = authenticate_key(FakeRequest(), raw_key, scope="tickets:create")
    drafts = []
    for i in range(count):
        incoming = request_from_json(osticket_body(start + i))
        pending = _Pending(incoming, key, actor, "json", api_department(key), None)
        pending.check()
        pending.observables = observables_in_text(incoming.subject, incoming.body)
        drafts.append(pending)
    with Counted() as counted:
        if profiler:
            profiler.enable()
        for first in range(0, count, size):
            _open_many(drafts[first : first + size])
            transaction.get_connection().run_and_clear_commit_hooks()
        if profiler:
            profiler.disable()
    return counted


def run_ingest(count: int, seed: int, profiler: cProfile.Profile | None) -> Counted:
    from django.db import transaction

    from socdesk.alerts.ingest import deliveries_process, delivery_receive

    rng = random.Random(seed)
    with transaction.atomic():
        ids = [
            delivery_receive(adapter="alertmanager", body=am_group([am_alert(fp, rng)])).pk
            for fp in fingerprints(count, 0.3, rng, f"s{seed}-")
        ]
    with Counted() as counted:
        if profiler:
            profiler.enable()
        outcome = deliveries_process(delivery_ids=ids)
        if profiler:
            profiler.disable()
    assert set(outcome.values()) == {"processed"}, outcome
    return counted


def main() -> None:
    args = parse_args()
    os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/socdesk_bench_hot_path")
    fresh_database(args.db)
    where = configure(args.db)
    raw_key = make_key(filters=args.filters, sla=args.sla)
    # Process CPU, not wall time: waiting for the database is not this process's cost.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    # Warm-up: caches, IOC grammars, first-use imports are not a ticket's cost.
    run_osticket(raw_key, 10**6, 20, None)
    run_group(raw_key, 2 * 10**6, 32, 16, None)
    run_ingest(50, 1, None)
    load = os.getloadavg()
    rows = []
    if args.profile in (None, "osticket"):
        c = run_osticket(raw_key, 0, args.tickets, profiler if args.profile else None)
        rows.append(("osTicket API request, one at a time", args.tickets, c))
    if args.profile in (None, "group"):
        c = run_group(raw_key, 10**5, args.tickets, 16, profiler if args.profile else None)
        rows.append(("osTicket group writer, groups of 16", args.tickets, c))
    if args.profile in (None, "single"):
        c = run_group(raw_key, 3 * 10**5, args.tickets // 4, 1, profiler if args.profile else None)
        rows.append(("osTicket group writer, groups of 1", args.tickets // 4, c))
    if args.profile in (None, "ingest"):
        c = run_ingest(args.alerts, 2, profiler if args.profile else None)
        rows.append((f"deliveries_process, one batch of {args.alerts}", args.alerts, c))
    lines = [
        "| path | items | CPU ms/item (this process) | SQL statements | statements/item |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, items, c in rows:
        per_item = f"{c.cpu / items * 1000:.2f} | {c.statements:,} | {c.statements / items:.2f}"
        lines.append(f"| {name} | {items:,} | {per_item} |")
    loads = f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    print(f"{where}; {loads}")
    print("\n".join(lines))
    if not args.profile and not args.no_append:
        command = f"python bench/hot_path.py --db {args.db} --tickets {args.tickets} --alerts {args.alerts}"
        path = append_results(
            "Ticket write path in one process: CPU and statements",
            command,
            where,
            "\n".join([f"Machine {loads}.", "", *lines]),
        )
        print(f"Appended to {path.relative_to(ROOT)}")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
