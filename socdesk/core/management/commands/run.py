"""`socdesk run`: everything `make run` does: prepare, first-run set-up, then serve with a worker.

Like `socdesk serve`, this only starts and stops processes and runs without Django set up (see
socdesk.cli): the set-up (migrations, admin, demo data) runs in a child that exits before serving
starts, so none of its memory stays with the processes that keep running.
"""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from socdesk.core.bind import url_for_bind
from socdesk.core.management.commands.serve import serve, socdesk_argv
from socdesk.core.supervise import Child


class Command(BaseCommand):
    help = (
        "Migrate, collect static files, on the first run create the admin (password printed once) and "
        "demo data, then serve the web app and a worker until Ctrl-C. A second run reuses the data."
    )
    # The system checks need the apps loaded; the `prepare` child runs them instead.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=settings.SOCDESK_BIND, help="host:port (default from PORT).")
        parser.add_argument("--workers", type=int, default=settings.SOCDESK_WEB_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.SOCDESK_WEB_THREADS)
        parser.add_argument("--no-demo", action="store_true", help="Do not seed demo data on the first run.")
        parser.add_argument("--demo-tickets", type=int, default=200, help="Demo tickets on the first run.")

    def handle(
        self,
        *args: Any,
        bind: str,
        workers: int,
        threads: int,
        no_demo: bool,
        demo_tickets: int,
        **options: Any,
    ) -> None:
        prepare = socdesk_argv("prepare", f"--bind={bind}", f"--demo-tickets={demo_tickets}")
        if no_demo:
            prepare.append("--no-demo")
        if options["verbosity"] != 1:
            prepare.append(f"--verbosity={options['verbosity']}")
        self.stdout.write(f"SOCdesk is starting on {url_for_bind(bind) or bind}. Press Ctrl-C to stop.")
        sys.stdout.flush()
        code = serve(
            bind=bind,
            workers=workers,
            threads=threads,
            with_worker=True,
            say=self.stdout.write,
            before=[Child("set-up", prepare)],
        )
        if code:
            raise CommandError(f"SOCdesk stopped because a process exited with code {code}.", returncode=code)
