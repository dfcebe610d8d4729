"""`socdesk reports rebuild` (every roll-up from the tickets) and `socdesk reports fold` (the journal now)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from socdesk.reports.fold import FOLD_BATCH, REBUILD_BATCH, fold, rebuild


class Command(BaseCommand):
    help = (
        "SOC metrics' roll-ups: `rebuild` recomputes them from every ticket (after an upgrade, or to check "
        "them); `fold` folds the tickets changed since the last fold (the worker does it every few seconds)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        build = sub.add_parser("rebuild", help="Recompute every fact and roll-up from the tickets.")
        build.add_argument("--batch", type=int, default=REBUILD_BATCH, help="Tickets read at a time.")
        folding = sub.add_parser("fold", help="Fold the journal of changed tickets into the roll-ups now.")
        folding.add_argument("--batch", type=int, default=FOLD_BATCH, help="Journal rows per transaction.")

    def handle(self, *args, subcommand, **opts):
        if opts["batch"] < 1:
            raise CommandError("--batch must be at least 1.")
        started = time.monotonic()
        if subcommand == "fold":
            report = fold(batch=opts["batch"])
            self.stdout.write(f"Folded {report.tickets} ticket(s) from {report.journal_rows} journal row(s).")
            return
        with Progress(
            TextColumn("Rebuilding roll-ups"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress:
            task = progress.add_task("rebuild", total=None)
            counted = rebuild(
                batch=opts["batch"],
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        self.stdout.write(
            f"Rebuilt the roll-ups from {counted} ticket(s) in {time.monotonic() - started:.1f} s."
        )
