"""Benchmark: how long a running `socdesk serve` keeps accepting a key revoked by another process.

    python bench/revocation.py                     # SOCDESK_LOOKUP_CACHE_SECONDS as configured (default 1)
    python bench/revocation.py --period 5 --keys 5

Starts `socdesk serve` (two web processes) on embedded SQLite in a temp dir, and for each of K keys:
posts webhooks with it continuously from one client (so both web processes remember it), revokes it
with `socdesk apikey revoke` (a separate process), and reports how long after the revocation's
timestamp the server last answered 202. Figures are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import append_results  # noqa: E402

from tests.core.processes import Background, free_port, run_socdesk, socdesk_env  # noqa: E402

ALERT = (ROOT / "tests" / "alerts" / "fixtures" / "alertmanager_v4.json").read_bytes()


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--period", default=os.environ.get("SOCDESK_LOOKUP_CACHE_SECONDS", "1"))
    parser.add_argument("--keys", type=int, default=5, help="keys revoked, one after the other")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    data = Path(tempfile.mkdtemp(prefix="socdesk-bench-revocation-")) / "data"
    env = socdesk_env(data, SOCDESK_LOOKUP_CACHE_SECONDS=args.period, SOCDESK_API_RATE_LIMIT="0")
    if run_socdesk("upgrade", env=env).returncode != 0:
        sys.exit("socdesk upgrade failed")
    port = free_port()
    server = Background(
        "serve",
        f"--bind=127.0.0.1:{port}",
        "--workers=2",
        "--threads=4",
        env=env,
        log=data.parent / "serve.log",
    )
    lags = []
    try:
        server.wait_healthy(port)
        client = httpx.Client(timeout=10)
        for n in range(args.keys):
            created = run_socdesk("apikey", "create", f"--name=bench-{n}", "--scope=alerts:ingest", env=env)
            raw = created.stdout.strip().splitlines()[-1]
            prefix = raw.split("_")[1]
            last_accepted = [0.0]
            stop = threading.Event()

            def post(raw=raw, last_accepted=last_accepted, stop=stop):
                headers = {"X-API-Key": raw, "Content-Type": "application/json"}
                while not stop.is_set():
                    url = f"http://127.0.0.1:{port}/api/v1/hooks/alertmanager"
                    if client.post(url, content=ALERT, headers=headers).status_code == 202:
                        last_accepted[0] = time.time()
                    time.sleep(0.005)

            sender = threading.Thread(target=post)
            sender.start()
            time.sleep(0.5)
            run_socdesk("apikey", "revoke", prefix, env=env)
            time.sleep(float(args.period) + 2)
            stop.set()
            sender.join()
            with sqlite3.connect(data / "socdesk.sqlite3") as db:
                (revoked,) = db.execute(
                    "SELECT revoked_at FROM accounts_apikey WHERE prefix = ?", [prefix]
                ).fetchone()
            revoked_at = datetime.fromisoformat(revoked if "+" in revoked else revoked + "+00:00").timestamp()
            lags.append(max(0.0, last_accepted[0] - revoked_at))
    finally:
        server.kill()
    body = (
        "| SOCDESK_LOOKUP_CACHE_SECONDS | keys revoked | last 202 after the revocation, each key (s) "
        "| worst (s) |\n"
        "|---|---|---|---|\n"
        f"| {args.period} | {len(lags)} | {', '.join(f'{lag:.2f}' for lag in lags)} | {max(lags):.2f} |\n"
    )
    print(body)
    if not args.no_append:
        command = ("python bench/revocation.py " + " ".join(sys.argv[1:])).strip()
        path = append_results("Revocation seen by a running server", command, "sqlite (temp data dir)", body)
        print(f"Appended to {path}")


if __name__ == "__main__":
    main()
