"""`socdesk apikey create|list|revoke`: manage API keys from the shell (the key is shown once)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rich.console import Console
from rich.table import Table

from socdesk.accounts.models import Agent, ApiKey, Department
from socdesk.accounts.services import apikey_create, apikey_revoke, apikey_rotate
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError

CLI_ACTOR = Actor.system("cli:apikey")


def parse_expiry(value: str) -> datetime:
    """A date (expires at the start of that day, UTC) or an ISO date-time; naive times are UTC."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--expires {value!r} is not a date; use YYYY-MM-DD or an ISO date-time.")
        moment = datetime.combine(day, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


class Command(BaseCommand):
    help = "Create, list, rotate and revoke API keys. A new key is printed once, alone on the last line."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="Create a key and print it (shown once).")
        create.add_argument("--name", required=True, help="Which tool uses the key, e.g. kibana.")
        create.add_argument(
            "--allow",
            action="append",
            default=[],
            metavar="CIDR",
            help="Accept the key only from this address or range (repeatable; IPv4 or IPv6).",
        )
        create.add_argument(
            "--scope",
            action="append",
            default=[],
            metavar="SCOPE",
            help=f"Grant a scope (repeatable): {', '.join(ApiKey.SCOPES)}. Default: tickets:create.",
        )
        create.add_argument("--expires", help="Expiry date (YYYY-MM-DD, UTC) or ISO date-time.")
        create.add_argument("--department", metavar="SLUG", help="Default department for tickets.")
        create.add_argument("--agent", metavar="USERNAME", help="Make it this agent's personal token.")
        sub.add_parser("list", help="Show every key (never the key itself).")
        revoke = sub.add_parser("revoke", help="Revoke a key by its prefix.")
        revoke.add_argument("prefix")
        rotate = sub.add_parser(
            "rotate", help="Replace a key by a new one (printed once); the old one works for a grace period."
        )
        rotate.add_argument("prefix")
        rotate.add_argument(
            "--grace",
            type=int,
            metavar="SECONDS",
            help="How long the old key keeps working (default: SOCDESK_API_KEY_ROTATION_GRACE; 0: stop now).",
        )

    def handle(self, *args, subcommand, **opts):
        return getattr(self, f"do_{subcommand}")(opts)

    def do_create(self, opts):
        department = None
        if opts["department"]:
            department = Department.objects.filter(slug=opts["department"]).first()
            if department is None:
                known = ", ".join(Department.objects.values_list("slug", flat=True)) or "none yet"
                raise CommandError(f"No department with slug {opts['department']!r} (known: {known}).")
        agent = None
        if opts["agent"]:
            user = get_user_model().objects.filter(username=opts["agent"]).first()
            agent = Agent.objects.filter(user=user).first() if user else None
            if agent is None:
                raise CommandError(f"No agent with username {opts['agent']!r}.")
        expires_at = parse_expiry(opts["expires"]) if opts["expires"] else None
        try:
            key, raw = apikey_create(
                actor=CLI_ACTOR,
                name=opts["name"],
                scopes=opts["scope"] or ["tickets:create"],
                allowed_cidrs=opts["allow"],
                expires_at=expires_at,
                agent=agent,
                department=department,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        out = self.stdout
        out.write(f"Created API key {key.name!r} (prefix {key.prefix}).")
        out.write(f"  scopes:     {', '.join(key.scopes)}")
        out.write(f"  allow-list: {', '.join(key.allowed_cidrs) or 'any address'}")
        out.write(f"  expires:    {key.expires_at.isoformat() if key.expires_at else 'never'}")
        out.write(f"  department: {department.slug if department else 'default'}")
        if agent:
            out.write(f"  agent:      {agent.user.get_username()} (personal token)")
        out.write("Store it now: the key is shown only once and cannot be recovered.")
        out.write(raw)

    def do_list(self, opts):
        table = Table(title="API keys")
        for column in (
            "prefix",
            "name",
            "scopes",
            "allow-list",
            "department",
            "expires",
            "last used",
            "revoked",
        ):
            table.add_column(column)
        keys = ApiKey.objects.select_related("department", "agent__user").order_by("created_at", "pk")
        for key in keys:
            table.add_row(
                key.prefix,
                key.name + (f" (agent {key.agent.user.get_username()})" if key.agent else ""),
                ", ".join(key.scopes),
                ", ".join(key.allowed_cidrs) or "any",
                key.department.slug if key.department else "-",
                _when(key.expires_at) or "never",
                (_when(key.last_used_at) + f" from {key.last_used_ip}") if key.last_used_at else "never",
                _when(key.revoked_at) or ("rotated" if key.replaced_by_id else "no"),
            )
        # OutputWrapper is a TextIOBase, which typeshed does not count as an IO[str]; rich only writes to it.
        Console(file=self.stdout, width=160).print(table)  # type: ignore[arg-type]

    def do_rotate(self, opts):
        key = _key(opts["prefix"])
        grace = timedelta(seconds=opts["grace"]) if opts["grace"] is not None else None
        try:
            new_key, raw = apikey_rotate(actor=CLI_ACTOR, key=key, grace=grace)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        key.refresh_from_db()
        out = self.stdout
        out.write(f"Rotated API key {key.name!r}: prefix {key.prefix} -> {new_key.prefix}.")
        out.write(f"  old key works until: {_when(key.expires_at)}")
        out.write(f"  new key expires:     {_when(new_key.expires_at) or 'never'}")
        out.write("Store it now: the key is shown only once and cannot be recovered.")
        out.write(raw)

    def do_revoke(self, opts):
        key = _key(opts["prefix"])
        try:
            apikey_revoke(actor=CLI_ACTOR, key=key)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Revoked API key {key.name!r} (prefix {key.prefix}).")


def _key(prefix: str) -> ApiKey:
    key = ApiKey.objects.filter(prefix=prefix.strip()).first()
    if key is None:
        raise CommandError(f"No API key with prefix {prefix!r}; `socdesk apikey list` shows them.")
    return key


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""
