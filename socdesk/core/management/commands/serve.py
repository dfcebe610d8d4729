"""`socdesk serve`: the production web server (granian, WSGI) plus a background worker.

Granian (an HTTP server written in Rust) rather than gunicorn: with the same application, 3
processes of 16 threads and no access log on either, it acknowledged 1,560-1,790 webhook deliveries
a second on a 2-core machine where gunicorn's gthread workers managed 1,200-1,260
(docs/benchmarks.md); its HTTP handling costs next to no Python time.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

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
        # Written by Python in the request's thread: 16% of a webhook flood's capacity (measured);
        # behind a proxy that logs requests already, SOCDESK_ACCESS_LOG=false gives that back.
        "--access-log" if settings.SOCDESK_ACCESS_LOG else "--no-access-log",
        # Requests in flight get this long to finish on SIGTERM before workers are killed.
        "--workers-kill-timeout=10",
        "--respawn-failed-workers",
        "socdesk.wsgi:application",
    ]


def worker_argv() -> list[str]:
    return [sys.executable, "-m", "socdesk.cli", "worker"]


def ingest_argv() -> list[str]:
    return [sys.executable, "-m", "socdesk.cli", "ingest"]


def unapplied_migrations() -> int:
    """How many migrations of this version the database still lacks."""
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(BaseCommand):
    help = (
        "Serve SOCdesk with granian (WSGI) and run a background worker beside it. "
        "Stops both on SIGINT/SIGTERM. Run `socdesk upgrade` first after installing a new version."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            help=f"host:port or unix:PATH to listen on (default {settings.SOCDESK_BIND}).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.SOCDESK_WEB_WORKERS,
            help="Web server processes (default SOCDESK_WEB_WORKERS, 3).",
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

    def handle(self, *args, bind, workers, threads, no_worker, **options):
        code = serve(
            bind=bind or settings.SOCDESK_BIND,
            workers=workers,
            threads=threads,
            with_worker=not no_worker,
            say=self.stdout.write,
        )
        if code:
            raise CommandError(f"SOCdesk stopped because a process exited with code {code}.", returncode=code)


def serve(*, bind: str, workers: int, threads: int, with_worker: bool, say) -> int:
    """Run the web server (and a worker) until a stop signal; returns the exit code."""
    if workers < 1 or threads < 1:
        raise CommandError("--workers and --threads must be at least 1.")
    argv = web_argv(bind=bind, workers=workers, threads=threads)
    pending = unapplied_migrations()
    if pending:
        # Serve anyway (a rolling deploy may start new code first), but say what is wrong.
        say(f"Warning: {pending} database migration(s) are not applied; run `socdesk upgrade`.")
    children = [Child("web server", argv)]
    if with_worker:
        children.append(Child("worker", worker_argv()))
        children += [
            Child(f"ingest loop {number}", ingest_argv())
            for number in range(1, settings.SOCDESK_INGEST_PROCESSES + 1)
        ]
    # The children open their own connections; ours would only sit idle (and hold SQLite files open).
    connections.close_all()
    return supervise(children, say=lambda line: (say(line), sys.stdout.flush()))
