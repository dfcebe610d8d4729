"""Benchmark: the web process's own CPU per acknowledged webhook, in process (no server, no client).

    python bench/hooks_wsgi.py                          # PostgreSQL (socdesk_bench_ingest, created fresh)
    python bench/hooks_wsgi.py --db sqlite --threads 16
    python bench/hooks_wsgi.py --pause 5                # time to attach `py-spy record --gil --pid ...`

Calls the WSGI application `socdesk serve` runs (`socdesk.wsgi:application`, the access log aside)
with the environ granian builds for a single-alert Alertmanager webhook sent with an API key, from
T threads at once (default 16), N requests in all (default 8,000, after 400 of warm-up). Reports the
process CPU (`time.process_time`) per acknowledged (202) delivery: the Python of our request path,
without the HTTP server's or the benchmark client's CPU that bench/hooks_cpu.py's figure on a shared
machine also moves with. Figures are appended to docs/benchmarks.md unless --no-append.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results, configure
from hooks_cpu import bodies
from ingest import fresh_database, make_key


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--deliveries", type=int, default=8000, help="requests in all (default 8,000)")
    parser.add_argument("--threads", type=int, default=16, help="threads calling the application (16)")
    parser.add_argument("--pause", type=float, default=0, help="seconds to wait before the measured run")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args()


def environ_for(body: bytes, raw_key: str) -> dict:
    """What granian hands the application for one webhook POST on a keep-alive connection."""
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/api/v1/hooks/alertmanager",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_X_API_KEY": raw_key,
        "HTTP_USER_AGENT": "Alertmanager/0.27.0",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def run(application, payloads: list[bytes], raw_key: str, threads: int) -> tuple[int, float, float]:
    """Call the application for every payload from `threads` threads; (acknowledged, CPU s, wall s)."""
    statuses: list[str] = []
    lock = threading.Lock()
    chunks = [payloads[i::threads] for i in range(threads)]

    def start_response(status, headers, exc_info=None):
        with lock:
            statuses.append(status)

    def worker(chunk: list[bytes]) -> None:
        from django.db import connections

        for body in chunk:
            result = application(environ_for(body, raw_key), start_response)
            b"".join(result)
            if hasattr(result, "close"):
                result.close()
        connections.close_all()

    workers = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    cpu, wall = time.process_time(), time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return sum(status.startswith("202") for status in statuses), cpu, wall


def main() -> None:
    args = parse_args()
    os.environ.update({"SOCDESK_API_RATE_LIMIT": "0", "DEBUG": "0"})
    fresh_database(args.db)
    where = configure(args.db)
    raw_key = make_key()
    from django.db import connections

    connections.close_all()
    from socdesk.wsgi import application

    acked, _, _ = run(application, bodies(400, 1), raw_key, args.threads)
    if args.pause:
        print(f"pid {os.getpid()}: measuring in {args.pause:g} s", flush=True)
        time.sleep(args.pause)
    acked, cpu, wall = run(application, bodies(args.deliveries, 2), raw_key, args.threads)
    load = os.getloadavg()[0]
    line = (
        f"{where}, {args.threads} threads: {acked:,} of {args.deliveries:,} acknowledged in {wall:.2f} s;"
        f" process CPU {cpu / max(acked, 1) * 1e3:.3f} ms/delivery; load average {load:.1f}"
    )
    print(line)
    if not args.no_append:
        command = (
            f"python bench/hooks_wsgi.py --db {args.db} --deliveries {args.deliveries}"
            f" --threads {args.threads}"
        )
        title = "Webhooks: web process CPU per acknowledged delivery, in process"
        append_results(title, command, args.db, line)


if __name__ == "__main__":
    main()
