"""`socdesk ping_worker`: prove that a worker is consuming the queue."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from huey.exceptions import ResultTimeout

from socdesk.core.tasks import ping


class Command(BaseCommand):
    help = "Enqueue a ping job and wait for a worker to answer it (exit 1 if none does in time)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=10.0, help="Seconds to wait (default 10).")

    def handle(self, *args: Any, timeout: float, **options: Any) -> None:
        token = secrets.token_hex(8)
        result = ping(token)
        try:
            # Revoked on timeout so that a worker starting later does not answer a ping nobody awaits.
            answer = result.get(blocking=True, timeout=timeout, revoke_on_timeout=True)
        except ResultTimeout:
            raise CommandError(
                f"No worker answered within {timeout:g}s. Start one with `socdesk worker` "
                "(or `socdesk serve`), and check that it uses the same REDIS_URL / SOCDESK_DATA_DIR."
            ) from None
        if answer.get("token") != token:
            raise CommandError("A worker answered with someone else's ping; the queue is shared oddly.")
        self.stdout.write(f"Worker answered: host {answer['host']}, pid {answer['pid']}.")
