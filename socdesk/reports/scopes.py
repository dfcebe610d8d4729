"""Whose figures a caller that is not an agent sees: an API key without an agent, and a scheduled report.

Agents (console, personal tokens) go through `reports.selectors.scope_for_agent`; these follow the same
rule: a department or team outside what the caller may see is NotFound, exactly as one that does not exist.
"""

from __future__ import annotations

from socdesk.accounts.models import ApiKey, Department, Team
from socdesk.alerts.models import Integration
from socdesk.core.errors import NotFound
from socdesk.reports.figures import Scope


def _narrowed(visible: set[int], department_id: int | None, team_id: int | None) -> Scope:
    chosen = set(visible)
    if department_id is not None:
        if department_id not in visible:
            raise NotFound("No such department.")
        chosen = {department_id}
    if team_id is not None:
        team_department = Team.objects.filter(pk=team_id).values_list("department_id", flat=True).first()
        if team_department is None or team_department not in chosen:
            raise NotFound("No such team.")
        chosen = {team_department}
    return Scope(department_ids=frozenset(chosen), team_id=team_id)


def scope_for_key(key: ApiKey, *, department_id: int | None = None, team_id: int | None = None) -> Scope:
    """A key tied to a department sees that department's figures; any other key every department's
    (the tickets it may read: `tickets.selectors.tickets_visible_to_key`)."""
    if key.department_id:
        visible = {key.department_id}
    else:
        visible = set(Department.objects.values_list("pk", flat=True))
    return _narrowed(visible, department_id, team_id)


def scope_for_department(department: Department, team: Team | None = None) -> Scope:
    """One department's figures, or one of its teams' (a scheduled report, `socdesk report`)."""
    return _narrowed({department.pk}, department.pk, team.pk if team else None)


def key_sees_all_ingest(key: ApiKey) -> bool:
    """As `reports.visibility.sees_all_ingest` for agents: the ingest figures count every integration, so a
    key tied to a department sees them only when every integration sends to that department."""
    if not key.department_id:
        return True
    return not Integration.objects.exclude(department_id=key.department_id).exists()
