"""Writes that change the shape of the organisation after creation: a department's name, e-mail and
description, a role's permissions, a team's name, department, lead and members. Each runs in one
transaction and records one audit event with what changed, before and after (nothing when nothing
changed). Creation is in socdesk.accounts.services."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from socdesk.accounts.choices import ALL_PERMS, Perm
from socdesk.accounts.models import Agent, Department, Role, Team
from socdesk.accounts.selectors import departments_with_perm
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.core.text import clean_text


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    names = [name for name in after if after[name] != before[name]]
    return {n: before[n] for n in names}, {n: after[n] for n in names}


@transaction.atomic
def department_update(
    *, actor: Actor, department: Department, name: str, email: str, description: str
) -> Department:
    """Rename a department or change its e-mail address and description (admins only; its slug, used
    by API requests and settings, stays). Retention is department_set_retention's."""
    if actor.agent is not None and not actor.agent.is_admin:
        raise PermissionDenied("Only an admin may change departments.")
    name, email, description = clean_text(name).strip(), clean_text(email).strip(), clean_text(description)
    if not name:
        raise ServiceError("Give the department a name.", fields={"name": "required"})
    if Department.objects.filter(name__iexact=name).exclude(pk=department.pk).exists():
        raise ServiceError(f"A department named {name!r} already exists.", fields={"name": "taken"})
    department = Department.objects.select_for_update().get(pk=department.pk)
    before = {"name": department.name, "email": department.email, "description": department.description}
    old, new = _changed(before, {"name": name, "email": email, "description": description})
    if new:
        for field, value in new.items():
            setattr(department, field, value)
        department.save(update_fields=list(new))
        record(actor=actor, action="department.changed", target=department, before=old, after=new)
    return department


@transaction.atomic
def role_update(
    *, actor: Actor, role: Role, name: str, permissions: Iterable[str], requires_two_factor: bool
) -> Role:
    """Rename a role, change its permissions and whether its holders must use a second factor (admins
    only: a role applies in every department that grants it)."""
    if actor.agent is not None and not actor.agent.is_admin:
        raise PermissionDenied("Only an admin may change roles.")
    name = clean_text(name).strip()
    perms = sorted(set(permissions))
    if not name:
        raise ServiceError("Give the role a name.", fields={"name": "required"})
    if Role.objects.filter(name__iexact=name).exclude(pk=role.pk).exists():
        raise ServiceError(f"A role named {name!r} already exists.", fields={"name": "taken"})
    unknown = set(perms) - ALL_PERMS
    if unknown:
        raise ServiceError(
            f"Unknown permission(s): {', '.join(sorted(unknown))}.", fields={"permissions": "unknown"}
        )
    role = Role.objects.select_for_update().get(pk=role.pk)
    before = {
        "name": role.name,
        "permissions": sorted(role.permissions),
        "requires_two_factor": role.requires_two_factor,
    }
    after = {"name": name, "permissions": perms, "requires_two_factor": requires_two_factor}
    old, new = _changed(before, after)
    if new:
        role.name, role.permissions, role.requires_two_factor = name, perms, requires_two_factor
        role.save(update_fields=["name", "permissions", "requires_two_factor"])
        record(actor=actor, action="role.changed", target=role, before=old, after=new)
    return role


def _team_snapshot(team: Team, members: Iterable[Agent]) -> dict[str, Any]:
    return {
        "name": team.name,
        "department": team.department.name if team.department else None,
        "lead": team.lead.user.get_username() if team.lead else None,
        "members": sorted(m.user.get_username() for m in members),
    }


@transaction.atomic
def team_update(
    *,
    actor: Actor,
    team: Team,
    name: str,
    department: Department | None,
    lead: Agent | None,
    members: Iterable[Agent],
) -> Team:
    """Change a team's name, department, lead and members; a department lead (not an admin) only for a
    team of a department they manage, and only keeping it in one."""
    managed = departments_with_perm(actor.agent, Perm.MANAGE) if actor.agent is not None else None
    if managed is not None and (
        team.department_id not in managed or department is None or department.pk not in managed
    ):
        raise PermissionDenied(
            "You may only change teams of a department you manage, and keep them in one.",
            fields={"department": "not_managed"},
        )
    name = clean_text(name).strip()
    if not name:
        raise ServiceError("Give the team a name.", fields={"name": "required"})
    if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
        raise ServiceError(f"A team named {name!r} already exists.", fields={"name": "taken"})
    # Lock the team row only: PostgreSQL cannot lock the nullable side of the joins.
    team = (
        Team.objects.select_for_update(of=("self",))
        .select_related("department", "lead__user")
        .get(pk=team.pk)
    )
    members = list(members)
    before = _team_snapshot(team, team.members.select_related("user"))
    team.name, team.department, team.lead = name, department, lead
    after = _team_snapshot(team, members)
    old, new = _changed(before, after)
    if new:
        team.save(update_fields=["name", "department", "lead"])
        team.members.set(members)
        record(actor=actor, action="team.changed", target=team, before=old, after=new)
    return team
