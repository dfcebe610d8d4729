"""`socdesk search rebuild`: rewrite every ticket's search document."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from socdesk.tickets.search import search_rebuild


class Command(BaseCommand):
    help = "Rebuild the ticket search index (after a restore, an upgrade, or to tidy it)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser(
            "rebuild",
            help="Rewrite every ticket's search document, a thousand tickets per transaction; "
            "safe while SOCdesk runs.",
        )

    def handle(self, *args, subcommand, **opts):
        started = time.monotonic()
        with Progress(
            TextColumn("indexing tickets"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress:
            task = progress.add_task("rebuild", total=None)
            done = search_rebuild(progress=lambda n, total: progress.update(task, completed=n, total=total))
        seconds = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Search index rebuilt: {done} tickets in {seconds:.1f} s."))
