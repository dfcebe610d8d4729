"""Benchmark: alert ingest over HTTP against a real `socdesk serve`, and the database's own ceiling.

    python bench/ingest.py                         # PostgreSQL (socdesk_bench_ingest, created fresh)
    python bench/ingest.py --db sqlite --alerts 5000
    python bench/ingest.py --filters 50            # with 50 enabled ticket filters (a few match)
    python bench/ingest.py --filters 50 --sla      # ... and a default SLA plan (every ticket gets a clock)

Starts `socdesk serve` (web server + worker) on a free loopback port against a dedicated benchmark
database (never your own; rate limit off), then from C concurrent connections (a bare HTTP/1.1 client on
asyncio, loopback only, bounded in count and time) sends:

1. N Alertmanager alerts, one alert per request, as fast as they are acknowledged (30% repeats of
   earlier fingerprints);
2. N more alerts in Alertmanager groups of B alerts per request (same repeat share);
3. N/2 single alerts paced at R a second (default 1,000, the processing target): receipt-to-ticket
   latency when alerts arrive no faster than they are processed;
4. M tickets through the osTicket API (POST /api/tickets.json);

and measures deliveries acknowledged per second and request latency (p50/p95/p99) from the client,
alerts turned into tickets/updates per second and receipt-to-ticket latency from the database
(delivery received_at -> processed_at). In phases 1 and 2 the worker shares the two cores with the
web server under full load, and a backlog builds whenever deliveries are acknowledged faster than
they are processed, so their receipt-to-ticket latency grows with N. Then, with the server stopped,
the processing capacity: the ingest loops `socdesk serve` runs (the worker's and
SOCDESK_INGEST_PROCESSES more), as `socdesk ingest` processes, drain N deliveries stored in one
transaction. Finally the database's own
ceiling: the same delivery rows inserted directly with SQL, one transaction per alert, from C
threads. Figures are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import ROOT, append_results, configure, percentile

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/socdesk_bench_ingest"


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--alerts", type=int, default=20_000, help="alerts per phase (default 20,000)")
    parser.add_argument("--batch", type=int, default=20, help="alerts per request in the batch phase")
    parser.add_argument(
        "--rate",
        type=float,
        default=1000,
        help="alerts a second in the paced phase (receipt-to-ticket latency; default 1,000)",
    )
    parser.add_argument("--repeats", type=float, default=0.3, help="share of repeated fingerprints")
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument("--osticket", type=int, default=3000, help="osTicket-API tickets (0 to skip)")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds per phase, at most")
    parser.add_argument(
        "--web-workers", type=int, default=None, help="web server processes (serve's default)"
    )
    parser.add_argument("--web-threads", type=int, default=None, help="threads per worker (serve's default)")
    parser.add_argument(
        "--sla",
        action="store_true",
        help="create a default SLA plan on business hours with two escalation levels first",
    )
    parser.add_argument(
        "--filters",
        type=int,
        default=0,
        help="enabled ticket filters to create first: realistic, most never match, a few do (default 0)",
    )
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args()


# --- set-up ------------------------------------------------------------------------------------------


def fresh_database(db: str) -> str | None:
    """A new empty benchmark database: PostgreSQL dropped and created, or a temp SQLite data dir."""
    if db == "postgres":
        import psycopg

        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        os.environ["BENCH_DATABASE_URL"] = url
        name = url.rsplit("/", 1)[1]
        # BENCH_DROP_DATABASE names one other database the caller owns and lets the benchmark recreate.
        if not name.startswith("socdesk_bench") and os.environ.get("BENCH_DROP_DATABASE") != name:
            sys.exit(
                f"Refusing to drop {name!r}: the benchmark only recreates socdesk_bench* databases"
                " (or the one named by BENCH_DROP_DATABASE)."
            )
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        os.environ["SOCDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="socdesk-bench-ingest-")
        return None
    data_dir = tempfile.mkdtemp(prefix="socdesk-bench-ingest-")
    os.environ["SOCDESK_DATA_DIR"] = data_dir
    return data_dir


def make_key(filters: int = 0, sla: bool = False) -> str:
    from socdesk.accounts.services import apikey_create, department_create
    from socdesk.core.actor import Actor

    actor = Actor.system("bench")
    department = department_create(actor=actor, name="SOC")
    _key, raw = apikey_create(
        actor=actor, name="bench", scopes=["alerts:ingest", "tickets:create"], department=department
    )
    if filters:
        make_filters(filters, department)
    if sla:
        make_sla_plan()
    return raw


def make_sla_plan() -> None:
    """A default SLA plan on weekday business hours in Paris (so the clock arithmetic has work to do),
    with an at-risk and a breached escalation level: every ticket the benchmark opens gets a clock."""
    from socdesk.core.actor import Actor
    from socdesk.routing.services.sla import (
        EscalationDefinition,
        PlanDefinition,
        ScheduleDefinition,
        schedule_create,
        sla_plan_create,
    )

    actor = Actor.system("bench")
    day = ["08:00-12:00", "13:00-18:00"]
    schedule = schedule_create(
        actor=actor,
        definition=ScheduleDefinition(
            name="Business hours",
            time_zone="Europe/Paris",
            hours={weekday: day for weekday in ("mon", "tue", "wed", "thu", "fri")},
        ),
    )
    targets = {"critical": (15, 240), "high": (60, 480), "medium": (240, 1440), "low": (480, 2880)}
    sla_plan_create(
        actor=actor,
        definition=PlanDefinition(
            name="Default",
            schedule=schedule,
            targets=targets,
            is_default=True,
            escalations=[
                EscalationDefinition(trigger="at_risk", target="response"),
                EscalationDefinition(trigger="breached", target="resolution", notify="team_lead"),
            ],
        ),
    )


# What a SOC's filters look like: most test for things these alerts never carry; a few match some.
NON_MATCHING = [
    lambda i: [{"field": "alert.labels.alertname", "operator": "equals", "value": f"Vendor{i}Outage"}],
    lambda i: [
        {"field": "requester_domain", "operator": "in_list", "value": [f"partner{i}.example", "hr.example"]}
    ],
    lambda i: [{"field": "subject", "operator": "matches", "value": rf"^\[(ticket|case)-{i}\]\s+\w+"}],
    lambda i: [{"field": "observable.ip", "operator": "in_cidr", "value": [f"10.{i % 250}.0.0/16"]}],
    lambda i: [
        {"field": "alert.source", "operator": "equals", "value": "wazuh"},
        {"field": "alert.raw.rule.level", "operator": "greater_than", "value": 11},
    ],
    lambda i: [{"field": "tags", "operator": "equals", "value": f"customer-{i}"}],
    lambda i: [{"field": "body", "operator": "contains", "value": f"ransom note {i}"}],
    lambda i: [{"field": "alert.labels.instance", "operator": "starts_with", "value": f"db{i:02d}-"}],
]
MATCHING = [
    (
        [{"field": "alert.labels.alertname", "operator": "equals", "value": "Rule7"}],
        [{"type": "add_tags", "value": "rule-7"}],
    ),
    (
        [{"field": "observable.ip", "operator": "in_cidr", "value": "203.0.113.0/28"}],
        [{"type": "set_severity", "value": "high"}],
    ),
    (
        [{"field": "subject", "operator": "contains", "value": "phishing report 1"}],
        [{"type": "add_tags", "value": "phish"}],
    ),
]


def make_filters(count: int, department) -> None:
    """`count` enabled filters: the few MATCHING ones last (so every non-matching one is evaluated)."""
    from socdesk.accounts.services import team_create
    from socdesk.core.actor import Actor
    from socdesk.routing.services.filters import FilterDefinition, filter_create

    actor = Actor.system("bench")
    team = team_create(actor=actor, name="Incident Response", department=department)
    matching = MATCHING[: min(len(MATCHING), count)]
    for index in range(count - len(matching)):
        conditions = NON_MATCHING[index % len(NON_MATCHING)](index)
        actions = [{"type": "set_team", "value": team.pk}, {"type": "add_tags", "value": f"f{index}"}]
        definition = FilterDefinition(
            name=f"Filter {index}", conditions=conditions, actions=actions, order=index
        )
        filter_create(actor=actor, definition=definition)
    for index, (conditions, actions) in enumerate(matching):
        definition = FilterDefinition(
            name=f"Matching {index}", conditions=conditions, actions=actions, order=count + index
        )
        filter_create(actor=actor, definition=definition)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_fresh(args, *flags: str) -> tuple[str, str, int, subprocess.Popen]:
    """A fresh benchmark database (`args.db`) with an ingest key, and `socdesk serve` on it with `flags`.

    Returns the database's description, the raw key, the port and the server process.
    """
    fresh_database(args.db)
    where = configure(args.db)
    raw_key = make_key()
    from django.db import connections

    connections.close_all()  # the server, not this process, uses the database from here on
    port = free_port()
    server = start_server(args, port, Path(os.environ["SOCDESK_DATA_DIR"]) / "serve.log", *flags)
    return where, raw_key, port, server


def start_server(args, port: int, log_path: Path, *flags: str) -> subprocess.Popen:
    """`socdesk serve` on the benchmark database with `flags`; returns once it listens.

    The API rate limit is off unless `args.rate_limit` (requests per minute per key) is set.
    """
    limit = str(getattr(args, "rate_limit", 0) or 0)
    env = {**os.environ, "SOCDESK_API_RATE_LIMIT": limit, "DEBUG": "0", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "socdesk.cli", "serve", f"--bind=127.0.0.1:{port}", *flags]
    if getattr(args, "web_workers", None):
        cmd.append(f"--workers={args.web_workers}")
    if getattr(args, "web_threads", None):
        cmd.append(f"--threads={args.web_threads}")
    log = log_path.open("w")
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"socdesk serve exited with {process.returncode}; see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.terminate()
        sys.exit(f"socdesk serve did not listen within 60 s; see {log_path}")
    return process


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- payloads ----------------------------------------------------------------------------------------


def fingerprints(count: int, repeats: float, rng: random.Random, prefix: str) -> list[str]:
    """`count` fingerprints where about `repeats` of them repeat an earlier one."""
    result: list[str] = []
    for index in range(count):
        if result and rng.random() < repeats:
            result.append(rng.choice(result))
        else:
            result.append(f"{prefix}{index:08x}")
    return result


def am_alert(fingerprint: str, rng: random.Random) -> dict:
    host = f"web{int(fingerprint[-3:], 16) % 200:03d}"
    ip = f"203.0.113.{int(fingerprint[-2:], 16) % 250 + 1}"
    return {
        "status": "firing",
        "labels": {
            "alertname": f"Rule{int(fingerprint[-4:], 16) % 50}",
            "severity": "warning",
            "instance": host,
        },
        "annotations": {
            "summary": f"Suspicious activity on {host}",
            "description": f"Failed logins from {ip}",
        },
        "startsAt": "2026-01-01T00:00:00Z",
        "fingerprint": fingerprint,
    }


def am_group(alerts: list[dict]) -> bytes:
    return json.dumps(
        {"version": "4", "status": "firing", "receiver": "socdesk", "groupLabels": {}, "alerts": alerts}
    ).encode()


# --- load --------------------------------------------------------------------------------------------


class HttpClient:
    """One keep-alive HTTP/1.1 connection that POSTs bodies: the bare protocol on asyncio streams.

    A general-purpose client (httpx) spends about as much CPU per request as the server's hot path,
    and on one machine that CPU is taken from the server being measured.
    """

    def __init__(self, host: str, port: int, headers: dict):
        self.host, self.port = host, port
        self.head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.head}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(request + body)
        status_line = await self.reader.readline()
        if not status_line:
            self.writer = None
            raise ConnectionError("the server closed the connection")
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        payload = await self.reader.readexactly(length) if length else b""
        if close:
            self.writer.close()
            self.writer = None
        return int(status_line.split()[1]), payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def send_all(
    url: str,
    bodies: list[bytes],
    headers: dict,
    clients: int,
    time_limit: float,
    progress,
    task,
    rate: float | None = None,
):
    """POST every body from `clients` concurrent connections, at most `rate` a second when given;
    returns (latencies, errors, seconds)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    queue: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + time_limit

    sent = 0
    first = time.perf_counter()

    async def worker():
        nonlocal sent
        client = HttpClient(parts.hostname, parts.port, headers)
        try:
            while time.monotonic() < deadline:
                try:
                    body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if rate:  # request number n leaves at first + n / rate, whichever connection sends it
                    sent += 1
                    delay = first + sent / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                started = time.perf_counter()
                try:
                    status, payload = await client.post(parts.path, body)
                    if status >= 300:
                        errors.append(f"{status} {payload[:200]!r}")
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    client.close()
                    client = HttpClient(parts.hostname, parts.port, headers)
                    errors.append(repr(exc))
                latencies.append(time.perf_counter() - started)
                progress.advance(task)
        finally:
            client.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - started


def wait_processed(since_id: int, time_limit: float, progress, task) -> bool:
    """Wait until every delivery after `since_id` is processed (or failed); False on timeout."""
    from socdesk.alerts.choices import DeliveryStatus
    from socdesk.alerts.models import WebhookDelivery

    deadline = time.monotonic() + time_limit
    total = WebhookDelivery.objects.filter(pk__gt=since_id).count()
    progress.update(task, total=total)
    while time.monotonic() < deadline:
        pending = WebhookDelivery.objects.filter(pk__gt=since_id, status=DeliveryStatus.PENDING).count()
        progress.update(task, completed=total - pending)
        if not pending:
            return True
        time.sleep(0.5)
    return False


def processing_figures(since_id: int) -> dict:
    """From the database: alerts turned into tickets/updates per second, receipt-to-ticket latency."""
    from django.db.models import Max, Min, Sum

    from socdesk.alerts.models import WebhookDelivery

    rows = WebhookDelivery.objects.filter(pk__gt=since_id, processed_at__isnull=False)
    agg = rows.aggregate(first=Min("received_at"), last=Max("processed_at"), alerts=Sum("alert_count"))
    lags = [(p - r).total_seconds() for r, p in rows.values_list("received_at", "processed_at")]
    failed = WebhookDelivery.objects.filter(pk__gt=since_id, status="failed").count()
    span = (agg["last"] - agg["first"]).total_seconds() if agg["first"] else float("nan")
    alerts = agg["alerts"] or 0
    return {
        "alerts": alerts,
        "alerts_per_s": alerts / span if span else float("nan"),
        "lag_p50": percentile(lags, 50),
        "lag_p95": percentile(lags, 95),
        "failed": failed,
    }


def last_delivery_id() -> int:
    from socdesk.alerts.models import WebhookDelivery

    return WebhookDelivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def drain_capacity(count: int, repeats: float, rng: random.Random, loops: int) -> float:
    """Alerts a second that `loops` ingest loops (`socdesk ingest` processes, as `socdesk serve` runs
    them) turn into tickets/updates with nothing else running: started first and idle, then `count`
    deliveries committed at once, timed from that commit until the last one is processed."""
    from django.db import transaction

    from socdesk.alerts.ingest import delivery_receive
    from socdesk.alerts.models import WebhookDelivery

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "socdesk.cli", "ingest"]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for _ in range(loops)
    ]
    try:
        for proc in procs:  # each says so once it has started (and built its IOC grammars)
            proc.stdout.readline()
        since = last_delivery_id()
        with transaction.atomic():
            for fingerprint in fingerprints(count, repeats, rng, "d"):
                delivery_receive(adapter="alertmanager", body=am_group([am_alert(fingerprint, rng)]))
        started = time.perf_counter()
        waiting = WebhookDelivery.objects.filter(pk__gt=since, processed_at__isnull=True)
        while waiting.exists():
            time.sleep(0.05)
        return count / (time.perf_counter() - started)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


def db_ceiling(count: int, clients: int, body: bytes) -> float:
    """The same delivery rows inserted directly with SQL, one transaction per alert, from C threads."""
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from socdesk.alerts.models import WebhookDelivery

    table = WebhookDelivery._meta.db_table
    placeholder = "%s"
    sql = (
        f"INSERT INTO {table} (adapter, body, content_type, headers, received_at, status, attempts,"
        f" claim_token, error, alert_count) VALUES ({', '.join([placeholder] * 10)})"
    )
    threads = min(clients, 8)
    per_thread = count // threads

    def run():
        try:
            for _ in range(per_thread):
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        sql,
                        [
                            "bench-ceiling",
                            body,
                            "application/json",
                            "{}",
                            timezone.now(),
                            "processed",
                            0,
                            "",
                            "",
                            0,
                        ],
                    )
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    WebhookDelivery.objects.filter(adapter="bench-ceiling").delete()
    return per_thread * threads / elapsed


# --- main --------------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    data_dir = fresh_database(args.db)
    described = configure(args.db)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    console = Console(width=220)
    raw_key = make_key(args.filters, args.sla)
    if args.filters:
        described += f", {args.filters} ticket filters"
    if args.sla:
        described += ", a default SLA plan"
    port = free_port()
    log_path = Path(os.environ["SOCDESK_DATA_DIR"]) / "serve.log"
    console.print(f"[bold]Ingest benchmark[/] on {described}; server log {log_path}")
    server = start_server(args, port, log_path)
    rng = random.Random(7)
    base = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": raw_key, "Content-Type": "application/json"}
    rows: list[tuple] = []
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            # Warm-up: the first requests pay imports (ioc-finder builds its grammars) in each process.
            warm = [am_group([am_alert(f"warm{i:04x}", rng)]) for i in range(50)]
            task = progress.add_task("warm-up", total=len(warm))
            asyncio.run(send_all(f"{base}/api/v1/hooks/alertmanager", warm, headers, 4, 60, progress, task))
            task = progress.add_task("warm-up processing", total=None)
            wait_processed(0, 120, progress, task)

            phases = [
                (
                    "single",
                    [am_group([am_alert(f, rng)]) for f in fingerprints(args.alerts, args.repeats, rng, "s")],
                ),
            ]
            batch_fps = fingerprints(args.alerts, args.repeats, rng, "b")
            batched = [
                am_group([am_alert(f, rng) for f in batch_fps[i : i + args.batch]])
                for i in range(0, len(batch_fps), args.batch)
            ]
            phases.append((f"batch of {args.batch}", batched))
            paced = [
                am_group([am_alert(f, rng)]) for f in fingerprints(args.alerts // 2, args.repeats, rng, "p")
            ]
            phases.append((f"single, paced at {args.rate:,.0f}/s", paced))
            for name, bodies in phases:
                since = last_delivery_id()
                task = progress.add_task(f"{name}: sending", total=len(bodies))
                latencies, errors, elapsed = asyncio.run(
                    send_all(
                        f"{base}/api/v1/hooks/alertmanager",
                        bodies,
                        headers,
                        args.clients,
                        args.time_limit,
                        progress,
                        task,
                        rate=args.rate if name.startswith("single, paced") else None,
                    )
                )
                task = progress.add_task(f"{name}: processing", total=None)
                done = wait_processed(since, args.time_limit, progress, task)
                figures = processing_figures(since)
                alerts_sent = len(latencies) * (args.batch if name.startswith("batch") else 1)
                rows.append(
                    (
                        f"hooks, {name}",
                        len(latencies),
                        len(errors),
                        len(latencies) / elapsed,
                        alerts_sent / elapsed,
                        latencies,
                        figures | {"complete": done},
                    )
                )
                if errors:
                    console.print(f"[red]{len(errors)} errors[/], first: {errors[0]}")

            if args.osticket:
                bodies = [
                    json.dumps(
                        {
                            "name": "Bench User",
                            "email": f"user{i % 500}@corp.example",
                            "subject": f"Phishing report {i}",
                            "message": f"User reports a suspicious mail from evil{i}.example",
                            "priority": 2,
                        }
                    ).encode()
                    for i in range(args.osticket)
                ]
                task = progress.add_task("osTicket API", total=len(bodies))
                latencies, errors, elapsed = asyncio.run(
                    send_all(
                        f"{base}/api/tickets.json",
                        bodies,
                        headers,
                        args.clients,
                        args.time_limit,
                        progress,
                        task,
                    )
                )
                rows.append(
                    (
                        "osTicket API tickets",
                        len(latencies),
                        len(errors),
                        len(latencies) / elapsed,
                        len(latencies) / elapsed,
                        latencies,
                        None,
                    )
                )
                if errors:
                    console.print(f"[red]{len(errors)} errors[/], first: {errors[0]}")
    finally:
        stop_server(server)

    from django.conf import settings

    loops = 1 + settings.SOCDESK_INGEST_PROCESSES
    with console.status(f"processing capacity: a backlog drained by {loops} ingest loop(s)"):
        drained, drain_rate = args.alerts, drain_capacity(args.alerts, args.repeats, rng, loops)

    ceiling_n = min(args.alerts, 10_000)
    with console.status("database ceiling: direct SQL inserts, one transaction per alert"):
        ceiling = db_ceiling(ceiling_n, args.clients, am_group([am_alert("ceiling0000", rng)]))

    table = Table(title=f"Alert ingest over HTTP ({described}, {args.clients} clients)")
    for column in (
        "phase",
        "requests",
        "errors",
        "deliveries/s acked",
        "alerts/s sent",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "alerts/s to tickets",
        "receipt→ticket p50 s",
        "p95 s",
    ):
        table.add_column(column, justify="right" if column != "phase" else "left")
    lines = [
        "| phase | requests | errors | deliveries/s acked | alerts/s sent | p50 ms | p95 ms | p99 ms |"
        " alerts/s to tickets/updates | receipt→ticket p50 s | p95 s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, count, errors, per_s, alerts_per_s, latencies, figures in rows:
        cells = [
            name,
            f"{count:,}",
            str(errors),
            f"{per_s:,.0f}",
            f"{alerts_per_s:,.0f}",
            f"{percentile(latencies, 50) * 1000:.1f}",
            f"{percentile(latencies, 95) * 1000:.1f}",
            f"{percentile(latencies, 99) * 1000:.1f}",
        ]
        if figures:
            note = "" if figures["complete"] else " (incomplete)"
            cells += [
                f"{figures['alerts_per_s']:,.0f}{note}",
                f"{figures['lag_p50']:.2f}",
                f"{figures['lag_p95']:.2f}",
            ]
        else:
            cells += ["(synchronous)", "-", "-"]
        table.add_row(*cells)
        lines.append("| " + " | ".join(cells) + " |")
    table.add_row(
        f"processing capacity: backlog drained by {loops} ingest loop(s)",
        f"{drained:,}",
        "0",
        "",
        "",
        "",
        "",
        "",
        f"{drain_rate:,.0f}",
        "",
        "",
    )
    lines.append(
        f"| processing capacity: a backlog drained by {loops} ingest loop(s) | {drained:,} | 0 |"
        f" | | | | | {drain_rate:,.0f} | | |"
    )
    table.add_row(
        "DB ceiling: direct INSERT, 1 txn/alert",
        f"{ceiling_n:,}",
        "0",
        f"{ceiling:,.0f}",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    )
    lines.append(
        f"| DB ceiling: direct SQL INSERT, one transaction per alert | {ceiling_n:,} | 0 | {ceiling:,.0f} |"
        " | | | | | | |"
    )
    console.print(table)
    if not args.no_append:
        command = "python bench/ingest.py " + " ".join(sys.argv[1:])
        path = append_results("Alert ingest over HTTP", command, described, "\n".join(lines) + "\n")
        console.print(f"Appended to {path}")
    if data_dir:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
