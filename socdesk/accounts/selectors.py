"""Reads about agents: what they may see and do. Results are memoised on the agent instance per request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import F, Prefetch, Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from socdesk.accounts.choices import ALL_PERMS, ASSIGNEE_PERMS, Perm
from socdesk.accounts.models import Agent, ApiKey, Department, DepartmentAccess, Team
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.core.recent import RecentLookups

if TYPE_CHECKING:
    from socdesk.tickets.models import Ticket


def department_perms(agent: Agent) -> dict[int, frozenset[str]]:
    """{department id: permissions} from the agent's roles."""
    cached = getattr(agent, "_department_perms", None)
    if cached is None:
        cached = {
            access.department_id: access.role.perm_set
            for access in DepartmentAccess.objects.filter(agent=agent).select_related("role")
        }
        agent._department_perms = cached
    return cached


def team_ids(agent: Agent) -> frozenset[int]:
    """Ids of the teams the agent belongs to."""
    cached = getattr(agent, "_team_ids", None)
    if cached is None:
        cached = frozenset(Team.objects.filter(members=agent).values_list("id", flat=True))
        agent._team_ids = cached
    return cached


def ticket_perms(agent: Agent, ticket: Ticket) -> frozenset[str]:
    """Everything the agent may do on this ticket (empty: they may not even see it)."""
    if agent.is_admin:
        return ALL_PERMS
    perms: frozenset[str] = frozenset()
    if not agent.limit_to_assigned:
        perms = department_perms(agent).get(ticket.department_id, frozenset())
    if ticket.assignee_id == agent.pk or (ticket.team_id and ticket.team_id in team_ids(agent)):
        perms = perms | ASSIGNEE_PERMS
    return perms


def agent_can(agent: Agent, perm: str, ticket: Ticket) -> bool:
    """True when the agent holds `perm` on the ticket."""
    return perm in ticket_perms(agent, ticket)


def departments_with_perm(agent: Agent, perm: str) -> list[int] | None:
    """Department ids where the agent holds `perm`; None means every department (admin)."""
    if agent.is_admin:
        return None
    return [dept for dept, perms in department_perms(agent).items() if perm in perms]


def visible_department_ids(agent: Agent) -> set[int] | None:
    """Departments the agent sees tickets of (None: every one, for admins): those where a role lets them
    view, unless they are limited to their own tickets, and those of their teams."""
    if agent.is_admin:
        return None
    cached = getattr(agent, "_visible_department_ids", None)
    if cached is None:
        cached = (
            set()
            if agent.limit_to_assigned
            else {dept for dept, perms in department_perms(agent).items() if Perm.VIEW in perms}
        )
        teams = team_ids(agent)
        if teams:
            of_teams = Team.objects.filter(pk__in=teams, department__isnull=False)
            cached |= set(of_teams.values_list("department_id", flat=True))
        agent._visible_department_ids = cached
    return cached


def teams_visible_to(agent: Agent):
    """Teams of the departments the agent sees, their own teams and teams of no department."""
    ids = visible_department_ids(agent)
    if ids is None:
        return Team.objects.all()
    return Team.objects.filter(
        Q(department_id__in=ids) | Q(pk__in=team_ids(agent)) | Q(department__isnull=True)
    )


def agents_visible_to(agent: Agent):
    """Active agents the agent works alongside: those with a role in a department they see, their
    teams' members, and themselves."""
    active = Agent.objects.filter(user__is_active=True).select_related("user")
    ids = visible_department_ids(agent)
    if ids is None:
        return active
    return active.filter(
        Q(accesses__department_id__in=ids) | Q(teams__in=team_ids(agent)) | Q(pk=agent.pk)
    ).distinct()


def assignable_agents(department_id: int, *, current: int | None = None):
    """Candidates for assignment in the department: active agents who hold a role there or belong to
    one of its teams, plus the `current` assignee whoever they are (so a form that re-sends the
    assignment unchanged keeps them instead of clearing them)."""
    fits = Q(user__is_active=True) & (
        Q(accesses__department_id=department_id) | Q(teams__department_id=department_id)
    )
    if current is not None:
        fits |= Q(pk=current)
    return Agent.objects.filter(fits).select_related("user").distinct()


def api_department(
    key: ApiKey | None, *, department_id: int | None = None, department_slug: str = ""
) -> Department:
    """The department for a ticket arriving through an API key: the one the request names, else the
    key's default, else settings.SOCDESK_DEFAULT_DEPARTMENT, else the first department (for a personal
    token: only among departments where its agent may open tickets).

    Raises NotFound when the request names a department that does not exist, PermissionDenied when a
    key bound to a department names another one, ServiceError when there is no department at all.
    """
    if department_id is not None or department_slug:
        found = (
            Department.objects.filter(pk=department_id).first()
            if department_id is not None
            else Department.objects.filter(slug=department_slug).first()
        )
        if found is None:
            named = department_id if department_id is not None else repr(department_slug)
            raise NotFound(f"There is no department {named}.", fields={"department": "not_found"})
        if key is not None and key.agent_id is None and key.department_id not in (None, found.pk):
            # A key bound to a department sees only that department's tickets (and v1 refuses the
            # same request): it may not open tickets elsewhere through the osTicket door either.
            raise PermissionDenied("This API key may only open tickets in its own department.")
        return found
    if key is None or key.agent_id is None:  # every ticket of a tool's key asks this: remembered
        return _recent_default_departments.get(
            (key.department_id if key else None, settings.SOCDESK_DEFAULT_DEPARTMENT),
            lambda: _default_department(key),
        )
    return _default_department(key)


_recent_default_departments: RecentLookups[Department] = RecentLookups()


def departments_exist() -> bool:
    """Whether any department exists (a fresh install has none until an administrator creates one).

    Every webhook asks this before it acknowledges a delivery, so the answer is remembered per process
    like the other hot-path lookups (socdesk.core.recent): at most one query per period per process.
    """
    return _recent_department_presence.get("any", Department.objects.exists)


_recent_department_presence: RecentLookups[bool] = RecentLookups()


@receiver([post_save, post_delete], sender=Department, dispatch_uid="socdesk-forget-departments")
def _forget_departments(**_kwargs) -> None:
    _recent_default_departments.forget_after_change()
    _recent_department_presence.forget_after_change()


def _default_department(key: ApiKey | None) -> Department:
    candidates = Department.objects.order_by("pk")
    if key is not None and key.agent is not None:
        # A personal token defaults to a department its agent may open tickets in.
        allowed = departments_with_perm(key.agent, Perm.CREATE)
        if allowed is not None:
            candidates = candidates.filter(pk__in=allowed)
    if key is not None and key.department_id:
        found = candidates.filter(pk=key.department_id).first()
        if found:
            return found
    if settings.SOCDESK_DEFAULT_DEPARTMENT:
        found = candidates.filter(slug=settings.SOCDESK_DEFAULT_DEPARTMENT).first()
        if found:
            return found
    found = candidates.first()
    if found is None:
        raise ServiceError(
            "There is no department to put the ticket in; create one in the admin first."
            if key is None or key.agent_id is None or not Department.objects.exists()
            else "This personal token's agent may not open tickets in any department.",
            fields={"department": "none"},
        )
    return found


def apikey_state(key: ApiKey) -> str:
    """active, revoked, expired, or "rotated to <prefix>" (then valid until its expiry: the grace period)."""
    if key.revoked_at:
        return "revoked"
    if key.expires_at and key.expires_at <= timezone.now():
        return "expired"
    if key.replaced_by_id:
        return f"rotated to {key.replaced_by.prefix}" if key.replaced_by else "rotated"
    return "active"


def apikey_last_used(key: ApiKey) -> str:
    """When and from where a key was last used, in the current time zone, or "never"."""
    if key.last_used_at is None:
        return "never"
    when = timezone.localtime(key.last_used_at).strftime("%Y-%m-%d %H:%M")
    return f"{when} from {key.last_used_ip}" if key.last_used_ip else when


def apikeys_for_admin():
    """Every API key for the admin area's list, with what the list shows in one query."""
    # Live keys first, then the revoked ones (NULLs sort differently per database: say where they go).
    return ApiKey.objects.select_related("department", "agent__user", "replaced_by").order_by(
        F("revoked_at").asc(nulls_first=True), "name"
    )


def agents_for_admin():
    """Every agent for the admin area's list, with login, department roles and teams in a fixed number
    of queries."""
    return Agent.objects.select_related("user").prefetch_related(
        Prefetch("accesses", queryset=DepartmentAccess.objects.select_related("department", "role")),
        "teams",
    )


def manages_people(agent: Agent) -> bool:
    """Whether the agent may use the admin area: an admin, or a lead (a role with `manage`)."""
    return agent.is_admin or bool(departments_with_perm(agent, Perm.MANAGE))


def agents_managed_by(agent: Agent):
    """The agents whose roles and teams the agent may change (all for an admin; for a lead, those
    holding a role in a department they manage), as agents_for_admin lists them."""
    managed = departments_with_perm(agent, Perm.MANAGE)
    rows = agents_for_admin()
    if managed is None:
        return rows
    return rows.filter(pk__in=DepartmentAccess.objects.filter(department_id__in=managed).values("agent_id"))


def teams_managed_by(agent: Agent):
    """The teams the agent may see and add to in the admin area (a lead: their departments' teams)."""
    managed = departments_with_perm(agent, Perm.MANAGE)
    rows = Team.objects.select_related("department", "lead__user").prefetch_related("members__user")
    return rows if managed is None else rows.filter(department_id__in=managed)
