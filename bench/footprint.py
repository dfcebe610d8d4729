"""Benchmark: memory and stop time of `socdesk run` (what `make run` starts), idle after the demo.

    python bench/footprint.py                  # 3 runs, appends to docs/benchmarks.md
    python bench/footprint.py --runs 1 --label "before" --no-append
    python bench/footprint.py --stop sigterm    # SIGTERM to `socdesk run` alone instead of Ctrl-C

Each run starts `socdesk run` in a fresh temp data dir (embedded SQLite, never your own) on a free
loopback port, in a session of its own as a terminal's foreground job is; waits for /healthz; signs in
as the generated admin and views the queue and a ticket; posts one Alertmanager webhook and waits until
the worker's ingest loop has made it a ticket; lets the processes settle; then sums the proportional
set size (PSS, from /proc/<pid>/smaps_rollup: shared pages divided among the processes sharing them)
over every process of the session. Finally it sends SIGINT to the process group (Ctrl-C; or, with
`--stop sigterm`, SIGTERM to `socdesk run` alone) and times how long until no process of the session
is left, and reports the exit code and whether the output
holds a traceback or a "refused to gracefully stop" warning.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import ROOT, append_results

sys.path.insert(0, str(ROOT))
# The helpers the process tests use: a free loopback port, and every process of a session.
from tests.core.processes import free_port, session_pids

SAMPLE = ROOT / "tests/alerts/fixtures/alertmanager_v4.json"
START_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="fresh starts to measure (default 3)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds idle before measuring")
    parser.add_argument(
        "--stop",
        choices=["ctrl-c", "sigterm"],
        default="ctrl-c",
        help="SIGINT to the process group (a terminal's Ctrl-C, default) or SIGTERM to `socdesk run` "
        "alone (systemd, docker stop)",
    )
    parser.add_argument("--label", default="", help="words added to the heading (e.g. 'before')")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args()


def pss_kib(pid: int) -> int:
    try:
        text = (Path("/proc") / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def describe(pid: int) -> str:
    try:
        argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [w.decode(errors="replace") for w in argv if w]
    # "python -m socdesk.cli run" -> "socdesk run"; granian's own workers name themselves.
    if "socdesk.cli" in words:
        return "socdesk " + " ".join(words[words.index("socdesk.cli") + 1 :][:1])
    if "granian" in words:
        return "granian"
    return " ".join(Path(w).name for w in words[:3])


def wait(predicate, what: str, proc: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            raise SystemExit(f"socdesk run exited before {what}:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}:\n{log.read_text(errors='replace')}")


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def browse(base: str, password: str) -> None:
    """What a first visit does: the sign-in page, signing in, the queue, one ticket."""
    with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as client:
        page = client.get("/login")
        page.raise_for_status()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        home = client.post(
            "/login",
            data={"csrfmiddlewaretoken": token, "username": "admin", "password": password},
            headers={"Referer": f"{base}/login"},
        )
        home.raise_for_status()
        queue = client.get("/tickets/")
        queue.raise_for_status()
        number = re.search(r'href="/tickets/([A-Z]+-?\d+)/"', queue.text)
        if number:
            client.get(f"/tickets/{number.group(1)}/").raise_for_status()


def post_alert(base: str, data: Path) -> int:
    with sqlite3.connect(data / "socdesk.sqlite3") as conn:
        token = conn.execute(
            "SELECT token FROM alerts_integration WHERE adapter = 'alertmanager'"
        ).fetchone()[0]
    body = SAMPLE.read_bytes().replace(b"1a30ba71cca2921f", b"footprint-bench")
    reply = httpx.post(f"{base}/api/v1/hooks/alertmanager/{token}", content=body, timeout=30)
    reply.raise_for_status()
    return reply.json()["delivery"]


def delivery_processed(data: Path, delivery: int) -> bool:
    with sqlite3.connect(data / "socdesk.sqlite3") as conn:
        row = conn.execute("SELECT status FROM alerts_webhookdelivery WHERE id = ?", [delivery]).fetchone()
    return bool(row) and row[0] == "processed"


def one_run(settle: float, stop: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="socdesk-bench-footprint-"))
    data, log_path, port = tmp / "data", tmp / "run.log", free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(SOCDESK_DATA_DIR=str(data), PORT=str(port), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "socdesk.cli", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        wait(lambda: healthy(base), "/healthz answered", proc, log_path)
        ready_s = time.monotonic() - started
        password = wait(
            lambda: re.search(r"Password:\s+(\S+)", log_path.read_text(errors="replace")),
            "the admin password",
            proc,
            log_path,
        ).group(1)
        browse(base, password)
        delivery = post_alert(base, data)
        wait(lambda: delivery_processed(data, delivery), "the alert became a ticket", proc, log_path)
        browse(base, password)
        time.sleep(settle)
        pids = session_pids(proc.pid)
        per_process = [(pid, describe(pid), pss_kib(pid)) for pid in pids]
        total = sum(kib for _, _, kib in per_process)

        stop_started = time.monotonic()
        if stop == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal does
        else:
            proc.send_signal(signal.SIGTERM)  # what a process manager does
        while session_pids(proc.pid) and time.monotonic() - stop_started < STOP_TIMEOUT:
            time.sleep(0.02)
        stop_s = time.monotonic() - stop_started
        left = session_pids(proc.pid)
        code = proc.wait(STOP_TIMEOUT)
    finally:
        if proc.poll() is None or session_pids(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    output = log_path.read_text(errors="replace")
    complaints = [line for line in output.splitlines() if "refused" in line or "Traceback" in line]
    if complaints:
        print(f"  kept the output of this run: {log_path}", flush=True)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "processes": per_process,
        "total_kib": total,
        "ready_s": ready_s,
        "stop_s": stop_s,
        "left": left,
        "code": code,
        "refused": "refused" in output,
        "traceback": "Traceback" in output,
        "complaints": complaints,
    }


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


def main() -> None:
    args = parse_args()
    runs = []
    for number in range(1, args.runs + 1):
        result = one_run(args.settle, args.stop)
        runs.append(result)
        print(
            f"run {number}: {mib(result['total_kib'])} MiB PSS in {len(result['processes'])} processes, "
            f"stopped in {result['stop_s']:.1f} s (exit {result['code']})",
            flush=True,
        )
        for line in result["complaints"]:
            print(f"  output: {line}", flush=True)

    stop_name = "Ctrl-C" if args.stop == "ctrl-c" else "SIGTERM"
    lines = [
        "| run | processes | PSS total MiB | per process (MiB) | ready s | "
        f'{stop_name} → all gone s | exit | "refused" / Traceback in output | left running |',
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for number, r in enumerate(runs, 1):
        parts = ", ".join(f"{name} {mib(kib)}" for _, name, kib in r["processes"])
        lines.append(
            f"| {number} | {len(r['processes'])} | {mib(r['total_kib'])} | {parts} | {r['ready_s']:.1f} | "
            f"{r['stop_s']:.2f} | {r['code']} | {'yes' if r['refused'] else 'no'} / "
            f"{'yes' if r['traceback'] else 'no'} | {len(r['left'])} |"
        )
    totals = [r["total_kib"] for r in runs]
    stops = [r["stop_s"] for r in runs]
    summary = (
        f"\nPSS of all processes: {mib(min(totals))}-{mib(max(totals))} MiB; "
        f"{stop_name} to all gone: {min(stops):.2f}-{max(stops):.2f} s ({len(runs)} runs)."
    )
    table = "\n".join(lines) + "\n" + summary
    print(table)
    if not args.no_append:
        command = shlex.join(["python", "bench/footprint.py", *sys.argv[1:]])
        title = "`socdesk run` footprint, idle after the demo" + (f" ({args.label})" if args.label else "")
        path = append_results(title, command, "embedded SQLite (temp dir)", table)
        print(f"appended to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
