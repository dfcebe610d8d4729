"""Writes for bringing an agent on board from one form: the login, its profile, its department roles and
teams in one audited call, later changes to the same, and the set-password link a new agent signs in with.

The rules that already exist elsewhere (a free username, the last active superuser, password strength)
are the user_* and agent_* services' in socdesk.accounts.services; these services call them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, Department, DepartmentAccess, Role, Team
from socdesk.accounts.selectors import departments_with_perm
from socdesk.accounts.services import agent_insert, user_edit, user_set_flags
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.core.text import clean_text

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

# Backends that print or drop mail instead of delivering it: with one of these nothing is "sent".
NON_DELIVERING_BACKENDS = frozenset(
    {
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    }
)


def _memberships(agent: Agent) -> dict[str, object]:
    """The agent's department roles and teams, by name, as the audit trail shows them."""
    accesses = agent.accesses.select_related("department", "role").order_by("department__name")
    return {
        "departments": {a.department.name: a.role.name for a in accesses},
        "teams": sorted(agent.teams.values_list("name", flat=True)),
    }


def _check_profile(*, username: str, email: str) -> None:
    problems = {}
    if not username:
        problems["username"] = "Give the agent a username to sign in with."
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems["email"] = f"{email!r} is not an e-mail address."
    if problems:
        raise ServiceError(" ".join(problems.values()), fields=problems)


def _set_memberships(
    agent: Agent,
    roles: Mapping[Department, Role],
    teams: Iterable[Team],
    scope: Collection[int] | None = None,
) -> None:
    """Make the agent's department roles and team memberships exactly these; with a `scope` (department
    ids) only the roles in those departments and the teams of those departments are touched."""
    accesses = DepartmentAccess.objects.filter(agent=agent)
    if scope is not None:
        accesses = accesses.filter(department_id__in=scope)
    current = {a.department_id: a for a in accesses}
    for department, role in roles.items():
        access = current.pop(department.pk, None)
        if access is None:
            DepartmentAccess.objects.create(agent=agent, department=department, role=role)
        elif access.role_id != role.pk:
            access.role = role
            access.save(update_fields=["role"])
    DepartmentAccess.objects.filter(pk__in=[a.pk for a in current.values()]).delete()
    kept: list[Team] = []
    if scope is not None:  # memberships of teams outside the scope stay as they are
        kept = list(agent.teams.exclude(department_id__in=scope))
    agent.teams.set([*kept, *teams])


def _require_admin(actor: Actor) -> None:
    """Logins and their profiles are changed by admins (or system jobs) only."""
    if actor.agent is not None and not actor.agent.is_admin:
        raise PermissionDenied("Only an admin may create agents or change their logins.")


def _scope_of(actor: Actor) -> list[int] | None:
    """The departments whose roles and teams the actor may change: None for every one (an admin or a
    system job), else those where the actor's role has `manage`."""
    if actor.agent is None:
        if actor.kind == "system":
            return None
        raise PermissionDenied("Only agents may change agents' roles and teams.")
    return departments_with_perm(actor.agent, Perm.MANAGE)


@transaction.atomic
def agent_onboard(
    *,
    actor: Actor,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    roles: Mapping[Department, Role] | None = None,
    teams: Iterable[Team] = (),
    is_active: bool = True,
) -> Agent:
    """Create an agent from one form: login (no password yet: they set it from a link), profile,
    a role in each given department and team memberships, recorded as one `agent.created` event."""
    _require_admin(actor)
    username, email = clean_text(username).strip(), clean_text(email).strip()
    _check_profile(username=username, email=email)
    teams = list(teams)
    # agent_insert is agent_create's own writes (and its username rule) without its event: the creation
    # and its memberships are one change, recorded once below.
    agent = agent_insert(
        username=username,
        email=email,
        password=None,
        first_name=clean_text(first_name).strip(),
        last_name=clean_text(last_name).strip(),
    )
    if not is_active:
        agent.user.is_active = False
        agent.user.save(update_fields=["is_active"])
    _set_memberships(agent, roles or {}, teams)
    record(
        actor=actor,
        action="agent.created",
        target=agent,
        target_label=username,
        after={"username": username, "email": email, "is_active": is_active, **_memberships(agent)},
    )
    return agent


@transaction.atomic
def agent_update(
    *,
    actor: Actor,
    agent: Agent,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    roles: Mapping[Department, Role],
    teams: Iterable[Team],
    is_active: bool,
) -> Agent:
    """Change an agent from the same form: name fields and active through user_edit / user_set_flags
    (their rules and events), department roles and teams recorded as one `agent.memberships_changed`."""
    _require_admin(actor)
    username, email = clean_text(username).strip(), clean_text(email).strip()
    _check_profile(username=username, email=email)
    agent = Agent.objects.select_related("user").get(pk=agent.pk)
    user_edit(
        actor=actor,
        user=agent.user,
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    if is_active != agent.user.is_active:
        user_set_flags(actor=actor, user=agent.user, is_active=is_active)
    agent_memberships_set(actor=actor, agent=agent, roles=roles, teams=teams)
    agent.user.refresh_from_db()
    return agent


@transaction.atomic
def agent_memberships_set(
    *, actor: Actor, agent: Agent, roles: Mapping[Department, Role], teams: Iterable[Team]
) -> Agent:
    """Set an agent's department roles and teams, recorded as one `agent.memberships_changed`.

    An admin sets them all. A department lead (a role with `manage`) sets those of the departments they
    manage only: the agent's roles elsewhere and teams of other departments stay as they are, and naming
    another department or its team is refused.
    """
    scope = _scope_of(actor)
    teams = list(teams)
    if scope is not None:
        if not scope:
            raise PermissionDenied("You manage no department, so you cannot change agents' roles or teams.")
        outside = sorted(
            [d.name for d in roles if d.pk not in scope]
            + [t.name for t in teams if t.department_id not in scope]
        )
        if outside:
            raise PermissionDenied(
                f"You may only give roles and teams in the departments you manage, not: {', '.join(outside)}."
            )
    before = _memberships(agent)
    _set_memberships(agent, roles, teams, scope)
    after = _memberships(agent)
    if before != after:
        record(
            actor=actor,
            action="agent.memberships_changed",
            target=agent,
            target_label=agent.user.get_username(),
            before=before,
            after=after,
        )
    return agent


@dataclass(frozen=True)
class PasswordLink:
    """A set-password link for one login: shown to the admin once, and mailed when mail goes out."""

    url: str
    mailed_to: str  # empty: not mailed
    mail_problem: str  # why it was not mailed, as a sentence (empty when mailed)


def outbound_mail_configured() -> bool:
    """Whether EMAIL_BACKEND delivers mail somewhere (the default console backend only prints it)."""
    return settings.EMAIL_BACKEND not in NON_DELIVERING_BACKENDS


def password_link_path(user: User) -> str:
    """The path of the set-password page for this login, with Django's password-reset token: it stops
    working once the password is set (the token covers the password hash) or after PASSWORD_RESET_TIMEOUT."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("account-set-password", kwargs={"uidb64": uid, "token": token})


@transaction.atomic
def password_link_issue(*, actor: Actor, agent: Agent, base_url: str) -> PasswordLink:
    """Make a set-password link for the agent, mail it when outbound mail is configured and the agent
    has an address, and record `agent.password_link_issued` (never the link itself)."""
    _require_admin(actor)
    user = get_user_model().objects.get(pk=agent.user_id)
    if not user.is_active:
        raise ServiceError(
            f"{user.get_username()} is inactive; make the agent active before sending a set-password link.",
            fields={"is_active": "inactive"},
        )
    url = base_url.rstrip("/") + password_link_path(user)
    mailed_to, problem = "", ""
    if not user.email:
        problem = "The agent has no e-mail address, so the link was not mailed; give it to them yourself."
    elif not outbound_mail_configured():
        problem = (
            "Outbound mail is not configured (EMAIL_BACKEND), so the link was not mailed; "
            "give it to them yourself."
        )
    else:
        try:
            send_mail(
                subject="Set your SOCdesk password",
                message=(
                    f"Hello {agent.name},\n\nAn administrator created a SOCdesk login for you "
                    f"(username: {user.get_username()}).\nChoose your password here:\n\n{url}\n\n"
                    "The link works once and expires in "
                    f"{settings.PASSWORD_RESET_TIMEOUT // 3600} hours.\n"
                ),
                from_email=None,
                recipient_list=[user.email],
            )
            mailed_to = user.email
        except (OSError, ConnectionError) as exc:  # smtplib's errors are OSErrors
            log.warning("set-password mail to %s failed: %s", user.email, exc)
            problem = f"Mailing the link to {user.email} failed ({exc}); give it to them yourself."
    record(
        actor=actor,
        action="agent.password_link_issued",
        target=agent,
        target_label=user.get_username(),
        after={"mailed_to": mailed_to, "not_mailed_because": problem},
    )
    return PasswordLink(url=url, mailed_to=mailed_to, mail_problem=problem)
