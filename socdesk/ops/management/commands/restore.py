"""`socdesk restore PATH`: restore a `socdesk backup` archive, migrate it forward, verify the audit chain."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console

from socdesk.ops.backup import BackupError, backup_restore
from socdesk.ops.management.commands.backup import progress_bar, reporter


class Command(BaseCommand):
    help = (
        "Restore a backup into the configured database and attachments directory. Checks every checksum "
        "first; refuses a database that holds data unless --force. Stop serve and worker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The .tar written by `socdesk backup`.")
        parser.add_argument(
            "--force", action="store_true", help="Replace a database that already holds data (all of it)."
        )

    def handle(self, *args, path, force, **options):
        console = Console(stderr=True)
        try:
            with progress_bar(console) as bar:
                report = backup_restore(Path(path), force=force, progress=reporter(bar))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        manifest = report.manifest
        recorded = manifest["counts"]["tickets"]
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} (SOCdesk {manifest['socdesk_version']}): "
            f"{report.tickets} tickets (the backup recorded {recorded}), "
            f"{report.attachments} attachment file(s)."
        )
        if report.migrations_applied:
            self.stdout.write(
                f"Applied {report.migrations_applied} migration(s): the backup was older than this version."
            )
        for message in report.messages:
            self.stdout.write(f"Note: {message}.")
        if report.audit_ok:
            self.stdout.write(
                self.style.SUCCESS(f"Audit chain OK: {report.audit_checked} events checked, chain intact.")
            )
            return
        self.stderr.write(
            f"Audit chain BROKEN after restore: {report.audit_problem}. "
            "The data is restored; investigate before "
            "serving it (socdesk audit verify)."
        )
        sys.exit(1)
