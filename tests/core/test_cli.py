"""The operator commands as real processes: serve, worker, run, check --deploy.

These start `socdesk` in child processes on embedded SQLite in a temp dir (never the suite's own
database), on free loopback ports, and stop them by signal, as an operator or a terminal would.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
import redis

from tests.core.processes import Background, free_port, run_socdesk, socdesk_env

REPO = Path(__file__).resolve().parents[2]


def _wait_group_gone(proc: Background, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.group_alive():
            return True
        time.sleep(0.1)
    return False


def _wait_session_gone(proc: Background, timeout: float = 15) -> list[int]:
    """Wait until no process of the run's session is left (granian's workers too); returns those left."""
    deadline = time.monotonic() + timeout
    while proc.session_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    return proc.session_pids()


def _pids(output: str) -> dict[str, int]:
    pattern = r"started (web server|worker|ingest loop \d+) \(pid (\d+)\)"
    return {name: int(pid) for name, pid in re.findall(pattern, output)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_answers_healthz_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = socdesk_env(tmp_path / "data")
    server = Background(
        "serve", f"--bind=127.0.0.1:{port}", "--workers=1", "--threads=2", env=env, log=tmp_path / "serve.log"
    )
    try:
        response = server.wait_healthy(port)
        assert response.json()["status"] == "ok"
        server.wait_for(lambda: len(_pids(server.output)) == 2, "both processes started")
        pids = _pids(server.output)
        server.signal_leader(signal.SIGTERM)  # what systemd / docker stop send
        assert server.wait_exit() == 0, server.output
        assert _wait_group_gone(server), "a child of socdesk serve outlived it"
        assert not any(_alive(pid) for pid in pids.values())
        assert _wait_session_gone(server) == [], "a process started by socdesk serve outlived it"
        assert "received SIGTERM; stopping." in server.output
        # The access log (on by default) has the health check's line, written by the time serve exits.
        assert re.search(r'\] 127\.0\.0\.1 - "GET /healthz HTTP/1\.1" 200 [0-9.]+\n', server.output)
        # This data dir was never migrated: serve still starts, but says so.
        assert "database migration(s) are not applied; run `socdesk upgrade`" in server.output
    finally:
        server.kill()


def test_serve_stops_the_web_server_when_the_worker_dies(tmp_path):
    """Half a SOCdesk (web without worker) must not keep running unnoticed: the pair exits non-zero."""
    port = free_port()
    server = Background(
        "serve",
        f"--bind=127.0.0.1:{port}",
        "--workers=1",
        env=socdesk_env(tmp_path / "d"),
        log=tmp_path / "l",
    )
    try:
        server.wait_healthy(port)
        server.wait_for(lambda: "worker" in _pids(server.output), "the worker started")
        os.kill(_pids(server.output)["worker"], signal.SIGKILL)
        assert server.wait_exit() != 0
        assert "worker exited with code" in server.output
        assert _wait_group_gone(server)
    finally:
        server.kill()


def _worker_answers_ping(tmp_path, env) -> None:
    worker = Background("worker", env=env, log=tmp_path / "worker.log")
    try:
        worker.wait_for(
            lambda: "Consumer" in worker.output or "consumer" in worker.output, "the consumer ran"
        )
        result = run_socdesk("ping_worker", "--timeout=30", env=env)
        assert result.returncode == 0, result.stderr + worker.output
        assert f"pid {worker.process.pid}" in result.stdout
        assert "socdesk.core.tasks.ping" in worker.output  # the consumer's own log of running it
        worker.signal_leader(signal.SIGINT)
        assert worker.wait_exit() == 0, worker.output
    finally:
        worker.kill()


def test_worker_runs_a_task_on_sqlite(tmp_path):
    _worker_answers_ping(tmp_path, socdesk_env(tmp_path / "data"))


def test_worker_runs_a_task_on_redis(tmp_path):
    url = "redis://127.0.0.1:6379/15"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.flushdb()  # database 15 is reserved for tests
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not answering on 127.0.0.1:6379 ({exc}); .ci/run starts it.")
    try:
        _worker_answers_ping(tmp_path, socdesk_env(tmp_path / "data", REDIS_URL=url))
    finally:
        client.flushdb()


def test_ping_worker_without_a_worker_says_what_to_do(tmp_path):
    result = run_socdesk("ping_worker", "--timeout=1", env=socdesk_env(tmp_path / "data"))
    assert result.returncode == 1
    assert "No worker answered within 1s. Start one with `socdesk worker`" in result.stderr


PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "socdesk.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://socdesk.example.org",
    "SOCDESK_SSL_REDIRECT": "true",
    "SOCDESK_HSTS_SECONDS": "31536000",
    "SOCDESK_HSTS_PRELOAD": "true",
    "SOCDESK_BEHIND_TLS_PROXY": "true",
    # docs/install.md's environment; tests/security/test_https_and_deploy.py reads that file itself.
    "SOCDESK_HTTPS": "true",
    "SOCDESK_REQUIRE_2FA_FOR_ADMINS": "true",
}


def test_check_deploy_passes_with_the_documented_production_env(tmp_path):
    env = socdesk_env(tmp_path / "data", **PRODUCTION_ENV)
    result = run_socdesk("check", "--deploy", "--fail-level=WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_development_configuration(tmp_path):
    env = socdesk_env(tmp_path / "data", DEBUG="true")
    result = run_socdesk("check", "--deploy", "--fail-level=WARNING", env=env)
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


def _count(db, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchone()[0]


def _delivery_status(data, delivery_id: int) -> str:
    with sqlite3.connect(data / "socdesk.sqlite3") as conn:
        return conn.execute(
            "SELECT status FROM alerts_webhookdelivery WHERE id = ?", [delivery_id]
        ).fetchone()[0]


_RECEIVE = (
    "from socdesk.accounts.services import department_create; from socdesk.core.actor import Actor; "
    "from socdesk.alerts.ingest import delivery_receive; "
    "department_create(actor=Actor.system('test'), name='SOC'); "
    "print(delivery_receive(adapter='alertmanager', body=open({path!r}, 'rb').read()).pk)"
)


def test_ingest_alone_turns_waiting_deliveries_into_tickets_and_stops_on_sigterm(tmp_path):
    """`socdesk ingest` is the worker's loop without the queue: what operators add to use more cores."""
    data = tmp_path / "data"
    env = socdesk_env(data)
    assert run_socdesk("upgrade", env=env).returncode == 0
    sample = REPO / "tests/alerts/fixtures/alertmanager_v4.json"
    stored = run_socdesk("shell", "-c", _RECEIVE.format(path=str(sample)), env=env)
    assert stored.returncode == 0, stored.stderr
    delivery = int(stored.stdout.split()[-1])
    assert _delivery_status(data, delivery) == "pending"  # stored before any loop ran
    loop = Background("ingest", env=env, log=tmp_path / "ingest.log")
    try:
        loop.wait_for(
            lambda: "SOCdesk ingest loop: processing webhook deliveries (SQLite)" in loop.output, "start"
        )
        # Below the web server's CPU priority by SOCDESK_INGEST_NICE (10).
        assert os.getpriority(os.PRIO_PROCESS, loop.process.pid) == min(
            19, os.getpriority(os.PRIO_PROCESS, 0) + 10
        )
        loop.wait_for(lambda: _delivery_status(data, delivery) == "processed", "the delivery was processed")
        # The batch's line is written once its commit has returned: a moment after the status shows.
        loop.wait_for(lambda: "ingested 1 webhook deliveries" in loop.output, "the batch was logged")
        tickets = sqlite3.connect(data / "socdesk.sqlite3").execute("SELECT COUNT(*) FROM tickets_ticket")
        assert tickets.fetchone()[0] == 1
        loop.signal_leader(signal.SIGTERM)
        assert loop.wait_exit() == 0, loop.output
        assert "SOCdesk ingest loop stopped." in loop.output
    finally:
        loop.kill()


def test_serve_runs_the_configured_ingest_loops_and_stops_them_with_the_rest(tmp_path):
    port = free_port()
    env = socdesk_env(tmp_path / "data", SOCDESK_INGEST_PROCESSES="2")
    assert run_socdesk("upgrade", env=env).returncode == 0
    server = Background("serve", f"--bind=127.0.0.1:{port}", "--workers=1", env=env, log=tmp_path / "s.log")
    try:
        server.wait_healthy(port)
        server.wait_for(lambda: len(_pids(server.output)) == 4, "web server, worker and two ingest loops")
        pids = _pids(server.output)
        assert {"ingest loop 1", "ingest loop 2"} <= set(pids)
        # One loop dying takes the set down, as the worker does: the process manager restarts it whole.
        os.kill(pids["ingest loop 2"], signal.SIGKILL)
        assert server.wait_exit() != 0
        assert "ingest loop 2 exited with code" in server.output
        assert _wait_group_gone(server)
    finally:
        server.kill()


def test_run_sets_up_once_serves_and_stops_both_processes_on_ctrl_c(tmp_path):
    data = tmp_path / "data"
    env = socdesk_env(data)
    port = free_port()
    first = Background(
        "run", f"--bind=127.0.0.1:{port}", "--workers=1", "--demo-tickets=6", env=env, log=tmp_path / "1.log"
    )
    try:
        first.wait_healthy(port)
        first.wait_for(lambda: len(_pids(first.output)) == 2, "web server and worker started")
        pids = _pids(first.output)
        password = re.search(r"Password:\s+(\S+)", first.output).group(1)
        assert f"http://127.0.0.1:{port}/" in first.output
        assert "Demo data added: 6 tickets" in first.output
        # The static files are collected and served by the production server itself.
        assert httpx.get(f"http://127.0.0.1:{port}/static/admin/css/base.css", timeout=5).status_code == 200
        # A tool's alert over HTTP: acknowledged by the web server, made a ticket by the worker's loop.
        token = (
            sqlite3.connect(data / "socdesk.sqlite3")
            .execute("SELECT token FROM alerts_integration WHERE adapter = 'alertmanager'")
            .fetchone()[0]
        )
        sample = (
            (REPO / "tests/alerts/fixtures/alertmanager_v4.json")
            .read_bytes()
            .replace(b"1a30ba71cca2921f", b"run-test-fingerprint")
        )
        reply = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/hooks/alertmanager/{token}", content=sample, timeout=10
        )
        assert reply.status_code == 202, reply.text
        delivery = reply.json()["delivery"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _delivery_status(data, delivery) == "pending":
            time.sleep(0.1)
        assert _delivery_status(data, delivery) == "processed", first.output
        first.signal_group(signal.SIGINT)  # Ctrl-C in the terminal
        assert first.wait_exit() == 0, first.output
        assert _wait_group_gone(first)
        assert not any(_alive(pid) for pid in pids.values())
    finally:
        first.kill()

    db = data / "socdesk.sqlite3"
    stored = (
        sqlite3.connect(db).execute("SELECT password FROM auth_user WHERE username='admin'").fetchone()[0]
    )
    assert stored.startswith("argon2") and password not in stored
    assert password not in "".join(p.read_text(errors="ignore") for p in data.rglob("*") if p.is_file())

    second = Background("run", f"--bind=127.0.0.1:{port}", "--workers=1", env=env, log=tmp_path / "2.log")
    try:
        second.wait_healthy(port)
        second.signal_group(signal.SIGINT)
        assert second.wait_exit() == 0, second.output
    finally:
        second.kill()
    assert "Password:" not in second.output and "Demo data added" not in second.output
    assert "not applied" not in second.output
    assert _count(db, "SELECT COUNT(*) FROM auth_user WHERE is_superuser") == 1
    # the 6 demo tickets, plus one ticket per sample alert the demo sent through the pipeline (once)
    alert_tickets = _count(db, "SELECT COUNT(DISTINCT ticket_id) FROM alerts_alert")
    assert alert_tickets > 0
    assert _count(db, "SELECT COUNT(*) FROM tickets_ticket") == 6 + alert_tickets
    assert _count(db, "SELECT COUNT(*) FROM alerts_integration") == 7


@pytest.mark.parametrize(
    ("how", "sig"), [("group", signal.SIGINT), ("leader", signal.SIGTERM)], ids=["ctrl-c", "systemd"]
)
def test_a_stop_signal_stops_run_with_several_web_processes_cleanly(tmp_path, how, sig):
    """Ctrl-C signals the terminal's whole foreground group at once, systemd the main process: either
    way every process must go, with no web process left to be killed ("refused to gracefully stop")
    and no traceback."""
    port = free_port()
    run = Background(
        "run",
        f"--bind=127.0.0.1:{port}",
        "--workers=2",
        "--demo-tickets=3",
        env=socdesk_env(tmp_path / "data"),
        log=tmp_path / "run.log",
    )
    try:
        run.wait_healthy(port)
        run.wait_for(lambda: "Huey consumer started" in run.output, "the worker's consumer started")
        run.wait_for(lambda: run.output.count("Started worker-") == 2, "both web processes started")
        assert len(run.session_pids()) == 5  # supervisor, granian and its 2 workers, the worker
        run.signal_group(sig) if how == "group" else run.signal_leader(sig)
        assert run.wait_exit() == 0, run.output
        # A generous bound: granian kills a web process that has not stopped after 10 s.
        assert _wait_session_gone(run, timeout=15) == [], run.output
    finally:
        run.kill()
    assert "refused" not in run.output
    assert "Traceback" not in run.output
    assert f"received {sig.name}; stopping." in run.output
