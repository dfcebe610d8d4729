"""/metrics adds up the counters of every process: separate processes writing to one directory, and the
real `socdesk serve` (two web workers, the worker process) answering one scrape."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
from prometheus_client.parser import text_string_to_metric_families

from socdesk.core.metrics_dir import MULTIPROC_ENV, metrics_dir_prepare
from tests.core.processes import REPO, Background, free_port, run_socdesk, socdesk_env

WRITE = """
from socdesk.core.metrics import ALERTS_PROCESSED, HTTP_REQUESTS
HTTP_REQUESTS.labels(group="webhooks", method="POST", status="2xx").inc({n})
ALERTS_PROCESSED.inc({n} * 10)
"""
READ = """
import django
django.setup()
from socdesk.core.metrics import exposition
print(exposition()[0].decode())
"""
RECEIVE = (
    "from socdesk.alerts.ingest import delivery_receive; "
    "print(delivery_receive(adapter='alertmanager', body=open({path!r}, 'rb').read()).pk)"
)


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_counters_written_by_two_processes_add_up_in_a_third_ones_exposition(tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = socdesk_env(tmp_path / "data", **{MULTIPROC_ENV: str(directory)})
    python(WRITE.format(n=3), env)
    python(WRITE.format(n=4), env)
    assert len(list(directory.glob("counter_*.db"))) == 2  # one file per process
    seen = samples(python(READ, env))
    labels = frozenset({"group": "webhooks", "method": "POST", "status": "2xx"}.items())
    assert seen[("socdesk_http_requests_total", labels)] == 7
    assert seen[("socdesk_alerts_processed_total", frozenset())] == 70
    # The readings still show (here the data dir is not migrated: they say they failed).
    assert seen[("socdesk_metrics_reading_up", frozenset({"reading": "tickets"}.items()))] == 0


def test_the_supervisor_starts_from_an_empty_directory_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(MULTIPROC_ENV, "")  # so that the value metrics_dir_prepare sets is undone too
    monkeypatch.delenv(MULTIPROC_ENV)
    stale = tmp_path / "metrics" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_bytes(b"from a previous run")
    keep = tmp_path / "metrics" / "README"
    keep.write_text("not ours")
    assert metrics_dir_prepare(tmp_path) == tmp_path / "metrics"
    assert not stale.exists() and keep.exists()
    assert os.environ[MULTIPROC_ENV] == str(tmp_path / "metrics")
    # An operator's own directory is kept.
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path / "own"))
    assert metrics_dir_prepare(tmp_path) == tmp_path / "own" and (tmp_path / "own").is_dir()


def test_serve_adds_up_its_web_workers_requests_and_the_worker_process_deliveries(tmp_path):
    data = tmp_path / "data"
    env = socdesk_env(data)
    assert run_socdesk("upgrade", env=env).returncode == 0
    sample = REPO / "tests/alerts/fixtures/alertmanager_v4.json"
    stored = run_socdesk("shell", "-c", RECEIVE.format(path=str(sample)), env=env)
    assert stored.returncode == 0, stored.stderr
    (data / "metrics").mkdir()
    (data / "metrics" / "counter_1.db").write_bytes(b"a previous run's file")

    port = free_port()
    server = Background("serve", f"--bind=127.0.0.1:{port}", "--workers=2", env=env, log=tmp_path / "s.log")
    base = f"http://127.0.0.1:{port}"
    try:
        server.wait_healthy(port)
        assert not (data / "metrics" / "counter_1.db").exists()

        def scrape() -> dict[tuple[str, frozenset], float]:
            return samples(httpx.get(f"{base}/metrics", timeout=10).text)

        # The worker process takes the stored delivery and gives up on it (no department exists yet to
        # put a ticket in): a web worker's scrape shows it, once (the batch was rolled back and re-run).
        failed = ("socdesk_deliveries_failed_total", frozenset({"adapter": "alertmanager"}.items()))
        server.wait_for(lambda: scrape().get(failed, 0) >= 1, "the worker's failed delivery in /metrics")
        assert scrape()[failed] == 1
        healthz = ("socdesk_http_requests_total", frozenset(
            {"group": "healthz", "method": "GET", "status": "2xx"}.items()
        ))  # fmt: skip
        before = scrape().get(healthz, 0)
        with httpx.Client(base_url=base, timeout=10) as http:
            for _ in range(40):
                assert http.get("/healthz", headers={"Connection": "close"}).status_code == 200
        assert scrape()[healthz] == before + 40
        # A webhook POST takes granian's short way around Django's middleware: counted all the same.
        refused = httpx.post(f"{base}/api/v1/hooks/alertmanager", content=b"{}", timeout=10)
        assert refused.status_code == 401
        webhooks = ("socdesk_http_requests_total", frozenset(
            {"group": "webhooks", "method": "POST", "status": "4xx"}.items()
        ))  # fmt: skip
        assert scrape()[webhooks] == 1
        writers = {path.stem.rsplit("_", 1)[1] for path in (data / "metrics").glob("counter_*.db")}
        assert len(writers) >= 2, writers  # the worker and at least one web worker
        server.signal_leader(signal.SIGTERM)
        assert server.wait_exit() == 0, server.output
    finally:
        server.kill()
