"""How the audit browser names the agents, teams, departments and roles that events refer to by id."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from socdesk.accounts.models import Agent, Department, Role, Team
from socdesk.audit.describe import ids_named, value_namer_register

# Fields of audit events holding agent ids (a ticket's assignee, a team's lead and members, a key's agent).
AGENT_FIELDS = ("assignee", "agent", "lead", "members")


def agent_names(values: Collection[Any]) -> dict[Any, str]:
    """{agent id: name} in one query."""
    return ids_named(
        values,
        lambda ids: ((a.pk, a.name) for a in Agent.objects.filter(pk__in=ids).select_related("user")),
    )


def team_names(values: Collection[Any]) -> dict[Any, str]:
    """{team id: name} in one query."""
    return ids_named(values, lambda ids: Team.objects.filter(pk__in=ids).values_list("pk", "name"))


def department_names(values: Collection[Any]) -> dict[Any, str]:
    """{department id: name} in one query."""
    return ids_named(values, lambda ids: Department.objects.filter(pk__in=ids).values_list("pk", "name"))


def role_names(values: Collection[Any]) -> dict[Any, str]:
    """{role id: name} in one query."""
    return ids_named(values, lambda ids: Role.objects.filter(pk__in=ids).values_list("pk", "name"))


def register() -> None:
    """Called once when the accounts app loads (AccountsConfig.ready)."""
    for field in AGENT_FIELDS:
        value_namer_register(field, agent_names)
    value_namer_register("team", team_names)
    value_namer_register("department", department_names)
    value_namer_register("role", role_names)
