"""`socdesk department create|list`: departments from the shell, so an install can be scripted end to end."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from socdesk.accounts.models import Department
from socdesk.accounts.services import department_create
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError

CLI_ACTOR = Actor.system("cli:department")


class Command(BaseCommand):
    help = "Create and list departments (tickets, alert tickets included, always belong to one)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="Create a department (audited).")
        create.add_argument("--name", required=True, help="Its name, e.g. SOC; the slug is derived from it.")
        create.add_argument("--email", default="", help="The department's email address (optional).")
        create.add_argument("--description", default="", help="A line describing it (optional).")
        sub.add_parser("list", help="Show every department with its slug.")

    def handle(self, *args, subcommand: str, **opts):
        if subcommand == "create":
            name = opts["name"].strip()
            if not name:
                raise CommandError("--name is empty; give the department a name, e.g. --name SOC.")
            try:
                department = department_create(
                    actor=CLI_ACTOR, name=name, email=opts["email"], description=opts["description"]
                )
            except ServiceError as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(f"Created department {department.name!r} (slug {department.slug}).")
            return
        departments = Department.objects.order_by("name")
        if not departments:
            self.stdout.write("No departments yet: `socdesk department create --name SOC` makes one.")
        for department in departments:
            self.stdout.write(f"{department.slug}\t{department.name}")
