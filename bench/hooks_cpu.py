"""Benchmark: web server CPU per acknowledged webhook delivery.

    python bench/hooks_cpu.py                        # PostgreSQL (socdesk_bench_ingest, created fresh)
    python bench/hooks_cpu.py --db sqlite --loops    # ingest loops on as well

Starts `socdesk serve` against a fresh benchmark database (rate limit off unless --rate-limit; with
`--no-worker`, so no ingest loop competes, unless `--loops`), then posts N single-alert Alertmanager webhooks
(default 4,000) from C concurrent connections (default 24) on loopback. It reads the CPU time of
the web processes (granian) and, on PostgreSQL, of the benchmark database's backends from /proc
before and after, and reports CPU per acknowledged (202) delivery. Figures are appended to
docs/benchmarks.md unless --no-append.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, percentile
from ingest import (
    am_alert,
    am_group,
    send_all,
    serve_fresh,
    stop_server,
)
from osticket_cpu import CpuWatch, breakdown, role, used


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--deliveries", type=int, default=4000, help="webhooks to post (default 4,000)")
    parser.add_argument("--clients", type=int, default=24, help="concurrent HTTP clients (default 24)")
    parser.add_argument("--loops", action="store_true", help="run the worker and ingest loops too")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        help="SOCDESK_API_RATE_LIMIT for the server (requests/min per key; default 0 = off)",
    )
    parser.add_argument("--time-limit", type=float, default=300, help="seconds at most")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args()


def bodies(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [am_group([am_alert(f"{seed:04x}{i:012x}", rng)]) for i in range(count)]


def main() -> None:
    from rich.console import Console
    from rich.progress import Progress

    args = parse_args()
    console = Console()
    where, raw_key, port, server = serve_fresh(args, *([] if args.loops else ["--no-worker"]))
    try:
        time.sleep(3)
        headers = {"X-API-Key": raw_key, "Content-Type": "application/json"}
        url = f"http://127.0.0.1:{port}/api/v1/hooks/alertmanager"
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("warm-up", total=200)
            asyncio.run(send_all(url, bodies(200, 1), headers, args.clients, 60, progress, task))
            time.sleep(1)
            watch = CpuWatch(server.pid, args.db)
            watch.poll()
            before, _, commits_before = watch.reading()
            watch.start()
            task = progress.add_task("webhooks", total=args.deliveries)
            latencies, errors, elapsed = asyncio.run(
                send_all(
                    url, bodies(args.deliveries, 2), headers, args.clients, args.time_limit, progress, task
                )
            )
            time.sleep(1)  # PostgreSQL's commit statistics lag
            watch.stop()
            after, database, commits_after = watch.reading()
            roles = {pid: role(pid) for pid in after}
            roles.update(dict.fromkeys(database, "postgres"))
    finally:
        stop_server(server)
    acked = len(latencies) - len(errors)
    per_role = breakdown(before, after, roles)
    web = per_role.get("web", 0.0) / max(acked, 1) * 1000
    db_cpu = used(before, {pid: t for pid, t in after.items() if pid in database}) / max(acked, 1) * 1000
    line = (
        f"{where}, loops {'on' if args.loops else 'off'}, rate limit {args.rate_limit or 'off'},"
        f" {args.clients} clients: {acked:,} acknowledged,"
        f" {len(errors)} errors, {acked / elapsed:,.0f}/s, p50 {percentile(latencies, 50) * 1000:.1f} ms,"
        f" p95 {percentile(latencies, 95) * 1000:.1f} ms; web CPU {web:.3f} ms/delivery,"
        f" db CPU {db_cpu:.3f} ms/delivery; commits/delivery"
        f" {(commits_after - commits_before) / max(acked, 1):.2f}; by process: "
        + ", ".join(f"{n} {s / max(acked, 1) * 1000:.3f}" for n, s in sorted(per_role.items()))
    )
    console.print(line)
    if errors:
        console.print(f"[red]{len(errors)} errors[/], first: {errors[0]}")
    if not args.no_append:
        command = (
            f"python bench/hooks_cpu.py --db {args.db} --deliveries {args.deliveries}"
            f" --clients {args.clients}" + (f" --rate-limit {args.rate_limit}" if args.rate_limit else "")
        )
        append_results("Webhooks: web CPU per acknowledged delivery", command, args.db, line)


if __name__ == "__main__":
    main()
