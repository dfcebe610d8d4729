"""Benchmark: server CPU per ticket created through the osTicket-compatible API.

    python bench/osticket_cpu.py                     # PostgreSQL (socdesk_bench_ingest, created fresh)
    python bench/osticket_cpu.py --db sqlite

Starts `socdesk serve` (web server, worker and ingest loops, as in production) against a fresh
benchmark database (rate limit off), lets it settle, then creates N tickets (default 2,000) through
POST /api/tickets.json from C concurrent connections (default 16) on loopback. It reads the CPU
time (user + system, from /proc) of every process of the server and, on PostgreSQL, of every
backend connected to the benchmark's database (not the server's shared background processes, nor
other work's backends on a shared machine), before and after, and reports server CPU per created
ticket: the cost of a ticket that does not depend on how fast the client can send. Throughput and latency are
printed too. Figures are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import ROOT, append_results, percentile
from ingest import send_all, serve_fresh, stop_server

TICKS = os.sysconf("SC_CLK_TCK")


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--tickets", type=int, default=2000, help="tickets to create (default 2,000)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients (default 16)")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds at most")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    # Accepted so that start_server (shared with bench/ingest.py) finds them.
    parser.add_argument("--web-workers", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--web-threads", type=int, default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


def descendants(pid: int) -> set[int]:
    """The process and all its children, grandchildren..., from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo += children.get(current, [])
    return found


def postgres_pids() -> set[int]:
    """The PostgreSQL backends connected to the benchmark's database.

    Only those: the PostgreSQL server is shared with other work on this machine, whose backends
    (and the server's background processes, which serve everyone) would otherwise be counted.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


class CpuWatch(threading.Thread):
    """Polls the server's and its database backends' CPU times until stopped, keeping each process's
    last reading: a backend that exits during the run (a connection past its maximum age) keeps what
    it used. Its own database connection is the only one of this script, and is left out."""

    def __init__(self, server_pid: int, db: str) -> None:
        super().__init__(daemon=True)
        self.server_pid, self.db = server_pid, db
        self.seen: dict[int, float] = {}
        self.database: set[int] = set()
        self.commits = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def poll(self) -> None:
        backends = postgres_pids() if self.db == "postgres" else set()
        commits = database_commits() if self.db == "postgres" else 0
        times = cpu_seconds(descendants(self.server_pid) | backends)
        with self._lock:
            self.seen.update(times)
            self.database |= backends
            self.commits = commits

    def reading(self) -> tuple[dict[int, float], set[int], int]:
        with self._lock:
            return dict(self.seen), set(self.database), self.commits

    def run(self) -> None:
        from django.db import connection

        try:
            while not self._halt.wait(0.25):
                self.poll()
            self.poll()
        finally:
            connection.close()

    def stop(self) -> None:
        self._halt.set()
        self.join()


def database_commits() -> int:
    """Transactions committed in the benchmark's database so far (PostgreSQL's statistics)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def server_processes(pid: int, db: str) -> set[int]:
    """The server's process tree and, on PostgreSQL, the database's processes."""
    return descendants(pid) | (postgres_pids() if db == "postgres" else set())


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User + system CPU seconds of each process (exited ones are simply absent)."""
    times = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return times


def used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def role(pid: int) -> str:
    """What a server process is, for the per-process breakdown."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "exited"
    text = b" ".join(args).decode(errors="replace")
    for needle, name in (
        ("granian", "web"),
        ("socdesk.cli worker", "worker"),
        ("socdesk.cli ingest", "ingest"),
        ("socdesk.cli serve", "supervisor"),
    ):
        if needle in text:
            return name
    return "postgres" if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres" else "other"


def breakdown(before: dict[int, float], after: dict[int, float], roles: dict[int, str]) -> dict[str, float]:
    """CPU seconds used per kind of process."""
    per: dict[str, float] = {}
    for pid, seconds in after.items():
        name = roles.get(pid, "exited")
        per[name] = per.get(name, 0.0) + seconds - before.get(pid, 0.0)
    return per


def bodies(count: int) -> list[bytes]:
    return [
        json.dumps(
            {
                "name": "Bench User",
                "email": f"user{i % 500}@corp.example",
                "subject": f"Phishing report {i}",
                "message": f"User reports a suspicious mail from evil{i}.example (203.0.113.{i % 250})",
                "priority": 2,
            }
        ).encode()
        for i in range(count)
    ]


def main() -> None:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    args = parse_args()
    console = Console()
    where, raw_key, port, server = serve_fresh(args)
    try:
        time.sleep(5)  # start-up and the first warm-up requests are not the ticket's cost
        warm = bodies(50)
        headers = {"X-API-Key": raw_key, "Content-Type": "application/json"}
        url = f"http://127.0.0.1:{port}/api/tickets.json"
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("warm-up", total=len(warm))
            asyncio.run(send_all(url, warm, headers, args.clients, 60, progress, task))
            time.sleep(2)
            watch = CpuWatch(server.pid, args.db)
            watch.poll()
            before, _, commits_before = watch.reading()
            watch.start()
            task = progress.add_task("osTicket API", total=args.tickets)
            latencies, errors, elapsed = asyncio.run(
                send_all(url, bodies(args.tickets), headers, args.clients, args.time_limit, progress, task)
            )
            time.sleep(1)  # the worker's follow-up (audit sealing) belongs to these tickets too
            watch.stop()
            # Connections opened during the run are new database processes: counted from zero.
            after, database, commits_after = watch.reading()
            roles = {pid: role(pid) for pid in after}
            roles.update(dict.fromkeys(database, "postgres"))
    finally:
        stop_server(server)
    created = len(latencies) - len(errors)
    server_cpu = used(before, {pid: t for pid, t in after.items() if pid not in database})
    db_cpu = used(before, {pid: t for pid, t in after.items() if pid in database})
    per_ticket = (server_cpu + db_cpu) / max(created, 1) * 1000
    table = Table(title=f"osTicket API, {args.clients} clients ({where})")
    for column in (
        "tickets",
        "errors",
        "tickets/s",
        "p50 ms",
        "p95 ms",
        "web+worker CPU s",
        "db CPU s",
        "CPU ms/ticket",
    ):
        table.add_column(column, justify="right")
    row = (
        f"{created:,}",
        f"{len(errors):,}",
        f"{created / elapsed:,.0f}",
        f"{percentile(latencies, 50) * 1000:.1f}",
        f"{percentile(latencies, 95) * 1000:.1f}",
        f"{server_cpu:.2f}",
        f"{db_cpu:.2f}",
        f"{per_ticket:.2f}",
    )
    table.add_row(*row)
    console.print(table)
    per_role = breakdown(before, after, roles)
    console.print(
        "CPU ms per ticket by process: "
        + ", ".join(
            f"{name} {seconds / max(created, 1) * 1000:.2f}" for name, seconds in sorted(per_role.items())
        )
    )
    if args.db == "postgres":
        commits = commits_after - commits_before
        console.print(
            f"Transactions committed: {commits:,}, {commits / max(created, 1):.2f} per ticket"
            " (a group of requests shares one; the statistics lag by up to a second)"
        )
    if errors:
        console.print(f"[red]{len(errors)} errors[/], first: {errors[0]}")
    if not args.no_append:
        header = "| " + " | ".join(c.header for c in table.columns) + " |"
        body = "\n".join([header, "|" + "---:|" * len(table.columns), "| " + " | ".join(row) + " |"])
        command = (
            f"python bench/osticket_cpu.py --db {args.db} --tickets {args.tickets} --clients {args.clients}"
        )
        path = append_results("osTicket API: server CPU per ticket", command, args.db, body)
        console.print(f"Appended to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
