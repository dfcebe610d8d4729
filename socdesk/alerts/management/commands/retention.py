"""`socdesk retention show|set|run`: retention per department, and a purge on demand (or a dry run)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from socdesk.accounts.models import Department
from socdesk.accounts.services import department_set_retention
from socdesk.alerts.retention import RetentionReport, retention_policies, retention_run
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError

CLI_ACTOR = Actor.system("cli:retention")
# Safety stop for `run`: passes until nothing is left, at most this many.
MAX_PASSES = 10_000


def parse_days(option: str, value: str | None) -> int | None:
    """`--raw-payload-days 30` (days) or `default` (the environment's default, i.e. an empty setting)."""
    if value is None or value == "default":
        return None
    if not value.isdigit() or int(value) < 1:
        raise CommandError(f"{option} {value!r} is not a number of days (1 or more) or 'default'.")
    return int(value)


def _days(days: int | None) -> str:
    return f"{days} days" if days else "forever"


class Command(BaseCommand):
    help = "Show or set how long each department keeps raw alert payloads and closed tickets; purge now."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("show", help="Each department's retention and the audit trail's.")
        change = sub.add_parser("set", help="Set a department's retention ('default': the environment's).")
        change.add_argument("department", metavar="SLUG")
        change.add_argument("--raw-payload-days", metavar="DAYS|default")
        change.add_argument("--closed-ticket-days", metavar="DAYS|default")
        run = sub.add_parser("run", help="Purge everything due now, in batches (what the worker does).")
        run.add_argument("--dry-run", action="store_true", help="Show what would be deleted; delete nothing.")
        run.add_argument("--batch", type=int, help="Rows per transaction (default SOCDESK_RETENTION_BATCH).")

    def handle(self, *args, subcommand, **opts):
        console = Console(file=self.stdout, width=120)  # type: ignore[arg-type]
        if subcommand == "show":
            return self.show(console)
        if subcommand == "set":
            return self.change(opts)
        return self.run(console, dry_run=opts["dry_run"], batch=opts.get("batch"))

    def show(self, console: Console) -> None:
        table = Table("department", "raw payloads", "closed tickets")
        for policy in retention_policies():
            table.add_row(
                policy.department.slug, _days(policy.raw_payload_days), _days(policy.closed_ticket_days)
            )
        console.print(table)
        console.print(f"audit events: {_days(settings.SOCDESK_AUDIT_RETENTION_DAYS)}")

    def change(self, opts) -> None:
        try:
            department = Department.objects.get(slug=opts["department"])
        except Department.DoesNotExist:
            slugs = ", ".join(Department.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No department {opts['department']!r}; departments: {slugs}.") from None
        raw = opts.get("raw_payload_days")
        closed = opts.get("closed_ticket_days")
        try:
            department = department_set_retention(
                actor=CLI_ACTOR,
                department=department,
                raw_payload_days=(
                    parse_days("--raw-payload-days", raw)
                    if raw is not None
                    else department.raw_payload_retention_days
                ),
                closed_ticket_days=(
                    parse_days("--closed-ticket-days", closed)
                    if closed is not None
                    else department.closed_ticket_retention_days
                ),
            )
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{department.slug}: raw payloads {department.raw_payload_retention_days or 'default'} days, "
            f"closed tickets {department.closed_ticket_retention_days or 'default'} days."
        )

    def run(self, console: Console, *, dry_run: bool, batch: int | None) -> None:
        if batch is not None and batch < 1:
            raise CommandError(f"--batch {batch} must be 1 or more.")
        if dry_run:
            self.report(console, retention_run(actor=CLI_ACTOR, dry_run=True, batch=batch), "would delete")
            return
        totals: dict[str, list[int]] = {}
        audit_events = 0
        with console.status("purging") as status:
            for passes in range(1, MAX_PASSES + 1):
                report = retention_run(actor=CLI_ACTOR, batch=batch)
                for d in report.departments:
                    row = totals.setdefault(d.department.slug, [0, 0, 0, 0, 0, 0])
                    counts = (
                        d.raw_payloads,
                        d.deliveries,
                        d.tickets,
                        d.alerts,
                        d.thread_entries,
                        d.attachments,
                    )
                    for i, n in enumerate(counts):
                        row[i] += n
                audit_events += report.audit.events if report.audit else 0
                status.update(f"purging: pass {passes}")
                if not report.anything:
                    break
        table = Table(
            "department", "raw payloads", "deliveries", "tickets", "alerts", "thread entries", "attachments"
        )
        for slug, row in totals.items():
            table.add_row(slug, *map(str, row))
        console.print(table)
        console.print(f"audit events: {audit_events}")
        console.print("deleted (each pass recorded in the audit trail as retention.purged / audit.purged)")

    def report(self, console: Console, report: RetentionReport, verb: str) -> None:
        table = Table(
            "department",
            "raw payloads",
            "deliveries",
            "cut-off",
            "tickets",
            "alerts",
            "thread entries",
            "attachments",
            "cut-off",
        )
        for d in report.departments:
            table.add_row(
                d.department.slug,
                str(d.raw_payloads),
                str(d.deliveries),
                f"{d.raw_payload_cutoff:%Y-%m-%d %H:%M}" if d.raw_payload_cutoff else "keep",
                str(d.tickets),
                str(d.alerts),
                str(d.thread_entries),
                str(d.attachments),
                f"{d.closed_ticket_cutoff:%Y-%m-%d %H:%M}" if d.closed_ticket_cutoff else "keep",
            )
        console.print(table)
        audit = report.audit
        console.print(
            f"audit events: {audit.events} (before {audit.cutoff:%Y-%m-%d %H:%M})"
            if audit
            else "audit events: keep"
        )
        console.print(f"dry run: {verb} the above; nothing was deleted.")
