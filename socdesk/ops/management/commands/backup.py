"""`socdesk backup [PATH]`: a consistent online copy of the database and attachments in one .tar."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from socdesk.ops.backup import BackupError, backup_create


def progress_bar(console: Console) -> Progress:
    """The bar both commands show: what is being done, and how far when the total is known."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    )


def reporter(bar: Progress):
    """A progress callback for socdesk.ops.backup that drives one bar line per stage."""
    tasks: dict[str, TaskID] = {}

    def report(what: str, done: int, total: int | None) -> None:
        if what not in tasks:
            tasks[what] = bar.add_task(what, total=total)
        bar.update(tasks[what], completed=done, total=total)

    return report


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the running SOCdesk (database via SQLite's backup API or pg_dump, plus "
        "the attachments and a manifest of checksums) to one .tar file. Safe while serve and worker run."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            help="The archive to write, or a directory to write socdesk-backup-<UTC time>.tar in "
            "(default: the current directory).",
        )

    def handle(self, *args, path=None, **options):
        target = Path(path or ".")
        if target.is_dir():
            target = target / f"socdesk-backup-{timezone.now():%Y%m%dT%H%M%SZ}.tar"
        console = Console(stderr=True)
        try:
            with progress_bar(console) as bar:
                manifest = backup_create(target, progress=reporter(bar))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        counts, head = manifest["counts"], manifest["audit_head"]
        self.stdout.write(
            f"Backup written to {target.resolve()}: {manifest['vendor']} database with {counts['tickets']} "
            f"tickets, {counts['alerts']} alerts, {counts['audit_events']} audit events (chain head seq "
            f"{head['seq']}), {len(manifest['members']) - 1} attachment file(s)."
        )
