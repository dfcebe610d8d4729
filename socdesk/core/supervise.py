"""Run several long-lived processes (web server, worker) as one, and stop them together.

`socdesk serve` and `socdesk run` start the web server (granian) and the worker as child processes. Ctrl-C
(SIGINT), SIGTERM or SIGHUP (the terminal closed) stops them all and returns 0; if one of them dies on its
own, the others are stopped too and a non-zero code is returned, so a process manager (systemd,
Kubernetes) restarts the set instead of leaving half a SOCdesk running.

This module imports nothing of Django: the supervising process only starts and stops children, and
stays small because of it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    # For a step run before the others: whether its failure stops the start (a check that only warns
    # does not).
    required: bool = True
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # A process group of its own: Ctrl-C in a terminal signals the whole foreground group at once,
        # and a granian whose workers get that SIGINT beside their master's own stop request may leave
        # one of them waiting out its kill timeout. Only the supervisor hears the terminal; each child
        # gets exactly one stop request, from it.
        self.process = subprocess.Popen(self.argv, process_group=0, preexec_fn=_die_with_parent)

    @property
    def running(self) -> subprocess.Popen[bytes]:
        """The started process (a child is only looked at once it was started)."""
        if self.process is None:
            raise RuntimeError(f"{self.name} was not started.")
        return self.process


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the supervisor dies (even by SIGKILL), never linger."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _load_prctl() -> Callable[..., int] | None:
    # Looked up once here, not in the forked child, where only async-signal-safe work belongs.
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the supervisor's own stop applies
        return ctypes.CDLL(None, use_errno=True).prctl
    return None


_prctl = _load_prctl()


def supervise(
    children: Sequence[Child],
    *,
    before: Sequence[Child] = (),
    say: Callable[[str], None] = print,
    stop_timeout: float = 15.0,
    poll_interval: float = 0.2,
    exited: Callable[[int], None] | None = None,
) -> int:
    """Run each of `before` to completion, then start every child and wait until a stop signal arrives
    or one child exits, then stop them all. Returns 0 when stopped by a signal, else the failing code.
    `exited` is told the pid of every process started here once it has ended."""
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    exit_code = 0
    try:
        for step in before:
            code = _run_step(step, received, poll_interval)
            if received or (code and step.required):
                if not received:
                    say(f"{step.name} failed with code {code}; not starting.")
                exit_code = 0 if received else code
                break
        else:
            exit_code = _run_children(children, received, say, poll_interval)
        if received:
            say(f"received {signal.Signals(received[0]).name}; stopping.")
        _stop([*before, *children], stop_timeout, say)
        if exited is not None:
            for child in [*before, *children]:
                if child.process is not None:
                    exited(child.process.pid)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return exit_code


def _run_step(step: Child, received: list[int], poll_interval: float) -> int:
    """Start one preparation step and wait for it, or for a stop signal (the caller stops the step)."""
    if received:
        return 0
    step.start()
    while not received and step.running.poll() is None:
        time.sleep(poll_interval)
    return step.running.returncode or 0


def _run_children(
    children: Sequence[Child], received: list[int], say: Callable[[str], None], poll_interval: float
) -> int:
    for child in children:
        if received:
            return 0
        child.start()
        say(f"started {child.name} (pid {child.running.pid})")
    while not received:
        died = next((c for c in children if c.process and c.process.poll() is not None), None)
        if died is not None:
            code = died.running.returncode
            say(f"{died.name} exited with code {code}; stopping the others.")
            return code or 1
        time.sleep(poll_interval)
    return 0


def _stop(children: Sequence[Child], timeout: float, say: Callable[[str], None]) -> None:
    """SIGTERM (graceful for the web server, prompt for the worker), then SIGKILL what outlives it."""
    running = [c for c in children if c.process and c.process.poll() is None]
    for child in running:
        child.running.terminate()
    deadline = time.monotonic() + timeout
    for child in running:
        try:
            child.running.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within {timeout:.0f}s; killing its process group.")
            # Its own group: granian's workers go with their master.
            os.killpg(child.running.pid, signal.SIGKILL)
            child.running.wait()
    for child in children:
        if child.process:
            child.running.wait()
