"""`socdesk serve`: the production web server (granian, WSGI) plus a background worker.

Granian (an HTTP server written in Rust) rather than gunicorn: its HTTP handling costs next to no
Python time, so more of each core goes to the application (compared in docs/benchmarks.md).

This command only starts and stops other processes, so `socdesk.cli` runs it without setting Django
up (no apps, models or URLs loaded): the supervising process stays a fraction of a web worker's size.
Everything here must therefore work from settings alone; what needs the database runs in a child.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from socdesk.core.metrics_dir import metrics_dir_prepare, metrics_process_exited
from socdesk.core.supervise import Child, supervise


def web_argv(*, bind: str, workers: int, threads: int) -> list[str]:
    """The granian command line SOCdesk is served with; `bind` is host:port, [v6]:port or unix:PATH."""
    if bind.startswith("unix:"):
        address = [f"--uds={bind[len('unix:') :]}"]
    else:
        host, sep, port = bind.rpartition(":")
        if not sep or not port.isdigit():
            raise CommandError(f"--bind {bind!r} is not host:port or unix:PATH.")
        address = [f"--host={host.strip('[]') or '0.0.0.0'}", f"--port={port}"]
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface=wsgi",
        *address,
        f"--workers={workers}",
        # Requests wait on the database most of the time: threads, not processes, cover that.
        f"--blocking-threads={threads}",
        # The application writes the access log itself (socdesk.core.access_log, SOCDESK_ACCESS_LOG):
        # granian's goes through Python's logging and a write per line, which a webhook flood pays for.
        "--no-access-log",
        # Requests in flight get this long to finish on SIGTERM before workers are killed.
        "--workers-kill-timeout=10",
        "--respawn-failed-workers",
        "socdesk.wsgi:served_application",
    ]


def socdesk_argv(*args: str) -> list[str]:
    """A `socdesk` subcommand run by this same interpreter (and so this same installation)."""
    return [sys.executable, "-m", "socdesk.cli", *args]


class Command(BaseCommand):
    help = (
        "Serve SOCdesk with granian (WSGI) and run a background worker beside it. "
        "Stops both on SIGINT/SIGTERM. Run `socdesk upgrade` first after installing a new version."
    )
    # The system checks need the apps loaded; the `upgrade --check` child runs them instead.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind",
            help=f"host:port or unix:PATH to listen on (default {settings.SOCDESK_BIND}).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.SOCDESK_WEB_WORKERS,
            help="Web server processes (default SOCDESK_WEB_WORKERS: 1 on SQLite, cores on PostgreSQL).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.SOCDESK_WEB_THREADS,
            help="Threads per web server process (default SOCDESK_WEB_THREADS, 16).",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Serve the web app only; run `socdesk worker` elsewhere.",
        )

    def handle(
        self, *args: Any, bind: str, workers: int, threads: int, no_worker: bool, **options: Any
    ) -> None:
        # Serve anyway when migrations are missing (a rolling deploy may start new code first), but
        # the check says what is wrong.
        check = Child("migration check", socdesk_argv("upgrade", "--check"), required=False)
        code = serve(
            bind=bind or settings.SOCDESK_BIND,
            workers=workers,
            threads=threads,
            with_worker=not no_worker,
            say=self.stdout.write,
            before=[check],
        )
        if code:
            raise CommandError(f"SOCdesk stopped because a process exited with code {code}.", returncode=code)


def serve(
    *,
    bind: str,
    workers: int,
    threads: int,
    with_worker: bool,
    say: Callable[[str], None],
    before: Sequence[Child] = (),
) -> int:
    """Run `before` (to completion), then the web server and the worker until a stop signal; returns
    the exit code."""
    if workers < 1 or threads < 1:
        raise CommandError("--workers and --threads must be at least 1.")
    children = [Child("web server", web_argv(bind=bind, workers=workers, threads=threads))]
    if with_worker:
        # One worker process runs the Huey consumer and an ingest loop; SOCDESK_INGEST_PROCESSES adds
        # loops of their own (none by default on SQLite, where writes take turns on one file lock).
        children.append(Child("worker", socdesk_argv("worker")))
        children += [
            Child(f"ingest loop {number}", socdesk_argv("ingest"))
            for number in range(1, settings.SOCDESK_INGEST_PROCESSES + 1)
        ]

    def say_now(line: str) -> None:
        say(line)
        sys.stdout.flush()

    # Every child (web workers, worker, ingest loops) writes its metrics there; /metrics adds them up.
    metrics_dir_prepare(settings.DATA_DIR)
    return supervise(children, before=before, say=say_now, exited=metrics_process_exited)
