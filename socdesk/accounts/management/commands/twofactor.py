"""`socdesk twofactor status|reset USERNAME`: an agent's two-factor sign-in, from the shell."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from socdesk.accounts.models import Agent
from socdesk.accounts.twofactor import (
    has_two_factor,
    recovery_codes_left,
    two_factor_required,
    two_factor_reset,
)
from socdesk.core.actor import Actor

CLI_ACTOR = Actor.system("cli:twofactor")


class Command(BaseCommand):
    help = "Show or reset an agent's two-factor sign-in (reset: lost phone and recovery codes)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, text in (
            ("status", "Whether the agent uses two-factor sign-in and must."),
            ("reset", "Remove the agent's authenticator and recovery codes (audited)."),
        ):
            sub.add_parser(name, help=text).add_argument("username")

    def handle(self, *args, subcommand: str, username: str, **options):
        agent = Agent.objects.select_related("user").filter(user__username__iexact=username).first()
        if agent is None:
            raise CommandError(f"No agent has the username {username!r}.")
        if subcommand == "status":
            enrolled = has_two_factor(agent.user)
            self.stdout.write(
                f"{agent.user.get_username()}: two-factor sign-in {'on' if enrolled else 'off'}"
                + (f", {recovery_codes_left(agent.user)} recovery codes left" if enrolled else "")
                + (", required" if two_factor_required(agent) else ", not required")
            )
            return
        if not two_factor_reset(actor=CLI_ACTOR, agent=agent):
            raise CommandError(f"{agent.user.get_username()} has no two-factor sign-in to reset.")
        then = (
            "must enroll again at their next sign-in"
            if two_factor_required(agent)
            else "signs in with the password"
        )
        self.stdout.write(f"Two-factor sign-in reset for {agent.user.get_username()}: they {then}.")
