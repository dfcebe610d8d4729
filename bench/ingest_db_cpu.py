"""Benchmark: the database's CPU per alert in the ingest loop's batches, statement by statement.

    python bench/ingest_db_cpu.py                      # BENCH_DATABASE_URL, default socdesk_bench_ingest_db
    python bench/ingest_db_cpu.py --alerts 3000 --top 25 --no-append

PostgreSQL only. Alertmanager deliveries (some repeating) are received, then drained in this process
with `deliveries_drain`, the ingest loop's own step (batches of SOCDESK_DELIVERY_BATCH), and the audit
events sealed as the loop seals them. Each statement's CPU in its PostgreSQL backend is read from
/proc/<backend pid>/schedstat (nanoseconds on a CPU, the backend runs on this machine) before and after
it, and summed by statement text; COPY goes around Django's cursor wrapper and is timed around the call.
What no statement accounts for is the commits (deferred foreign-key checks run there) and the idle
wait. Process CPU of this process is the loop's Python share. A busy machine inflates wall time far
more than these figures. The table is appended to docs/benchmarks.md unless --no-append.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, configure
from ingest import am_alert, am_group, fingerprints, fresh_database, make_key


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=3000, help="deliveries drained (default 3,000)")
    parser.add_argument("--top", type=int, default=20, help="statements shown (default 20)")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args()


class BackendCpu:
    """CPU milliseconds of this process's PostgreSQL backend, per statement text."""

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.pid = cursor.fetchone()[0]
        self.by_statement: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def now(self) -> float:
        with open(f"/proc/{self.pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e6

    def add(self, key: str, started: float) -> None:
        entry = self.by_statement[key]
        entry[0] += 1
        entry[1] += self.now() - started

    def wrapper(self, execute, sql, params, many, context):
        started = self.now()
        try:
            return execute(sql, params, many, context)
        finally:
            self.add(re.sub(r"\s+", " ", sql.strip())[:100], started)


def receive(count: int, rng: random.Random, prefix: str) -> None:
    from django.db import transaction

    from socdesk.alerts.ingest import delivery_receive

    with transaction.atomic():
        for fingerprint in fingerprints(count, 0.3, rng, prefix):
            delivery_receive(adapter="alertmanager", body=am_group([am_alert(fingerprint, rng)]))


def main() -> None:
    args = parse_args()
    os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/socdesk_bench_ingest_db")
    fresh_database("postgres")
    where = configure("postgres")
    make_key()
    from django.db import connection

    import socdesk.core.sql.postgresql as pg
    from socdesk.alerts.ingest.deliveries import deliveries_drain
    from socdesk.audit.services import seal_pending

    rng = random.Random(1)
    receive(min(args.alerts, 500), rng, "warm-")  # caches, grammars, first-use imports
    while deliveries_drain():
        pass
    seal_pending()
    receive(args.alerts, rng, "run-")
    cpu = BackendCpu()
    copy_rows = pg.PostgreSQL.copy_rows

    def timed_copy(self, conn, model, names, rows):
        started = cpu.now()
        try:
            return copy_rows(self, conn, model, names, rows)
        finally:
            cpu.add(f"COPY (or a few rows' INSERT) {model._meta.db_table}", started)

    load = os.getloadavg()
    pg.PostgreSQL.copy_rows = timed_copy  # type: ignore[method-assign]
    try:
        backend, process = cpu.now(), time.process_time()
        with connection.execute_wrapper(cpu.wrapper):
            batches = 0
            while deliveries_drain():
                batches += 1
            seal_pending()
        backend, process = cpu.now() - backend, time.process_time() - process
    finally:
        pg.PostgreSQL.copy_rows = copy_rows  # type: ignore[method-assign]
    per = 1000 / args.alerts  # ms in total -> µs per alert
    counted = sum(ms for _, ms in cpu.by_statement.values())
    lines = [
        f"{args.alerts:,} alerts in {batches} batches, then one seal: backend {backend * per:.0f} µs/alert "
        f"({counted * per:.0f} in statements, {(backend - counted) * per:.0f} in commits and between), "
        f"this process {process * 1e6 / args.alerts:.0f} µs/alert.",
        "",
        "| backend µs/alert | statements | statement |",
        "|---:|---:|---|",
    ]
    ranked = sorted(cpu.by_statement.items(), key=lambda item: -item[1][1])
    for text, (calls, ms) in ranked[: args.top]:
        lines.append(f"| {ms * per:.1f} | {calls:.0f} | `{text.replace('|', '/')}` |")
    loads = f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    print(f"{where}; {loads}")
    print("\n".join(lines))
    if not args.no_append:
        path = append_results(
            "Ingest loop: database CPU per alert, by statement",
            f"python bench/ingest_db_cpu.py --alerts {args.alerts}",
            where,
            "\n".join([f"Machine {loads}.", "", *lines]),
        )
        print(f"Appended to {path}")


if __name__ == "__main__":
    main()
