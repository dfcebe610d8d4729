"""The web server's access log: one line per request on standard output, written in blocks.

`socdesk serve` runs granian without its own access log and wraps the WSGI application in
`AccessLogged` instead (SOCDESK_ACCESS_LOG, on by default). The lines are the ones granian writes
(its default format: time, client address, request line, status, milliseconds), but granian's log
goes through Python's `logging` for every request (a LogRecord, a handler lock, a formatter, a flush
and so a write to the pipe per line), which a webhook flood pays in capacity. Here a line is one
string format and a list append; the lines are written a block at a time:

- when the block is full (at most PIPE_BUF bytes, so that a write to a pipe shared with the other web
  processes is never split between their lines),
- at once after a server error (a 5xx or an exception), so that what preceded a failure is out,
- at the latest about a second after a line was added (a background thread of each process),
- when the process exits (at interpreter exit and when a multiprocessing child such as a granian
  worker ends).

Lines stay whole and in the order they were added; each process keeps its own block.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import select
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from multiprocessing import util as multiprocessing_util
from typing import Any

# Writes up to this size are atomic on a pipe (POSIX PIPE_BUF), so lines of several processes
# sharing one stdout pipe never interleave within a line.
BLOCK_BYTES = select.PIPE_BUF
# The longest a line waits in memory before it is written.
FLUSH_SECONDS = 1.0


def _write_stdout(data: bytes) -> None:
    """Write `data` to file descriptor 1 in full."""
    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]


class AccessLog:
    """A per-process block of access-log lines, written to `write` in whole lines."""

    def __init__(self, write: Callable[[bytes], None] = _write_stdout, flush_seconds: float = FLUSH_SECONDS):
        self._write = write
        self._flush_seconds = flush_seconds
        self._lines: list[bytes] = []
        self._size = 0
        self._lock = threading.Lock()
        self._flusher_pid = 0  # the process whose background flusher runs (0: none yet)
        self._wake = threading.Event()
        self._closed = False
        self._stamp: tuple[int, str] = (-1, "")
        atexit.register(self.flush)
        after_fork = weakref.WeakMethod(self._forget_parent)
        os.register_at_fork(after_in_child=lambda: (method := after_fork()) and method())

    def time_text(self, when: float) -> str:
        """`when` as granian prints it ('2026-12-01 05:10:00 +0000', local time), made once a second."""
        second = int(when)
        stamp = self._stamp
        if stamp[0] != second:
            text = datetime.datetime.fromtimestamp(second).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")
            self._stamp = stamp = (second, text)
        return stamp[1]

    def add(self, line: str, *, urgent: bool = False) -> None:
        """Keep `line` (without its newline) for the next block; write the block now if `urgent`."""
        data = (line + "\n").encode("utf-8", "backslashreplace")
        if self._flusher_pid != os.getpid():
            self._start_flusher()
        with self._lock:
            if self._size + len(data) > BLOCK_BYTES:
                self._write_locked()
            self._lines.append(data)
            self._size += len(data)
            if urgent:
                self._write_locked()

    def flush(self) -> None:
        """Write whatever is kept."""
        with self._lock:
            self._write_locked()

    def close(self) -> None:
        """Write whatever is kept and stop the background flusher."""
        self._closed = True
        self._wake.set()
        self.flush()

    def _write_locked(self) -> None:
        if not self._lines:
            return
        data = b"".join(self._lines)
        self._lines = []
        self._size = 0
        # Standard output gone (a closed pipe): the server keeps serving, as it does when a logging
        # handler fails to write.
        with contextlib.suppress(OSError):
            self._write(data)

    def _forget_parent(self) -> None:
        # A forked child starts with its own block: the parent writes its own lines, and the parent's
        # lock may have been held by one of its threads at the fork.
        self._lock = threading.Lock()
        self._lines = []
        self._size = 0
        self._wake = threading.Event()

    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher_pid == os.getpid():
                return
            self._flusher_pid = os.getpid()
            threading.Thread(target=self._flush_regularly, name="access-log", daemon=True).start()
            # A multiprocessing child (a granian worker) ends with os._exit(), which skips atexit;
            # multiprocessing runs the finalizers registered in the child first.
            multiprocessing_util.Finalize(None, self.flush, exitpriority=100)

    def _flush_regularly(self) -> None:
        wake = self._wake
        while not self._closed:
            wake.wait(self._flush_seconds)
            self.flush()


class AccessLogged:
    """WSGI middleware: one access-log line per request, in granian's default format."""

    def __init__(self, app: Callable[..., Iterable[bytes]], log: AccessLog | None = None):
        self.app = app
        self.log = log if log is not None else AccessLog()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        received, started = time.time(), time.perf_counter()
        status = [500]

        def start_and_note(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = int(status_line.split(" ", 1)[0])
            return start_response(status_line, headers, exc_info)

        try:
            return self.app(environ, start_and_note)
        except BaseException:
            status[0] = 500
            raise
        finally:
            self._line(environ, received, started, status[0])

    def _line(self, environ: dict[str, Any], received: float, started: float, status: int) -> None:
        log = self.log
        elapsed_ms = (time.perf_counter() - started) * 1000
        log.add(
            f"[{log.time_text(received)}] {environ.get('REMOTE_ADDR', '-')} - "
            f'"{environ.get("REQUEST_METHOD", "")} {environ.get("PATH_INFO", "")} '
            f'{environ.get("SERVER_PROTOCOL", "")}" {status} {elapsed_ms:.3f}',
            urgent=status >= 500,
        )


def access_logged(app: Callable[..., Iterable[bytes]], *, enabled: bool) -> Callable[..., Iterable[bytes]]:
    """`app` with the access log when `enabled` (SOCDESK_ACCESS_LOG), else `app` itself."""
    return AccessLogged(app) if enabled else app
