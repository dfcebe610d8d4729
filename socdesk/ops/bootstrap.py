"""First-run set-up: the first admin login, and agent profiles for `createsuperuser` users."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from socdesk.accounts.services import agent_create, agent_for_user
from socdesk.core.actor import Actor

_ALPHABET = string.ascii_lowercase + string.digits


def generate_password(groups: int = 4, size: int = 5) -> str:
    """A random password that is easy to read aloud and type, e.g. `k3vq8-…` (about 100 bits)."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(size)) for _ in range(groups))


@dataclass
class BootstrapResult:
    """What bootstrap did. `password` is set only when it created the admin, and is never stored."""

    admin_created: bool = False
    username: str = ""
    password: str | None = None
    agents_linked: list[str] = field(default_factory=list)


@transaction.atomic
def bootstrap(*, username: str = "admin", email: str = "admin@localhost") -> BootstrapResult:
    """Create the first admin if no superuser exists; give every superuser an admin agent profile.

    Safe to run on every start: once any superuser exists it creates no login.
    """
    result = BootstrapResult()
    User = get_user_model()
    # Superusers made with `createsuperuser` have no agent yet; give them one now so they show up
    # as admins in agent lists before their first sign-in.
    for user in User.objects.filter(is_superuser=True, agent__isnull=True):
        agent_for_user(user)
        result.agents_linked.append(user.get_username())
    if User.objects.filter(is_superuser=True).exists():
        return result
    password = generate_password()
    agent_create(
        actor=Actor.system("bootstrap"),
        username=username,
        email=email,
        password=password,
        first_name="Administrator",
        is_admin=True,
    )
    result.admin_created, result.username, result.password = True, username, password
    return result
