"""`socdesk sla scan`: one SLA scan now (the worker runs it every 30 seconds)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from socdesk.routing.services.sla_scan import SCAN_BATCH, sla_scan


class Command(BaseCommand):
    help = "SLA clocks: `scan` checks every clock that is due, writes at-risk/breached and escalates."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        scan = sub.add_parser("scan", help="Check the clocks whose next check has come and escalate.")
        scan.add_argument("--batch", type=int, default=SCAN_BATCH, help="Clocks claimed at a time.")

    def handle(self, *args, subcommand, **opts):
        if opts["batch"] < 1:
            raise CommandError("--batch must be at least 1.")
        report = sla_scan(batch=opts["batch"])
        self.stdout.write(f"Checked {report.checked} SLA clock(s); {report.escalations} escalation(s).")
