"""`socdesk run`: everything `make run` does: prepare, first-run set-up, then serve with a worker."""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from socdesk.core.bind import url_for_bind
from socdesk.core.management.commands.serve import serve
from socdesk.core.management.commands.upgrade import upgrade
from socdesk.demo.management.commands.demo import seed
from socdesk.ops.management.commands.bootstrap import run_bootstrap


class Command(BaseCommand):
    help = (
        "Migrate, collect static files, on the first run create the admin (password printed once) and "
        "demo data, then serve the web app and a worker until Ctrl-C. A second run reuses the data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=settings.SOCDESK_BIND, help="host:port (default from PORT).")
        parser.add_argument("--workers", type=int, default=settings.SOCDESK_WEB_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.SOCDESK_WEB_THREADS)
        parser.add_argument("--no-demo", action="store_true", help="Do not seed demo data on the first run.")
        parser.add_argument("--demo-tickets", type=int, default=200, help="Demo tickets on the first run.")

    def handle(self, *args, bind, workers, threads, no_demo, demo_tickets, **options):
        url = url_for_bind(bind)
        upgrade(stdout=self.stdout, verbosity=options["verbosity"])
        first_run = run_bootstrap(username="admin", email="admin@localhost", url=url, stdout=self.stdout)
        if first_run and not no_demo:
            seed(tickets=demo_tickets, stdout=self.stdout)
        where = "PostgreSQL" if settings.DATABASE_URL else f"SQLite in {settings.DATA_DIR}"
        self.stdout.write(f"SOCdesk is starting on {url or bind} (data: {where}). Press Ctrl-C to stop.")
        sys.stdout.flush()
        code = serve(bind=bind, workers=workers, threads=threads, with_worker=True, say=self.stdout.write)
        if code:
            raise CommandError(f"SOCdesk stopped because a process exited with code {code}.", returncode=code)
