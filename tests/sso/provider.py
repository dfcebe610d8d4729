"""A real OpenID provider for the tests: django-oidc-provider in its own Django project (tests/sso/op),
run with `runserver` as a subprocess on a free loopback port with its own SQLite file, stopped by pid."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "socdesk-test"
CLIENT_SECRET = "op-test-client-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Provider:
    """A running test provider: its issuer URL and a way to add users and change their groups."""

    issuer: str
    env: dict[str, str]
    process: subprocess.Popen

    def user(self, username: str, password: str, email: str, groups: list[str]) -> None:
        """Create or update a user at the provider, with exactly these groups."""
        _admin(self.env, "user", username, password, email, *groups)

    def client(self, client_id: str, client_secret: str, *redirect_uris: str) -> None:
        """Register (or update) another client at the provider, with these redirect URIs."""
        _admin(self.env, "client", client_id, client_secret, *redirect_uris)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _admin(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "tests.sso.op.admin", *args], cwd=ROOT, env=env, check=True, timeout=120
    )


def start_provider(tmp: Path, redirect_uri: str) -> Provider:
    """Migrate a fresh provider database, register SOCdesk as a client, serve it; wait until it answers."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.sso.op.settings",
        "OP_DB_PATH": str(tmp / "op.sqlite3"),
    }
    env.pop("DATABASE_URL", None)
    _admin(env, "setup", CLIENT_ID, CLIENT_SECRET, redirect_uri)
    log = open(tmp / "op.log", "wb")  # noqa: SIM115 (kept open for the process's life)
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://127.0.0.1:{port}/openid"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    f"The test OpenID provider did not start: {(tmp / 'op.log').read_text()[-2000:]}"
                ) from None
            time.sleep(0.2)
    return Provider(issuer=issuer, env=env, process=process)
