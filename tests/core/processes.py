"""Helpers for tests that run `socdesk` commands as real processes (serve, worker, run)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
# Every wait is bounded so a broken start fails the test instead of hanging the suite.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def socdesk_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a child `socdesk`: this checkout's code, embedded SQLite in `data_dir`.

    DATABASE_URL and REDIS_URL are dropped so that process tests never touch the databases the
    suite itself uses; a test that wants Redis passes REDIS_URL explicitly. DJANGO_ALLOW_ASYNC_UNSAFE
    (set by the browser tests in this process) is dropped so a child sees a production-like environment.
    """
    dropped = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        SOCDESK_DATA_DIR=str(data_dir),
        PYTHONPATH=str(REPO),
        DJANGO_SETTINGS_MODULE="socdesk.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def session_pids(sid: int) -> list[int]:
    """Live (not zombie) processes whose session is `sid`, from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # After "(command name)": state, ppid, pgrp, session, ...
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def socdesk_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "socdesk.cli", *args]


def run_socdesk(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a short `socdesk` command to completion."""
    return subprocess.run(
        socdesk_argv(*args), env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


class Background:
    """A long-running `socdesk` command in its own session (like a terminal's foreground job)."""

    def __init__(self, *args: str, env: dict[str, str], log: Path):
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            socdesk_argv(*args),
            env=env,
            cwd=REPO,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, predicate, what: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.process.poll() is not None:
                raise AssertionError(
                    f"socdesk exited ({self.process.returncode}) before {what}:\n{self.output}"
                )
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output}")

    def wait_healthy(self, port: int) -> httpx.Response:
        answer: list[httpx.Response] = []

        def healthy() -> bool:
            try:
                answer.append(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2))
            except httpx.HTTPError:
                return False
            return answer[-1].status_code == 200

        self.wait_for(healthy, "/healthz answered 200")
        return answer[-1]

    def signal_group(self, sig: int) -> None:
        """Send `sig` to every process of the session, as Ctrl-C in a terminal does."""
        os.killpg(self.process.pid, sig)

    def signal_leader(self, sig: int) -> None:
        """Send `sig` to the main process only, as a process manager (systemd, Docker) does."""
        self.process.send_signal(sig)

    def wait_exit(self) -> int:
        try:
            return self.process.wait(STOP_TIMEOUT)
        finally:
            self._log_file.close()

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def session_pids(self) -> list[int]:
        """Every live process of the session: children in process groups of their own included."""
        return session_pids(self.process.pid)

    def kill(self) -> None:
        """Last-resort cleanup so that a failed test leaves no server behind."""
        if self.group_alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid in self.session_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(STOP_TIMEOUT)
        self._log_file.close()
