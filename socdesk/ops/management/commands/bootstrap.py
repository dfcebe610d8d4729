"""`socdesk bootstrap`: create the first admin (password printed once)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.panel import Panel

from socdesk.core.bind import url_for_bind
from socdesk.core.errors import ServiceError
from socdesk.ops.bootstrap import bootstrap


class Command(BaseCommand):
    help = (
        "Create the first admin login with a generated password, printed once, if no superuser exists; "
        "give `createsuperuser` users their admin agent profile. Safe to run on every start."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--username", default="admin", help="Login name of the first admin (default admin)."
        )
        parser.add_argument("--email", default="admin@localhost", help="Email of the first admin.")

    def handle(self, *args, username: str, email: str, **options):
        run_bootstrap(
            username=username, email=email, url=url_for_bind(settings.SOCDESK_BIND), stdout=self.stdout
        )


def run_bootstrap(*, username: str, email: str, url: str | None, stdout) -> bool:
    """Bootstrap and print the outcome; returns True when the admin was created now."""
    console = Console(file=getattr(stdout, "_out", stdout), highlight=False)
    try:
        result = bootstrap(username=username, email=email)
    except ServiceError as exc:
        raise CommandError(f"Could not create the first admin: {exc.message}") from exc
    for name in result.agents_linked:
        console.print(f"Superuser {name} is now an admin agent.")
    if not result.admin_created:
        return False
    lines = [
        f"URL:       {url or '(your server address)'}",
        f"Username:  {result.username}",
        f"Password:  {result.password}",
        "",
        "This password is shown only this once and is stored only as a hash.",
        "Write it down now, then change it after signing in.",
    ]
    console.print(Panel("\n".join(lines), title="SOCdesk admin login", border_style="green", expand=False))
    return True
