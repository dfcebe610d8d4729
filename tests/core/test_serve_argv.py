"""The web server command line `socdesk serve` builds (granian), from its options and settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management.base import CommandError

from socdesk.core.management.commands.serve import web_argv


def test_host_port_ipv6_and_unix_socket_binds():
    assert {"--host=127.0.0.1", "--port=8000"} <= set(web_argv(bind="127.0.0.1:8000", workers=3, threads=16))
    assert {"--host=::1", "--port=9000"} <= set(web_argv(bind="[::1]:9000", workers=1, threads=1))
    assert {"--host=0.0.0.0", "--port=80"} <= set(web_argv(bind=":80", workers=1, threads=1))
    argv = web_argv(bind="unix:/run/socdesk.sock", workers=2, threads=4)
    assert "--uds=/run/socdesk.sock" in argv and "--workers=2" in argv and "--blocking-threads=4" in argv
    assert argv[-1] == "socdesk.wsgi:served_application"


@pytest.mark.parametrize("bind", ["localhost", "127.0.0.1:http", "8000x"])
def test_a_bind_that_is_not_an_address_is_refused_with_what_to_write(bind):
    with pytest.raises(CommandError, match="is not host:port or unix:PATH"):
        web_argv(bind=bind, workers=1, threads=1)


def test_the_application_writes_the_access_log_not_granian(settings):
    # socdesk.core.access_log writes the lines (SOCDESK_ACCESS_LOG); granian's own would double them.
    assert "--no-access-log" in web_argv(bind="127.0.0.1:8000", workers=1, threads=1)
    settings.SOCDESK_ACCESS_LOG = False
    assert "--no-access-log" in web_argv(bind="127.0.0.1:8000", workers=1, threads=1)


def _default_web_workers(**env: str) -> int:
    """SOCDESK_WEB_WORKERS as settings read it in a fresh interpreter with `env` (and none of its own)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("SOCDESK_WEB_WORKERS", "DATABASE_URL")}
    code = "from django.conf import settings; print(settings.SOCDESK_WEB_WORKERS)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "socdesk.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_web_processes_default_to_one_on_sqlite_and_one_per_core_on_postgresql(tmp_path):
    cores = len(os.sched_getaffinity(0))
    data = str(tmp_path)
    assert _default_web_workers(SOCDESK_DATA_DIR=data) == 1
    # Parsed only: nothing connects to this database.
    postgres = "postgres://socdesk@127.0.0.1:5432/socdesk"
    assert _default_web_workers(SOCDESK_DATA_DIR=data, DATABASE_URL=postgres) == cores
    assert _default_web_workers(SOCDESK_DATA_DIR=data, DATABASE_URL=postgres, SOCDESK_WEB_WORKERS="5") == 5
