"""Benchmark: how much of the ingest loop's time is spent holding the ingest lock, and what that bounds.

    python bench/ingest_lock.py                      # BENCH_DATABASE_URL, default socdesk_bench_ingest_lock
    python bench/ingest_lock.py --alerts 3000 --loops 2 --no-append

PostgreSQL only. Batches are written one at a time, in claim order, under one lock
(`_one_batch_at_a_time` in socdesk.alerts.ingest.deliveries): the plan reads the de-duplication state the
previous batch committed. So however many loops run, processing capacity is at most one alert per
locked-write wall time. Two measurements on one fresh database:

1. In this process, one loop drains N stored deliveries (`deliveries_drain`, as the ingest loop does),
   with the time spent preparing deliveries (outside the lock) and writing batches (under it) taken
   apart: wall and thread CPU per alert. The wall of the locked write includes waiting on PostgreSQL.
2. `--loops` `socdesk ingest` processes drain N more deliveries (the capacity phase of bench/ingest.py),
   with the share of the machine's CPU that was busy meanwhile (from /proc/stat): a share well under
   100% with several loops means they are waiting for the lock.

The table is appended to docs/benchmarks.md unless --no-append.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import ROOT, append_results, configure
from ingest import am_alert, am_group, fingerprints, fresh_database, last_delivery_id, make_key


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=3000, help="deliveries per phase (default 3,000)")
    parser.add_argument("--loops", type=int, default=2, help="ingest processes in phase 2 (default 2)")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args()


def store(count: int, rng: random.Random, prefix: str) -> int:
    """Commit `count` single-alert Alertmanager deliveries (30% repeats); returns the id before them."""
    from django.db import transaction

    from socdesk.alerts.ingest import delivery_receive

    since = last_delivery_id()
    with transaction.atomic():
        for fingerprint in fingerprints(count, 0.3, rng, prefix):
            delivery_receive(adapter="alertmanager", body=am_group([am_alert(fingerprint, rng)]))
    return since


def split_in_process(count: int, rng: random.Random) -> dict[str, float]:
    """µs per alert: the whole drain, its preparing and its locked writing (wall and CPU)."""
    from socdesk.alerts import observables
    from socdesk.alerts.ingest import deliveries

    observables.warm_up()
    store(count, rng, "s")
    spent = {"prepare wall": 0.0, "prepare CPU": 0.0, "locked wall": 0.0, "locked CPU": 0.0}
    prepare, write = deliveries.prepare_delivery, deliveries._process_batch

    def timed(function, name):
        def run(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[f"{name} wall"] += time.perf_counter() - wall
                spent[f"{name} CPU"] += time.thread_time() - cpu

        return run

    deliveries.prepare_delivery = timed(prepare, "prepare")
    deliveries._process_batch = timed(write, "locked")
    try:
        wall, cpu, done = time.perf_counter(), time.process_time(), 0
        while batch := deliveries.deliveries_drain():
            done += len(batch)
        spent["drain wall"], spent["drain CPU"] = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        deliveries.prepare_delivery, deliveries._process_batch = prepare, write
    return {name: seconds / done * 1e6 for name, seconds in spent.items()}


def cpu_ticks() -> tuple[int, int]:
    """(all, idle + iowait) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return sum(values), values[3] + values[4]


def drain_with_loops(count: int, loops: int, rng: random.Random) -> tuple[float, float]:
    """(alerts a second, busy share of the machine's CPU) for `loops` ingest processes on a backlog."""
    from socdesk.alerts.models import WebhookDelivery

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "socdesk.cli", "ingest"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(loops)
    ]
    try:
        for proc in procs:  # each says so once it has started
            proc.stdout.readline()
        since = store(count, rng, "c")
        ticks, idle = cpu_ticks()
        started = time.perf_counter()
        waiting = WebhookDelivery.objects.filter(pk__gt=since, processed_at__isnull=True)
        while waiting.exists():
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        ticks2, idle2 = cpu_ticks()
        return count / elapsed, 1 - (idle2 - idle) / max(1, ticks2 - ticks)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


def main() -> None:
    args = parse_args()
    os.environ.setdefault(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/socdesk_bench_ingest_lock"
    )
    fresh_database("postgres")
    described = configure("postgres")
    make_key()
    rng = random.Random(7)
    load = os.getloadavg()[0]
    split = split_in_process(args.alerts, rng)
    rate, busy = drain_with_loops(args.alerts, args.loops, rng)
    bound = 1e6 / split["locked wall"]
    lines = [
        "| one loop in process, µs per alert: drain wall / CPU | prepare (no lock) wall / CPU "
        "| locked write wall / CPU | bound: 1 / locked wall | "
        f"{args.loops} loops drain a backlog: alerts/s | CPU busy meanwhile | load before |",
        "|---|---|---|---:|---:|---:|---:|",
        f"| {split['drain wall']:,.0f} / {split['drain CPU']:,.0f} "
        f"| {split['prepare wall']:,.0f} / {split['prepare CPU']:,.0f} "
        f"| {split['locked wall']:,.0f} / {split['locked CPU']:,.0f} | {bound:,.0f}/s "
        f"| {rate:,.0f} | {busy:.0%} | {load:.1f} |",
    ]
    print("\n".join(lines))
    if not args.no_append:
        command = "python bench/ingest_lock.py " + " ".join(sys.argv[1:])
        path = append_results(
            "Ingest lock: locked write per alert and capacity", command, described, "\n".join(lines)
        )
        print(f"appended to {path}")


if __name__ == "__main__":
    main()
