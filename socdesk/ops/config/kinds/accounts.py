"""Departments, roles and teams (members and leads by username); agents can be named, not configured.

A department's auto-close days and the auto-assignment mode of a department or a team are keys of their
entries (`autoclose_resolved_days`, `assignment_mode`): each belongs to exactly one of them and names
nothing else. Round-robin's pointer (who got the last ticket) is state, not configuration: never exported,
and left alone by an apply that does not change the mode.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from socdesk.accounts.choices import ClosedReply, Perm
from socdesk.accounts.models import Agent, Department, Role, Team
from socdesk.accounts.services import (
    department_create,
    department_set_auto_response,
    department_set_autoclose,
    department_set_mail_replies,
    department_set_retention,
    role_create,
    team_create,
)
from socdesk.accounts.structure import department_update, role_update, team_update
from socdesk.ops.config.kinds.base import Entry, Kind, Referable, Writer, by_name
from socdesk.ops.config.schema import Boolean, Choice, Field, Integer, ListOf, Nullable, Record, Ref, Text
from socdesk.routing.choices import AssignmentMode
from socdesk.routing.selectors import assignment_mode_of
from socdesk.routing.services.assignment import assignment_policy_set

# --- agents: named by username (teams, help topics, filters), never created from a file -----------------


def _find_agent(username: str) -> Agent | None:
    User = get_user_model()
    user = User.objects.filter(username=username).select_related("agent").first()
    return getattr(user, "agent", None) if user is not None else None


AGENTS = Referable("agents", "agent", _find_agent, named="with the username")

# --- auto-assignment: a key of department and team entries ----------------------------------------------

ASSIGNMENT_MODE = Field(Choice(AssignmentMode.values), AssignmentMode.NONE.value)


def _assignment_mode(owner: Department | Team) -> str:
    """The mode of an owner read with `select_related("assignment_policy")` (no query): `none` without one."""
    policy = getattr(owner, "assignment_policy", None)  # a missing reverse one-to-one raises AttributeError
    return policy.mode if policy is not None else AssignmentMode.NONE.value


def _write_assignment_mode(writer: Writer, mode: str, **owner: Any) -> None:
    # Only a different mode is written: the service would create a policy row for an owner that has none
    # even when the mode is `none`, which export could not tell from having no row.
    if assignment_mode_of(**owner) != mode:
        assignment_policy_set(actor=writer.actor, mode=mode, **owner)


# --- departments ---------------------------------------------------------------------------------------

RETENTION_FIELDS = ("raw_payload_retention_days", "closed_ticket_retention_days")


def _department_entry(department: Department) -> Entry:
    return {
        "name": department.name,
        "email": department.email,
        "description": department.description,
        "raw_payload_retention_days": department.raw_payload_retention_days,
        "closed_ticket_retention_days": department.closed_ticket_retention_days,
        "autoclose_resolved_days": department.autoclose_resolved_days,
        "assignment_mode": _assignment_mode(department),
        "auto_response": department.auto_response,
        "closed_reply": department.closed_reply,
        "reopen_ack": department.reopen_ack,
    }


def _write_department(writer: Writer, entry: Entry, existing: Department | None) -> Department:
    if existing is None:
        department = department_create(
            actor=writer.actor, name=entry["name"], email=entry["email"], description=entry["description"]
        )
    else:
        department = department_update(
            actor=writer.actor,
            department=existing,
            name=entry["name"],
            email=entry["email"],
            description=entry["description"],
        )
    if any(getattr(department, name) != entry[name] for name in RETENTION_FIELDS):
        department = department_set_retention(
            actor=writer.actor,
            department=department,
            raw_payload_days=entry["raw_payload_retention_days"],
            closed_ticket_days=entry["closed_ticket_retention_days"],
        )
    if department.autoclose_resolved_days != entry["autoclose_resolved_days"]:
        department = department_set_autoclose(
            actor=writer.actor, department=department, days=entry["autoclose_resolved_days"]
        )
    _write_assignment_mode(writer, entry["assignment_mode"], department=department)
    if department.auto_response != entry["auto_response"]:
        department = department_set_auto_response(
            actor=writer.actor, department=department, enabled=entry["auto_response"]
        )
    if (department.closed_reply, department.reopen_ack) != (entry["closed_reply"], entry["reopen_ack"]):
        department = department_set_mail_replies(
            actor=writer.actor,
            department=department,
            closed_reply=entry["closed_reply"],
            reopen_ack=entry["reopen_ack"],
        )
    return department


DEPARTMENTS = Kind(
    key="departments",
    label="department",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "email": Field(Text(max_length=254), ""),
            "description": Field(Text(strip=False), ""),
            "raw_payload_retention_days": Field(Nullable(Integer(minimum=1)), None),
            "closed_ticket_retention_days": Field(Nullable(Integer(minimum=1)), None),
            "autoclose_resolved_days": Field(Nullable(Integer(minimum=1)), None),
            "assignment_mode": ASSIGNMENT_MODE,
            "auto_response": Field(Boolean(), True),
            "closed_reply": Field(Choice(ClosedReply.values), ""),
            "reopen_ack": Field(Boolean(), True),
        }
    ),
    read=lambda: by_name(
        [(d, _department_entry(d)) for d in Department.objects.select_related("assignment_policy")]
    ),
    find=lambda name: Department.objects.filter(name=name).first(),
    write=_write_department,
    comment="autoclose_resolved_days: a resolved ticket closes by itself after so many days (null: never).\n"
    "assignment_mode: who gets new unassigned tickets: none | round_robin | fewest_open.\n"
    "auto_response: e-mail the requester of a new ticket an acknowledgement (docs/email.md).\n"
    'closed_reply: the requester\'s e-mail to a closed ticket: reopen | new (a linked ticket) | "" '
    "(SOCDESK_MAIL_CLOSED_REPLY).\n"
    "reopen_ack: e-mail the requester whose reply reopened a ticket an acknowledgement.",
)

# --- roles ---------------------------------------------------------------------------------------------


def _write_role(writer: Writer, entry: Entry, existing: Role | None) -> Role:
    role = existing or role_create(actor=writer.actor, name=entry["name"], permissions=entry["permissions"])
    if existing is not None or entry["requires_two_factor"]:
        role = role_update(
            actor=writer.actor,
            role=role,
            name=entry["name"],
            permissions=entry["permissions"],
            requires_two_factor=entry["requires_two_factor"],
        )
    return role


ROLES = Kind(
    key="roles",
    label="role",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "permissions": Field(ListOf(Choice(Perm.values), sort=True), []),
            "requires_two_factor": Field(Boolean(), False),
        }
    ),
    read=lambda: by_name(
        [
            (
                role,
                {
                    "name": role.name,
                    "permissions": sorted(set(role.permissions)),
                    "requires_two_factor": role.requires_two_factor,
                },
            )
            for role in Role.objects.all()
        ]
    ),
    find=lambda name: Role.objects.filter(name=name).first(),
    write=_write_role,
)

# --- teams ---------------------------------------------------------------------------------------------


def _team_entry(team: Team) -> Entry:
    return {
        "name": team.name,
        "department": team.department.name if team.department else None,
        "lead": team.lead.user.get_username() if team.lead else None,
        "members": sorted(member.user.get_username() for member in team.members.all()),
        "assignment_mode": _assignment_mode(team),
    }


def _read_teams() -> list[tuple[Any, Entry]]:
    teams = Team.objects.select_related("department", "lead__user", "assignment_policy").prefetch_related(
        "members__user"
    )
    return by_name([(team, _team_entry(team)) for team in teams])


def _write_team(writer: Writer, entry: Entry, existing: Team | None) -> Team:
    values = {
        "name": entry["name"],
        "department": writer.resolve("departments", entry["department"]),
        "lead": writer.resolve("agents", entry["lead"]),
        "members": [writer.resolve("agents", username) for username in entry["members"]],
    }
    if existing is None:
        team = team_create(actor=writer.actor, **values)
    else:
        team = team_update(actor=writer.actor, team=existing, **values)
    _write_assignment_mode(writer, entry["assignment_mode"], team=team)
    return team


TEAMS = Kind(
    key="teams",
    label="team",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "department": Field(Nullable(Ref("departments")), None),
            "lead": Field(Nullable(Ref("agents")), None),
            "members": Field(ListOf(Ref("agents"), sort=True), []),
            "assignment_mode": ASSIGNMENT_MODE,
        }
    ),
    read=_read_teams,
    find=lambda name: Team.objects.filter(name=name).first(),
    write=_write_team,
    comment="Leads and members are agents named by username; agents themselves are not in this file.\n"
    "A team's assignment_mode, other than none, comes before its department's.",
)
