"""A real Prometheus (Debian's `prometheus`) scrapes /metrics with the bearer token, then answers queries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import httpx
import pytest

from tests.core.processes import REPO, free_port
from tests.routing.sla_fixtures import open_ticket

PROMETHEUS = "/usr/bin/prometheus"
TOKEN = "scrape-token-for-the-test"
TIMEOUT = 60.0

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not shutil.which(PROMETHEUS) and not os.environ.get("CI"),  # on CI a missing binary fails the run
        reason=f"{PROMETHEUS} is not installed (apt-get install -y prometheus)",
    ),
]

CONFIG = """
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: socdesk
    metrics_path: /metrics
    authorization:
      credentials: {token}
    static_configs:
      - targets: ["{target}"]
"""


def wait_until(what: str, check, process: subprocess.Popen, log) -> object:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"prometheus exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            found = check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")


@pytest.fixture
def prometheus(tmp_path, live_server, settings):
    """Prometheus scraping the live server every second, let in by the token alone."""
    settings.SOCDESK_METRICS_TOKEN = TOKEN
    settings.SOCDESK_METRICS_ALLOW = []  # loopback too needs the token: proves Prometheus sends it
    settings.SOCDESK_METRICS_CACHE_SECONDS = 0
    target = live_server.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(CONFIG.format(token=TOKEN, target=target))
    port = free_port()
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
    try:
        wait_until("Prometheus ready", lambda: api.get("/-/ready").status_code == 200, process, log)
        yield api, process, log
    finally:
        api.close()
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def query(api: httpx.Client, promql: str) -> list[dict]:
    answer = api.get("/api/v1/query", params={"query": promql}).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def test_prometheus_scrapes_with_the_token_and_queries_socdesk_metrics(prometheus, live_server, people):
    api, process, log = prometheus
    open_ticket(people, severity="critical")

    def target_up():
        targets = api.get("/api/v1/targets").json()["data"]["activeTargets"]
        return targets and targets[0]["health"] == "up"

    wait_until("the target to be up", target_up, process, log)
    with httpx.Client(base_url=live_server.url, timeout=5) as http:
        for _ in range(5):
            assert http.get("/healthz").status_code == 200

    healthz = 'socdesk_http_requests_total{group="healthz",method="GET",status="2xx"}'
    result = wait_until(
        "the requests in Prometheus",
        lambda: [r for r in query(api, healthz) if float(r["value"][1]) >= 5],
        process,
        log,
    )
    assert result[0]["metric"]["job"] == "socdesk"
    scrapes = query(api, 'socdesk_http_requests_total{group="metrics",status="2xx"}')
    assert scrapes and float(scrapes[0]["value"][1]) >= 1
    (critical,) = query(api, 'socdesk_tickets_open{severity="critical"}')
    assert float(critical["value"][1]) == 1
    up = query(api, "min(socdesk_metrics_reading_up)")
    assert float(up[0]["value"][1]) == 1
    # The histogram is usable as one: a quantile over its buckets.
    latency = query(
        api, "histogram_quantile(0.5, sum by (le) (socdesk_http_request_duration_seconds_bucket))"
    )
    assert latency and float(latency[0]["value"][1]) > 0


def test_every_query_of_the_grafana_dashboard_is_valid_promql(prometheus):
    api, _process, _log = prometheus
    dashboard = json.loads((REPO / "docs/grafana/socdesk.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert len(expressions) >= 9
    for expression in expressions:
        answer = api.get("/api/v1/query", params={"query": expression.replace("$__rate_interval", "1m")})
        assert answer.json()["status"] == "success", (expression, answer.text)
