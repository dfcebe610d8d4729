"""The web server's access log (socdesk.core.access_log): granian's lines, written in blocks."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import granian.log
import pytest
from granian.log import DEFAULT_ACCESSLOG_FMT, log_request_builder

from socdesk.core.access_log import BLOCK_BYTES, AccessLog, AccessLogged, access_logged

REPO = Path(__file__).resolve().parents[2]

ENVIRON = {
    "REMOTE_ADDR": "192.0.2.7",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "PATH_INFO": "/api/v1/hooks/alertmanager",
    "QUERY_STRING": "integration=prod",
    "REQUEST_METHOD": "POST",
    "wsgi.url_scheme": "https",
}


class Written:
    """Collects what the log writes, one entry per write."""

    def __init__(self) -> None:
        self.blocks: list[bytes] = []

    def __call__(self, data: bytes) -> None:
        self.blocks.append(data)

    @property
    def lines(self) -> list[str]:
        return b"".join(self.blocks).decode().splitlines()


def _answering(status: str):
    def app(environ, start_response):
        start_response(status, [("Content-Type", "application/json")])
        return [b"{}"]

    return app


def _quiet_log(written: Written) -> AccessLog:
    return AccessLog(written, flush_seconds=3600)


def test_a_line_is_the_one_granians_default_format_writes():
    written = Written()
    log = _quiet_log(written)
    AccessLogged(_answering("202 Accepted"), log)(dict(ENVIRON), lambda *a: None)
    log.flush()
    [line] = written.lines

    granian_lines = []
    granian_log = log_request_builder(DEFAULT_ACCESSLOG_FMT)
    request = {
        "addr_remote": ENVIRON["REMOTE_ADDR"],
        "protocol": ENVIRON["SERVER_PROTOCOL"],
        "path": ENVIRON["PATH_INFO"],
        "qs": ENVIRON["QUERY_STRING"],
        "method": ENVIRON["REQUEST_METHOD"],
        "scheme": ENVIRON["wsgi.url_scheme"],
    }
    stamp = re.match(r"\[([^]]+)\]", line)
    assert stamp
    when = time.mktime(time.strptime(stamp.group(1)[:19], "%Y-%m-%d %H:%M:%S"))
    original = granian.log.access_logger.info
    granian.log.access_logger.info = lambda fmt, values: granian_lines.append(fmt % values)
    try:
        granian_log(when, time.perf_counter(), request, 202)
    finally:
        granian.log.access_logger.info = original
    # The same line but for the milliseconds each measured.
    assert line.rsplit(" ", 1)[0] == granian_lines[0].rsplit(" ", 1)[0]
    expected = r'\[.+\] 192\.0\.2\.7 - "POST /api/v1/hooks/alertmanager HTTP/1\.1" 202 \d+\.\d{3}'
    assert re.fullmatch(expected, line)


def test_lines_wait_for_a_full_block_and_blocks_hold_whole_lines_in_order():
    written = Written()
    log = _quiet_log(written)
    app = AccessLogged(_answering("202 Accepted"), log)
    for number in range(200):
        app({**ENVIRON, "PATH_INFO": f"/api/v1/hooks/alertmanager/{number}"}, lambda *a: None)
    # Nothing is written line by line: only full blocks so far, each within one atomic pipe write.
    assert 1 < len(written.blocks) < 200
    assert all(len(block) <= BLOCK_BYTES and block.endswith(b"\n") for block in written.blocks)
    log.flush()
    numbers = [int(line.split('"')[1].split()[1].rsplit("/", 1)[1]) for line in written.lines]
    assert numbers == list(range(200))


def test_a_server_error_is_written_at_once_with_the_lines_before_it():
    written = Written()
    log = _quiet_log(written)
    AccessLogged(_answering("202 Accepted"), log)(dict(ENVIRON), lambda *a: None)
    AccessLogged(_answering("503 Service Unavailable"), log)(dict(ENVIRON), lambda *a: None)
    assert [line.split('" ')[1].split()[0] for line in written.lines] == ["202", "503"]


def test_an_exception_is_logged_as_500_and_written_at_once():
    written = Written()
    log = _quiet_log(written)

    def failing(environ, start_response):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        AccessLogged(failing, log)(dict(ENVIRON), lambda *a: None)
    [line] = written.lines
    assert '"POST /api/v1/hooks/alertmanager HTTP/1.1" 500 ' in line


def test_a_quiet_server_writes_its_lines_within_the_flush_period():
    written = Written()
    log = AccessLog(written, flush_seconds=0.05)
    try:
        AccessLogged(_answering("200 OK"), log)(dict(ENVIRON), lambda *a: None)
        deadline = time.monotonic() + 10
        while not written.blocks and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(written.lines) == 1
    finally:
        log.close()


def test_the_setting_turns_the_log_off():
    app = _answering("200 OK")
    assert access_logged(app, enabled=False) is app
    assert isinstance(access_logged(app, enabled=True), AccessLogged)


EXITING = """
import multiprocessing, sys
from socdesk.core.access_log import AccessLog, AccessLogged

def app(environ, start_response):
    start_response("202 Accepted", [])
    return [b""]

log = AccessLog(flush_seconds=3600)
served = AccessLogged(app, log)
environ = {"REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": "POST"}

def serve(where):
    for number in range(3):
        served({**environ, "PATH_INFO": f"/{where}/{number}"}, lambda *a: None)

if __name__ == "__main__":
    # A forked multiprocessing child ends with os._exit() (as a granian worker does).
    child = multiprocessing.get_context("fork").Process(target=serve, args=("child",))
    child.start()
    child.join()
    serve("parent")  # this process ends normally
"""


def test_lines_kept_when_a_process_exits_are_written(tmp_path):
    script = tmp_path / "exiting.py"
    script.write_text(EXITING)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    paths = [line.split('"')[1].split()[1] for line in done.stdout.splitlines()]
    assert paths == ["/child/0", "/child/1", "/child/2", "/parent/0", "/parent/1", "/parent/2"]
