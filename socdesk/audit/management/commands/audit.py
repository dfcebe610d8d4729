"""`socdesk audit verify` and `socdesk audit export`."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from socdesk.audit.models import HASHED_FIELDS, AuditEvent
from socdesk.audit.services import seal_pending
from socdesk.audit.verify import verify_chain


class Command(BaseCommand):
    help = "Verify the audit chain or export the audit trail as JSON lines."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="Recompute the hash chain; exit 1 naming the first broken event.")
        export = sub.add_parser("export", help="Write events as JSON lines (to stdout or --output).")
        export.add_argument("--output", "-o", help="File to write instead of stdout.")
        export.add_argument("--since", help="Only events at or after this ISO date/time.")
        export.add_argument("--action", help="Only events with this action (e.g. ticket.assigned).")

    def handle(self, *args, subcommand, **opts):
        if subcommand == "verify":
            return self.verify()
        return self.export(opts)

    def verify(self):
        sealed = seal_pending()
        total = AuditEvent.objects.count()
        console = Console(stderr=True)
        with Progress(
            TextColumn("checking audit chain"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("verify", total=total)
            result = verify_chain(progress=lambda n: progress.update(task, completed=n))
        if sealed:
            self.stdout.write(f"Sealed {sealed} pending event(s) into the chain first.")
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {result.checked} audit events checked, chain intact."))
            return
        self.stderr.write(
            f"BROKEN: audit event id={result.broken_event_id} (seq {result.broken_seq}): {result.reason}. "
            f"{result.checked} events before it matched."
        )
        sys.exit(1)

    def export(self, opts):
        events = AuditEvent.objects.order_by("id")
        if opts.get("since"):
            since = parse_datetime(opts["since"])
            if since is None:
                raise CommandError(
                    f"--since {opts['since']!r} is not an ISO date/time such as 2026-11-01T00:00:00Z."
                )
            events = events.filter(occurred_at__gte=since)
        if opts.get("action"):
            events = events.filter(action=opts["action"])
        out = open(opts["output"], "w", encoding="utf-8") if opts.get("output") else self.stdout  # noqa: SIM115
        count = 0
        try:
            for event in events.iterator(chunk_size=2000):
                row: dict[str, Any] = {"id": event.id, "seq": event.seq}
                row.update({name: getattr(event, name) for name in HASHED_FIELDS})
                row["occurred_at"] = event.occurred_at.isoformat()
                row.update(
                    content_hash=event.content_hash, prev_hash=event.prev_hash, chain_hash=event.chain_hash
                )
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        finally:
            if out is not self.stdout:
                out.close()
                self.stderr.write(f"Exported {count} events to {opts['output']}.")
