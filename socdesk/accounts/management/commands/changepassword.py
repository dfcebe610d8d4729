"""`socdesk changepassword [USERNAME]`: Django's command, but the change goes through user_set_password,
so it is validated and audited (`user.password_changed`) like a change made in the admin."""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from socdesk.accounts.services import user_set_password
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError

MAX_TRIES = 3


class Command(BaseCommand):
    help = "Change a login's password (validated, and recorded in the audit trail)."
    requires_migrations_checks = True
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="Login whose password to change (default: you).")

    def handle(self, *args, **options):
        username = options["username"] or getpass.getuser()
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no login {username!r}; `socdesk shell` can list them.")
        # The shell account that ran the command is the best name there is for who did it.
        actor = Actor.system(f"cli:changepassword ({getpass.getuser()})")
        self.stdout.write(f"Changing password for user '{username}'")
        for _try in range(MAX_TRIES):
            first = getpass.getpass("Password: ")
            if first != getpass.getpass("Password (again): "):
                self.stderr.write("Passwords do not match. Please try again.")
                continue
            try:
                user_set_password(actor=actor, user=user, password=first)
            except ServiceError as exc:
                self.stderr.write(exc.message)
                continue
            self.stdout.write(f"Password changed successfully for user '{username}'.")
            return
        raise CommandError(f"Aborting password change for user '{username}' after {MAX_TRIES} attempts.")
