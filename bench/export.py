"""Benchmark: exporting a whole queue as CSV and as JSON (the console's Export link, streamed).

    python bench/export.py                          # PostgreSQL, 1,000,000 tickets (seeded once, reused)
    python bench/export.py --db sqlite --tickets 100000

Seeds the tickets as bench/queue_list.py does (same database, reused), then, for each format, runs the
admin's export of the All queue through Django's request cycle in a fresh process, reading the streamed
response to its end: the time to the first byte, the time to the last, the rows and bytes sent, the
process's peak memory (resident set) before and after, and the queries made. Appends the figures to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, configure

# The seeded queue of bench/queue_list.py, in a database of its own.
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/socdesk_bench_export"


def export_once(export_format: str) -> dict:
    """One export in this process (called in a child process, so its peak memory is the export's)."""
    from django.db import connection
    from django.test import Client

    from socdesk.accounts.models import Agent

    admin = Agent.objects.select_related("user").get(user__username="bench-admin")
    client = Client()
    client.force_login(admin.user)
    client.get("/tickets/?queue=all")  # the session and connection warm, as for an agent on the queue
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queries_before = len(connection.queries) if connection.queries_logged else 0
    start = time.perf_counter()
    response = client.get(f"/tickets/export?queue=all&format={export_format}")
    first_byte = None
    size = lines = 0
    for chunk in response.streaming_content:
        if first_byte is None:
            first_byte = time.perf_counter() - start
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = lines - 1 if export_format == "csv" else lines - 2  # the header line; the brackets
    return {
        "format": export_format,
        "rows": rows,
        "bytes": size,
        "seconds": seconds,
        "first_byte_ms": (first_byte or 0) * 1000,
        "rss_before_mb": before / 1024,
        "rss_peak_mb": after / 1024,
        "queries": (len(connection.queries) - queries_before) if connection.queries_logged else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--tickets", type=int, default=None, help="default 1,000,000 (PostgreSQL) / 100,000 (SQLite)"
    )
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to docs")
    parser.add_argument("--child", choices=["csv", "json"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_PG)
    db = configure(args.db)
    if args.child:
        print(json.dumps(export_once(args.child)))
        return
    from queue_list import seed

    tickets = args.tickets or (1_000_000 if args.db == "postgres" else 100_000)
    seed(tickets)
    results = []
    for export_format in ("csv", "json"):
        print(f"exporting the All queue as {export_format} ...", flush=True)
        out = subprocess.run(
            [sys.executable, __file__, "--db", args.db, "--child", export_format],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))

    from rich.console import Console
    from rich.table import Table

    columns = ("format", "rows", "MB sent", "first byte ms", "total s", "rows/s", "RSS before MB")
    columns += ("peak RSS MB",)
    table = Table(title=f"Export of the All queue as the admin, {db}")
    for col in columns:
        table.add_column(col)
    md = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    for r in results:
        cells = (
            r["format"],
            f"{r['rows']:,}",
            f"{r['bytes'] / 2**20:.0f}",
            f"{r['first_byte_ms']:.0f}",
            f"{r['seconds']:.1f}",
            f"{r['rows'] / r['seconds']:,.0f}",
            f"{r['rss_before_mb']:.0f}",
            f"{r['rss_peak_mb']:.0f}",
        )
        table.add_row(*cells)
        md += "| " + " | ".join(cells) + " |\n"
    Console().print(table)
    if not args.no_record:
        command = "python bench/export.py " + " ".join(sys.argv[1:])
        path = append_results(f"Ticket export, {results[0]['rows']:,} tickets", command.strip(), db, md)
        print(f"Figures appended to {path}")


if __name__ == "__main__":
    main()
