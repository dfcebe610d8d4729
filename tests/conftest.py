"""Shared fixtures: personas, a ticket in SOC, a per-test data dir for files, and the browser set-up."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from socdesk.accounts.testing import PERSONA_PASSWORD, make_personas
from socdesk.core.actor import Actor
from socdesk.tickets.services import ticket_create


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "attachments"
    # Tests check counts right after changes; the count cache has its own test.
    settings.SOCDESK_COUNT_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _forget_recent_lookups():
    """Keys and integrations remembered by one test must not outlive its rolled-back database."""
    from socdesk.core.recent import RecentLookups

    RecentLookups.forget_everything()
    yield
    RecentLookups.forget_everything()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Still argon2 (same hash format), with cheap parameters so persona set-up stays fast."""
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def _rate_limit_window_pinned(monkeypatch):
    """The API rate limit counts per wall-clock minute; a test whose requests straddled a minute
    boundary would see its counter restart. Pin the limiter's clock to the middle of this minute."""
    import time
    from types import SimpleNamespace

    middle = (time.time() // 60) * 60 + 30
    monkeypatch.setattr("socdesk.accounts.keyauth.time", SimpleNamespace(time=lambda: middle))


REDIS_TEST_URL = "redis://127.0.0.1:6379/0"


def redis_up() -> bool:
    """True when the machine's Redis answers (tests that need it skip otherwise)."""
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(params=["database", "redis"])
def shared_cache(request, settings):
    """The cache every process would share: the database's cache table, or Redis under a key prefix
    of this test's own."""
    import uuid

    from django.core.cache import cache

    if request.param == "redis":
        if not redis_up():
            pytest.skip("Redis is not running at 127.0.0.1:6379")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_TEST_URL,
                "KEY_PREFIX": f"shared-cache-test-{uuid.uuid4().hex}",
            }
        }
    cache.clear()  # the cache table is not emptied between transactional tests
    yield request.param
    cache.clear()


@pytest.fixture
def huey_immediate():
    """Run tasks in-process, as soon as they are enqueued (after the request's transaction commits)."""
    from huey.contrib.djhuey import HUEY

    old = HUEY.immediate
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = old


@pytest.fixture
def people(db):
    """alice, bob (SOC), carol (IT), admin, team Tier 1."""
    return make_personas()


@pytest.fixture
def password():
    return PERSONA_PASSWORD


@pytest.fixture
def soc_ticket(people):
    """A new SOC ticket opened by alice for an end user."""
    return ticket_create(
        actor=Actor.for_agent(people.alice, ip="10.0.0.5"),
        subject="Suspicious PowerShell on WS-042",
        department=people.soc,
        body="EDR flagged encoded PowerShell spawning from winword.exe.",
        requester_email="Dana@Example.test",
        requester_name="Dana Reyes",
        severity="high",
        tags=["edr", "Phishing"],
    )


# --- browser tests (Playwright driving Debian's Chromium; see ../shared/TESTING.md) ---------------------

# Playwright's sync API runs an event loop in the test thread; the tests' own ORM calls stay synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium floods the closed network with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(config, items):
    if shutil.which(CHROMIUM) or os.environ.get("CI"):
        return  # on CI a missing browser must fail the run, not skip it
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser, and no background traffic off the machine."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where browser tests save the screenshots a person looks at (test-artifacts/, not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback (aiosmtpd) with Django's SMTP backend pointed at it; yields its
    Inbox (tests/mailserver.py)."""
    from aiosmtpd.controller import Controller

    from tests.core.processes import free_port
    from tests.mailserver import Inbox

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    try:
        yield inbox
    finally:
        controller.stop()
