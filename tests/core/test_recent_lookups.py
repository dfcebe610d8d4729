"""What each web process remembers (core/recent.py), and how soon a change made elsewhere is honoured.

"Another process" is simulated in-process by giving the hot path its own RecentLookups (with a clock
the test moves) while the change is made through the service with another one, so the change's own
forgetting never reaches it; the last test does it with real processes.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from socdesk.accounts import keyauth
from socdesk.accounts.keyauth import ApiAuthError, authenticate_key
from socdesk.accounts.services import apikey_create, apikey_revoke, department_create
from socdesk.alerts import selectors as alert_selectors
from socdesk.alerts.integrations import integration_create, integration_remove, integration_rotate_token
from socdesk.alerts.models import WebhookDelivery
from socdesk.alerts.selectors import integration_for_token
from socdesk.core.actor import Actor
from socdesk.core.recent import RecentLookups
from tests.core.processes import Background, free_port, run_socdesk, socdesk_env

SETUP = Actor.system("test-setup")
DEFAULT_PERIOD = 1.0  # seconds: the revocation bound docs/api-keys.md promises
ALERT = (Path(__file__).resolve().parents[1] / "alerts" / "fixtures" / "alertmanager_v4.json").read_bytes()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def default_period(settings):
    """The shipped default (checked below), whatever a test run's environment says."""
    settings.SOCDESK_LOOKUP_CACHE_SECONDS = DEFAULT_PERIOD
    return DEFAULT_PERIOD


def test_the_default_period_is_one_second(tmp_path):
    env = socdesk_env(tmp_path / "data")
    env.pop("SOCDESK_LOOKUP_CACHE_SECONDS", None)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SOCDESK_LOOKUP_CACHE_SECONDS)"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) == DEFAULT_PERIOD


def _request(raw_key: str):
    return RequestFactory().post(
        "/api/v1/hooks/alertmanager", HTTP_X_API_KEY=raw_key, REMOTE_ADDR="192.0.2.7"
    )


@pytest.mark.django_db
def test_a_key_revoked_by_another_process_is_refused_here_within_the_period(
    monkeypatch, clock, default_period
):
    key, raw = apikey_create(actor=SETUP, name="tool", scopes=["alerts:ingest"])
    here, there = RecentLookups(clock=clock), RecentLookups(clock=clock)
    monkeypatch.setattr(keyauth, "_recent_keys", here)
    assert authenticate_key(_request(raw), raw, scope="alerts:ingest")[0].pk == key.pk  # remembered here

    monkeypatch.setattr(keyauth, "_recent_keys", there)  # the revoking process forgets its own memory
    apikey_revoke(actor=SETUP, key=key)
    monkeypatch.setattr(keyauth, "_recent_keys", here)

    clock.advance(default_period / 2)
    authenticate_key(_request(raw), raw, scope="alerts:ingest")  # still within the period: honoured
    clock.advance(default_period / 2)
    with pytest.raises(ApiAuthError):
        authenticate_key(_request(raw), raw, scope="alerts:ingest")


@pytest.mark.django_db
def test_an_integration_disabled_or_rotated_elsewhere_stops_within_the_period(
    monkeypatch, clock, default_period
):
    department = department_create(actor=SETUP, name="SOC")
    first = integration_create(actor=SETUP, adapter="alertmanager", name="am-1", department=department)
    second = integration_create(actor=SETUP, adapter="alertmanager", name="am-2", department=department)
    WebhookDelivery.objects.create(
        adapter="alertmanager", integration=first, body=b"{}", received_at=timezone.now()
    )  # so it is kept
    old_tokens = {first.pk: first.token, second.pk: second.token}
    here, there = RecentLookups(clock=clock), RecentLookups(clock=clock)
    monkeypatch.setattr(alert_selectors, "_recent_integrations", here)
    assert integration_for_token("alertmanager", first.token) == first
    assert integration_for_token("alertmanager", second.token) == second

    monkeypatch.setattr(alert_selectors, "_recent_integrations", there)
    assert integration_remove(actor=SETUP, integration=first) is False  # disabled, not deleted
    integration_rotate_token(actor=SETUP, integration=second)
    monkeypatch.setattr(alert_selectors, "_recent_integrations", here)

    clock.advance(default_period)
    assert integration_for_token("alertmanager", old_tokens[first.pk]) is None
    assert integration_for_token("alertmanager", old_tokens[second.pk]) is None


@pytest.mark.django_db(transaction=True)
def test_the_changing_process_forgets_again_when_the_change_commits(clock, settings):
    """Between the write and its commit another thread may read the old row: it must not be kept."""
    settings.SOCDESK_LOOKUP_CACHE_SECONDS = 60
    memory: RecentLookups[str] = RecentLookups(clock=clock)
    with transaction.atomic():
        memory.forget_after_change()
        assert memory.get("k", lambda: "old row") == "old row"  # another thread, before the commit
    assert memory.get("k", lambda: "new row") == "new row"


def test_a_stale_value_is_read_again_by_one_thread_while_the_others_wait_for_it(clock, settings):
    settings.SOCDESK_LOOKUP_CACHE_SECONDS = 1
    memory: RecentLookups[int] = RecentLookups(clock=clock)
    memory.get("k", lambda: 0)
    clock.advance(1)
    loads, results = [], []
    release = threading.Event()

    def load():
        loads.append(1)
        release.wait(5)
        return 1

    threads = [threading.Thread(target=lambda: results.append(memory.get("k", load))) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)  # let them all reach the memory; at most one may be loading
    release.set()
    for thread in threads:
        thread.join(10)
    assert loads == [1]
    assert results == [1] * 8


def test_values_that_are_not_kept_are_never_remembered(clock, settings):
    settings.SOCDESK_LOOKUP_CACHE_SECONDS = 1
    memory: RecentLookups[int | None] = RecentLookups(clock=clock)
    assert memory.get("guess", lambda: None, keep=lambda v: v is not None) is None
    assert memory.get("guess", lambda: 5, keep=lambda v: v is not None) == 5


def test_a_key_revoked_with_the_cli_is_refused_by_a_running_server(tmp_path):
    """Two real processes: `socdesk serve` remembers the key; `socdesk apikey revoke` (another process)
    revokes it; the server refuses it soon after, without hearing of it. The bound is generous: the
    suite never asserts on time; the one-second period itself is checked with a fake clock above."""
    env = socdesk_env(tmp_path / "data")
    assert run_socdesk("upgrade", env=env).returncode == 0
    assert run_socdesk("department", "create", "--name=SOC", env=env).returncode == 0  # alerts need one
    created = run_socdesk("apikey", "create", "--name=tool", "--scope=alerts:ingest", env=env)
    assert created.returncode == 0, created.stderr
    raw = created.stdout.strip().splitlines()[-1]
    prefix = raw.split("_")[1]
    port = free_port()
    server = Background(
        "serve", f"--bind=127.0.0.1:{port}", "--workers=1", "--threads=2", env=env, log=tmp_path / "serve.log"
    )

    def post() -> int:
        return httpx.post(
            f"http://127.0.0.1:{port}/api/v1/hooks/alertmanager",
            content=ALERT,
            headers={"X-API-Key": raw, "Content-Type": "application/json"},
            timeout=10,
        ).status_code

    try:
        server.wait_healthy(port)
        assert post() == 202  # the key is now remembered by the web process
        revoked = run_socdesk("apikey", "revoke", prefix, env=env)
        assert revoked.returncode == 0, revoked.stderr
        server.wait_for(lambda: post() == 401, "the revoked key refused", timeout=30)
    finally:
        server.kill()
