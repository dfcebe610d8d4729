"""Fault test: `kill -9` the ingest process mid-batch; after a restart every acknowledged delivery is
reflected exactly once (tickets, repeat counts, audit events) within 10 s, and the audit chain verifies.

Real processes: `socdesk serve --no-worker` acknowledges webhooks over HTTP, `socdesk ingest` turns them
into tickets. Run on SQLite (a data dir of its own) and, when the suite runs on PostgreSQL
(DATABASE_URL set), on a throwaway database on that server.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from tests.core.processes import Background, free_port, run_socdesk, socdesk_env

SAMPLE = Path(__file__).resolve().parents[1] / "alerts/fixtures/alertmanager_v4.json"
DELIVERIES = 240
FINGERPRINTS = 30  # each sent DELIVERIES / FINGERPRINTS times: repeats must count exactly
RECOVERY_SECONDS = 10

_SETUP = (
    "from socdesk.accounts.services import department_create; from socdesk.core.actor import Actor; "
    "from socdesk.alerts.integrations import integration_create; "
    "actor = Actor.system('crash-test'); department = department_create(actor=actor, name='SOC'); "
    "print(integration_create(actor=actor, adapter='alertmanager', name='prometheus', "
    "department=department).token)"
)


class Database:
    """The children's database, read directly by the test (no Django in this process for it)."""

    def __init__(self, tmp_path: Path):
        self.suite_url = os.environ.get("DATABASE_URL", "")
        self.data = tmp_path / "data"
        self.url = ""
        self.name = ""
        if self.suite_url:
            self.name = f"socdesk_crash_{secrets.token_hex(4)}"
            parts = urlsplit(self.suite_url)
            self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
            self._admin(f'CREATE DATABASE "{self.name}"')

    def _admin(self, statement: str) -> None:
        import psycopg

        # The suite's own database may not exist (pytest-django makes test_<name>): use the server's.
        server = urlunsplit(urlsplit(self.suite_url)._replace(path="/postgres"))
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(statement)

    def env(self, **extra: str) -> dict[str, str]:
        if self.url:
            extra["DATABASE_URL"] = self.url
        return socdesk_env(self.data, **extra)

    def rows(self, query: str) -> list[tuple]:
        if self.url:
            import psycopg

            with psycopg.connect(self.url) as conn:
                return list(conn.execute(query).fetchall())
        with contextlib.closing(sqlite3.connect(self.data / "socdesk.sqlite3", timeout=30)) as conn:
            return conn.execute(query).fetchall()

    def one(self, query: str):
        return self.rows(query)[0][0]

    def drop(self) -> None:
        if self.name:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _body(number: int) -> bytes:
    payload = json.loads(SAMPLE.read_bytes())
    alert = payload["alerts"][0]
    alert["fingerprint"] = f"crash-{number % FINGERPRINTS}"
    payload["groupKey"] = alert["fingerprint"]  # each its own notification group: own ticket
    alert["labels"]["instance"] = f"host-{number % FINGERPRINTS}"
    payload["alerts"] = [alert]
    return json.dumps(payload).encode()


def _ingest_loop(db: Database, tmp_path: Path, name: str, **settings: str) -> Background:
    loop = Background("ingest", env=db.env(**settings), log=tmp_path / f"{name}.log")
    loop.wait_for(
        lambda: "SOCdesk ingest loop: processing webhook deliveries" in loop.output, f"{name} ready"
    )
    return loop


def test_kill_9_of_the_ingest_process_mid_batch_loses_and_duplicates_nothing(tmp_path):
    db = Database(tmp_path)
    processes: list[Background] = []
    try:
        env = db.env()
        upgraded = run_socdesk("upgrade", env=env, timeout=300)
        assert upgraded.returncode == 0, upgraded.stderr
        setup = run_socdesk("shell", "-c", _SETUP, env=env)
        assert setup.returncode == 0, setup.stderr
        token = setup.stdout.split()[-1]
        port = free_port()
        web = Background(
            "serve",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            "--no-worker",
            env=env,
            log=tmp_path / "web.log",
        )
        processes.append(web)
        web.wait_healthy(port)
        # Small batches, so that the loop is almost always holding a claim when it is killed.
        first = _ingest_loop(db, tmp_path, "ingest-1", SOCDESK_DELIVERY_BATCH="5")
        processes.append(first)

        acknowledged: list[int] = []
        refused: list[str] = []

        def send_all() -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                for number in range(DELIVERIES):
                    reply = client.post(
                        f"/api/v1/hooks/alertmanager/{token}",
                        content=_body(number),
                        headers={"Content-Type": "application/json"},
                    )
                    if reply.status_code == 202:
                        acknowledged.append(reply.json()["delivery"])
                    else:
                        refused.append(f"{reply.status_code} {reply.text}")

        sender = threading.Thread(target=send_all)
        sender.start()

        # Kill it while it holds claims: some deliveries written, some claimed and not yet written.
        def mid_batch() -> bool:
            done = db.one("SELECT COUNT(*) FROM alerts_webhookdelivery WHERE status = 'processed'")
            held = db.one(
                "SELECT COUNT(*) FROM alerts_webhookdelivery WHERE status = 'pending' AND claim_token <> ''"
            )
            return done >= 20 and held > 0

        # Freeze the loop (SIGSTOP) where it holds claims, so that the kill lands mid-batch however fast
        # or slow this machine is; a freeze that fell between batches is thawed and tried again.
        stranded = 0
        for _attempt in range(50):
            first.wait_for(mid_batch, "the loop was mid-batch", timeout=120)
            first.signal_leader(signal.SIGSTOP)
            claimant = db.one("SELECT prefix FROM alerts_ingestclaimant")
            stranded = db.one(
                "SELECT COUNT(*) FROM alerts_webhookdelivery "
                f"WHERE status = 'pending' AND claim_token LIKE '{claimant}%'"
            )
            if stranded:
                break
            first.signal_leader(signal.SIGCONT)
        first.signal_leader(signal.SIGKILL)
        first.process.wait(30)
        assert stranded > 0, "the kill came between batches: nothing was held, nothing tested"

        sender.join(timeout=300)
        assert not refused, refused[:3]
        assert len(acknowledged) == DELIVERIES

        second = _ingest_loop(db, tmp_path, "ingest-2")  # default batch size
        processes.append(second)
        restarted = time.monotonic()
        deadline = restarted + RECOVERY_SECONDS
        while time.monotonic() < deadline:
            if db.one("SELECT COUNT(*) FROM alerts_webhookdelivery WHERE status = 'processed'") == DELIVERIES:
                break
            time.sleep(0.2)
        waited = time.monotonic() - restarted
        statuses = Counter(
            dict(db.rows("SELECT status, COUNT(*) FROM alerts_webhookdelivery GROUP BY status"))
        )
        assert statuses == {"processed": DELIVERIES}, (
            f"after {waited:.1f} s: {statuses}\n{second.output[:3000]}"
        )

        # Exactly once: one ticket per fingerprint, each repeat counted once, one audit event each.
        counts = dict(db.rows("SELECT fingerprint, occurrence_count FROM alerts_alert"))
        assert counts == {f"crash-{n}": DELIVERIES // FINGERPRINTS for n in range(FINGERPRINTS)}
        assert db.one("SELECT COUNT(*) FROM tickets_ticket") == FINGERPRINTS
        events = dict(db.rows("SELECT action, COUNT(*) FROM audit_auditevent GROUP BY action"))
        assert events["alert.ingested"] == FINGERPRINTS
        assert events["alert.deduplicated"] == DELIVERIES - FINGERPRINTS
        assert events["ingest.claimant_died"] == 1
        assert db.one("SELECT SUM(alert_count) FROM alerts_webhookdelivery") == DELIVERIES
        assert "taken for dead" in second.output

        second.signal_leader(signal.SIGTERM)
        assert second.wait_exit() == 0, second.output
        verified = run_socdesk("audit", "verify", env=env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        for process in processes:
            process.kill()
        db.drop()
