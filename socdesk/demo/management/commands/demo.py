"""`socdesk demo`: seed realistic demo data (once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from socdesk.core.errors import ServiceError
from socdesk.demo.seed import demo_already_seeded, seed_demo


class Command(BaseCommand):
    help = (
        "Create demo departments, agents, teams, contacts and a month of tickets. Idempotent: does nothing "
        "when the demo was seeded before. Demo agents cannot sign in unless SOCDESK_DEMO_PASSWORD is set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=200, help="How many tickets (default 200).")
        parser.add_argument(
            "--days", type=int, default=30, help="Spread them over this many days (default 30)."
        )
        parser.add_argument(
            "--no-alerts",
            action="store_true",
            help="Skip sending each tool's sample alert through the ingest pipeline.",
        )

    def handle(self, *args, tickets: int, days: int, no_alerts: bool = False, **options):
        if tickets < 1 or days < 1:
            raise CommandError("--tickets and --days must be at least 1.")
        seed(tickets=tickets, days=days, stdout=self.stdout, alerts=not no_alerts)


def seed(*, tickets: int = 200, days: int = 30, stdout, alerts: bool = True) -> bool:
    """Seed with a progress bar; returns True when data was added."""
    console = Console(file=getattr(stdout, "_out", stdout), highlight=False)
    if demo_already_seeded():
        console.print("Demo data is already present; nothing added.")
        return False
    with Progress(
        TextColumn("seeding demo tickets"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("demo", total=tickets)
        try:
            result = seed_demo(
                tickets=tickets,
                days=days,
                progress=lambda done, _total: progress.update(task, completed=done),
                alerts=alerts,
            )
        except ServiceError as exc:
            raise CommandError(f"Seeding the demo failed and nothing was saved: {exc.message}") from exc
    console.print(
        f"Demo data added: {result.tickets} tickets, {result.agents} agents"
        + (f", {result.alerts} sample alerts from 7 security tools." if result.alerts else ".")
    )
    return result.created
