"""`socdesk upgrade`: bring the database and static files up to this version."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser, OutputWrapper
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = (
        "Apply database migrations, create the cache table (when the cache is in the database) and "
        "collect static files. Idempotent: run it on every deploy, before `socdesk serve`. With --check, "
        "change nothing and exit 1 when migrations are missing (what `socdesk serve` warns about)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Only say whether migrations are missing (exit 1 if so)."
        )

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        if check:
            pending = unapplied_migrations()
            if pending:
                self.stderr.write(
                    f"Warning: {pending} database migration(s) are not applied; run `socdesk upgrade`."
                )
                sys.exit(1)
            return
        upgrade(stdout=self.stdout, verbosity=options["verbosity"])


def unapplied_migrations() -> int:
    """How many migrations of this version the database still lacks."""
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def upgrade(*, stdout: OutputWrapper | TextIO, verbosity: int = 1) -> None:
    quiet = max(0, verbosity - 1)
    stdout.write("Applying database migrations...")
    call_command("migrate", interactive=False, verbosity=quiet, stdout=stdout)
    stdout.write("Collecting static files...")
    call_command("collectstatic", interactive=False, verbosity=quiet, stdout=stdout)
