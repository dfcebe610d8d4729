"""Run several long-lived processes (web server, worker) as one, and stop them together.

`socdesk serve` and `socdesk run` start the web server (granian) and the worker as child processes. Ctrl-C
(SIGINT) or SIGTERM stops both and returns 0; if one of them dies on its own, the other is stopped
too and a non-zero code is returned, so a process manager (systemd, Kubernetes) restarts the pair
instead of leaving half a SOCdesk running.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None


def supervise(
    children: Sequence[Child],
    *,
    say: Callable[[str], object] = print,
    stop_timeout: float = 15.0,
    poll_interval: float = 0.2,
) -> int:
    """Start every child, wait until a stop signal arrives or one child exits, then stop them all."""
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    exit_code = 0
    try:
        for child in children:
            if received:
                break
            child.process = subprocess.Popen(child.argv)
            say(f"started {child.name} (pid {child.process.pid})")
        while not received:
            exited = next(
                ((c, c.process) for c in children if c.process and c.process.poll() is not None), None
            )
            if exited is not None:
                died, process = exited
                code = process.returncode
                say(f"{died.name} exited with code {code}; stopping the others.")
                exit_code = code or 1
                break
            time.sleep(poll_interval)
        if received:
            say(f"received {signal.Signals(received[0]).name}; stopping.")
        _stop(children, stop_timeout, say)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return exit_code


def _stop(children: Sequence[Child], timeout: float, say: Callable[[str], object]) -> None:
    """SIGTERM (graceful for the web server, prompt for the worker), then SIGKILL what outlives it."""
    running = [(c, c.process) for c in children if c.process and c.process.poll() is None]
    for _child, process in running:
        process.terminate()
    deadline = time.monotonic() + timeout
    for child, process in running:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within {timeout:.0f}s; killing it.")
            process.kill()
            process.wait()
    for child in children:
        if child.process:
            child.process.wait()
