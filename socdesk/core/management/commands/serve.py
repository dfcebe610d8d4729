"""`socdesk serve`: the production web server (gunicorn, gthread workers) plus a background worker."""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from socdesk.core.supervise import Child, supervise


def gunicorn_argv(*, bind: str, workers: int, threads: int) -> list[str]:
    """The gunicorn command line SOCdesk is served with."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "socdesk.wsgi:application",
        "--name=socdesk",
        f"--bind={bind}",
        "--worker-class=gthread",
        f"--workers={workers}",
        f"--threads={threads}",
        "--access-logfile=-",
        # Requests in flight get this long to finish on SIGTERM before workers are killed.
        "--graceful-timeout=10",
        "--timeout=60",
        # Several serve processes may share a host; gunicorn's default control socket path would clash.
        "--no-control-socket",
    ]


def worker_argv() -> list[str]:
    return [sys.executable, "-m", "socdesk.cli", "worker"]


def unapplied_migrations() -> int:
    """How many migrations of this version the database still lacks."""
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(BaseCommand):
    help = (
        "Serve SOCdesk with gunicorn (gthread workers) and run a background worker beside it. "
        "Stops both on SIGINT/SIGTERM. Run `socdesk upgrade` first after installing a new version."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            action="append",
            help=f"host:port or unix:PATH to listen on; repeatable (default {settings.SOCDESK_BIND}).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.SOCDESK_WEB_WORKERS,
            help="gunicorn worker processes (default SOCDESK_WEB_WORKERS, 2).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.SOCDESK_WEB_THREADS,
            help="Threads per worker process (default SOCDESK_WEB_THREADS, 4).",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Serve the web app only; run `socdesk worker` elsewhere.",
        )

    def handle(self, *args, bind, workers, threads, no_worker, **options):
        code = serve(
            binds=bind or [settings.SOCDESK_BIND],
            workers=workers,
            threads=threads,
            with_worker=not no_worker,
            say=self.stdout.write,
        )
        if code:
            raise CommandError(f"SOCdesk stopped because a process exited with code {code}.", returncode=code)


def serve(*, binds: list[str], workers: int, threads: int, with_worker: bool, say) -> int:
    """Run gunicorn (and a worker) until a stop signal; returns the exit code."""
    if workers < 1 or threads < 1:
        raise CommandError("--workers and --threads must be at least 1.")
    argv = gunicorn_argv(bind=binds[0], workers=workers, threads=threads)
    argv += [f"--bind={extra}" for extra in binds[1:]]
    pending = unapplied_migrations()
    if pending:
        # Serve anyway (a rolling deploy may start new code first), but say what is wrong.
        say(f"Warning: {pending} database migration(s) are not applied; run `socdesk upgrade`.")
    children = [Child("web server", argv)]
    if with_worker:
        children.append(Child("worker", worker_argv()))
    # The children open their own connections; ours would only sit idle (and hold SQLite files open).
    connections.close_all()
    return supervise(children, say=lambda line: (say(line), sys.stdout.flush()))
