"""`socdesk tickets autoclose`: close the resolved tickets that are due now (what the worker does)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from socdesk.tickets.services import tickets_autoclose, tickets_due_for_autoclose


class Command(BaseCommand):
    help = "Work on tickets from the command line: close resolved tickets whose quiet period has passed."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        autoclose = sub.add_parser(
            "autoclose",
            help="Close resolved tickets resolved longer ago than their department's auto-close days "
            "without a requester reply since (as the 'system' actor, audited).",
        )
        autoclose.add_argument(
            "--dry-run", action="store_true", help="List what would be closed; change nothing."
        )

    def handle(self, *args, subcommand, dry_run=False, **opts):
        if dry_run:
            due = tickets_due_for_autoclose(timezone.now(), limit=10_000)
            for ticket in due:
                self.stdout.write(f"would close {ticket.number}")
            self.stdout.write(f"{len(due)} resolved tickets would be closed.")
            return
        total = 0
        while True:  # passes of at most 500 until nothing is due
            report = tickets_autoclose()
            for number in report.closed:
                self.stdout.write(f"closed {number}")
            total += len(report.closed)
            if not report.closed:
                break
        self.stdout.write(self.style.SUCCESS(f"{total} resolved tickets closed."))
