"""Single sign-on's one write path: an identity vouched for by a directory (an OpenID provider, LDAP)
becomes a signed-in agent, with department roles taken from the directory's groups.

Both socdesk.accounts.oidc and socdesk.accounts.ldap_backend call `directory_sign_in`; everything it
changes goes through the accounts services, so every agent created, profile edited and role granted or
withdrawn is in the audit trail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from socdesk.accounts.groupmap import GroupGrant, parse_group_map
from socdesk.accounts.models import Agent, Department, DepartmentAccess, ExternalIdentity, Role
from socdesk.accounts.services import access_grant, access_revoke, agent_create, user_edit
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError

log = logging.getLogger(__name__)

PROVIDER_LABELS = {"oidc": "OpenID Connect", "ldap": "LDAP"}


@dataclass(frozen=True)
class DirectoryProfile:
    """Who the directory says is signing in: its stable id for them, their names and their groups."""

    provider: str  # "oidc" | "ldap"
    subject: str  # the OIDC `sub` claim, or the LDAP entry's DN
    username: str
    email: str = ""
    email_verified: bool = False
    first_name: str = ""
    last_name: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)


class DirectoryRefusal(ServiceError):
    """A sign-in the directory vouched for but SOCdesk refuses (no mapped group, no agent, disabled)."""

    code = "sso_refused"

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason


def directory_sign_in(
    *,
    profile: DirectoryProfile,
    group_map: Mapping[str, Any],
    create_agents: bool,
    ip: str | None = None,
    map_name: str = "the group map",
) -> Agent:
    """The agent for a directory identity, found by subject or verified e-mail or created just in time,
    with its roles in the map's departments made to match the groups. Raises DirectoryRefusal (after
    recording it) when the person may not sign in; a refusal still withdraws the roles the directory
    gave, so someone taken out of every group loses access at once."""
    actor = Actor(kind="system", label=f"{profile.provider} sign-in", ident=profile.provider, ip=ip)
    refusal: DirectoryRefusal | None = None
    agent: Agent | None = None
    try:
        with transaction.atomic():
            wanted, managed = _wanted_accesses(parse_group_map(group_map, map_name), profile.groups, map_name)
            agent = _find_agent(actor, profile)
            if agent is None:
                if not wanted:
                    raise _no_group_refusal(profile)
                if not create_agents:
                    raise DirectoryRefusal(
                        f"There is no SOCdesk agent for {profile.email or profile.username}, and agents "
                        "are not created at first sign-in here. Ask an administrator to create your agent.",
                        reason="no_agent",
                    )
                agent = _create_agent(actor, profile)
            elif not agent.user.is_active:
                raise DirectoryRefusal(
                    "Your SOCdesk agent account is disabled. Ask an administrator to enable it.",
                    reason="inactive",
                )
            else:
                _update_profile(actor, agent, profile)
            _sync_accesses(actor, agent, wanted, managed)
            if not wanted:
                # Committed (the withdrawn roles stay withdrawn), then refused below.
                refusal = _no_group_refusal(profile)
            else:
                ExternalIdentity.objects.filter(
                    provider=profile.provider, subject=profile.subject, agent=agent
                ).update(last_sign_in_at=timezone.now())
    except DirectoryRefusal as exc:
        refusal = exc
    if refusal is not None:
        record_sign_in_refused(profile=profile, ip=ip, reason=refusal.reason, agent=agent)
        raise refusal
    assert agent is not None
    return agent


def record_sign_in_refused(
    *,
    profile: DirectoryProfile | None,
    ip: str | None,
    reason: str,
    provider: str = "",
    agent: Agent | None = None,
) -> None:
    """Audit a refused single sign-on (also used for forged or stale callbacks, where nobody is known)."""
    label = (profile.username or profile.email) if profile else "(unknown)"
    after: dict[str, Any] = {"reason": reason, "ip": ip, "method": profile.provider if profile else provider}
    if profile:
        after |= {"username": profile.username, "subject": profile.subject, "groups": sorted(profile.groups)}
    record(
        actor=Actor.anonymous(label, ip=ip),
        action="auth.login_failed",
        target=agent,
        target_type="" if agent else "user",
        target_label=label[:200],
        after=after,
    )


def _no_group_refusal(profile: DirectoryProfile) -> DirectoryRefusal:
    groups = ", ".join(sorted(profile.groups)) or "none"
    return DirectoryRefusal(
        "You signed in at the identity provider, but none of your groups gives access to a SOCdesk "
        f"department (your groups: {groups}). Ask an administrator to add you to a mapped group.",
        reason="no_mapped_group",
    )


def _wanted_accesses(
    grants_by_group: Mapping[str, tuple[GroupGrant, ...]], groups: frozenset[str], map_name: str
) -> tuple[dict[Department, Role], set[Department]]:
    """The role wanted in each department (the first matching grant in map order wins, so list the
    stronger group first), and every department the map manages."""
    departments: dict[str, Department] = {}
    roles: dict[str, Role] = {}

    def department(ref: str) -> Department:
        if ref not in departments:
            found = Department.objects.filter(Q(slug=ref) | Q(name__iexact=ref)).first()
            if found is None:
                raise DirectoryRefusal(
                    f"{map_name} names the department {ref!r}, which does not exist. "
                    "Ask an administrator to correct the map or create the department.",
                    reason="map_unknown_department",
                )
            departments[ref] = found
        return departments[ref]

    def role(ref: str) -> Role:
        if ref not in roles:
            found = Role.objects.filter(name__iexact=ref).first()
            if found is None:
                raise DirectoryRefusal(
                    f"{map_name} names the role {ref!r}, which does not exist. "
                    "Ask an administrator to correct the map or create the role.",
                    reason="map_unknown_role",
                )
            roles[ref] = found
        return roles[ref]

    wanted: dict[Department, Role] = {}
    managed: set[Department] = set()
    for group, grants in grants_by_group.items():
        for grant in grants:
            dept = department(grant.department)
            managed.add(dept)
            if group in groups and dept not in wanted:
                wanted[dept] = role(grant.role)
    return wanted, managed


def _find_agent(actor: Actor, profile: DirectoryProfile) -> Agent | None:
    """By the stored subject; else by a verified e-mail address, linking the subject for next time."""
    link = (
        ExternalIdentity.objects.select_related("agent__user")
        .filter(provider=profile.provider, subject=profile.subject)
        .first()
    )
    if link:
        return link.agent
    if not (profile.email and profile.email_verified):
        return None
    matches = list(Agent.objects.select_related("user").filter(user__email__iexact=profile.email)[:2])
    if len(matches) != 1:
        if matches:
            raise DirectoryRefusal(
                f"More than one SOCdesk agent has the e-mail address {profile.email}, so sign-in cannot "
                "tell which one is yours. Ask an administrator to fix the duplicate.",
                reason="ambiguous_email",
            )
        return None
    agent = matches[0]
    if ExternalIdentity.objects.filter(agent=agent, provider=profile.provider).exists():
        # Linked to another account at this provider: an e-mail address re-used there is not the same person.
        raise DirectoryRefusal(
            f"The SOCdesk agent with the e-mail address {profile.email} is linked to another "
            f"{PROVIDER_LABELS.get(profile.provider, profile.provider)} account. Ask an administrator.",
            reason="linked_elsewhere",
        )
    _link(actor, agent, profile)
    return agent


def _link(actor: Actor, agent: Agent, profile: DirectoryProfile) -> None:
    ExternalIdentity.objects.create(agent=agent, provider=profile.provider, subject=profile.subject)
    record(
        actor=actor,
        action="agent.identity_linked",
        target=agent,
        target_label=agent.user.get_username(),
        after={"provider": profile.provider, "subject": profile.subject},
    )


_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


def _create_agent(actor: Actor, profile: DirectoryProfile) -> Agent:
    """A new agent (no local password: it signs in through the directory) under a free username."""
    base = _USERNAME_UNSAFE.sub("", profile.username or profile.email.partition("@")[0])[:140] or "agent"
    username, n = base, 1
    user_model = get_user_model()
    while user_model.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    agent = agent_create(
        actor=actor,
        username=username,
        email=profile.email,
        password=None,
        first_name=profile.first_name[:150],
        last_name=profile.last_name[:150],
    )
    _link(actor, agent, profile)
    return agent


def _update_profile(actor: Actor, agent: Agent, profile: DirectoryProfile) -> None:
    """The directory is the source of truth for names and e-mail: carry its changes over (audited)."""
    user_edit(
        actor=actor,
        user=agent.user,
        email=profile.email or None,
        first_name=profile.first_name[:150] or None,
        last_name=profile.last_name[:150] or None,
    )


def _sync_accesses(
    actor: Actor, agent: Agent, wanted: dict[Department, Role], managed: set[Department]
) -> None:
    """Grant the wanted roles and withdraw roles in mapped departments the groups no longer give.
    Departments the map does not name are left to administrators."""
    current = {
        access.department_id: access.role_id
        for access in DepartmentAccess.objects.filter(agent=agent, department__in=managed)
    }
    for dept, role in wanted.items():
        if current.get(dept.pk) != role.pk:
            access_grant(actor=actor, agent=agent, department=dept, role=role)
    for dept in managed:
        if dept not in wanted and dept.pk in current:
            access_revoke(actor=actor, agent=agent, department=dept)
