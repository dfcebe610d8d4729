"""`socdesk upgrade`: bring the database and static files up to this version."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, OutputWrapper


class Command(BaseCommand):
    help = (
        "Apply database migrations, create the cache table (when the cache is in the database) and "
        "collect static files. Idempotent: run it on every deploy, before `socdesk serve`."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        upgrade(stdout=self.stdout, verbosity=options["verbosity"])


def upgrade(*, stdout: OutputWrapper, verbosity: int = 1) -> None:
    quiet = max(0, verbosity - 1)
    stdout.write("Applying database migrations...")
    call_command("migrate", interactive=False, verbosity=quiet, stdout=stdout)
    stdout.write("Collecting static files...")
    call_command("collectstatic", interactive=False, verbosity=quiet, stdout=stdout)
