"""`socdesk prepare`: what `socdesk run` does before it serves (upgrade, first-run admin and demo)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from socdesk.core.bind import url_for_bind
from socdesk.core.management.commands.upgrade import upgrade
from socdesk.demo.management.commands.demo import seed
from socdesk.ops.management.commands.bootstrap import run_bootstrap


class Command(BaseCommand):
    help = (
        "Migrate, collect static files and, on the first run, create the admin (password printed once) "
        "and demo data. `socdesk run` does this in a process of its own, then serves; a second run "
        "reuses the data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=settings.SOCDESK_BIND, help="host:port the URL is shown for.")
        parser.add_argument("--no-demo", action="store_true", help="Do not seed demo data on the first run.")
        parser.add_argument("--demo-tickets", type=int, default=200, help="Demo tickets on the first run.")

    def handle(self, *args, bind, no_demo, demo_tickets, **options):
        url = url_for_bind(bind)
        upgrade(stdout=self.stdout, verbosity=options["verbosity"])
        first_run = run_bootstrap(username="admin", email="admin@localhost", url=url, stdout=self.stdout)
        if first_run and not no_demo:
            seed(tickets=demo_tickets, stdout=self.stdout)
        where = "PostgreSQL" if settings.DATABASE_URL else f"SQLite in {settings.DATA_DIR}"
        self.stdout.write(f"SOCdesk is prepared for {url or bind} (data: {where}).")
