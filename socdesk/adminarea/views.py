"""The admin area's people pages: agents (one form, with a set-password link), departments, teams, roles.

Admins (Agent.is_admin) reach every page. Department leads (a role with `manage`) reach the overview,
agents and teams, scoped to the departments they manage: they change those departments' roles and team
memberships, and add teams there. For anyone else the pages do not exist (404, as for a missing page).
Each view parses its form, calls one service and renders; the services check and audit.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.forms import BaseForm, Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socdesk.accounts.choices import Perm
from socdesk.accounts.models import Agent, ApiKey, Department, Role, Team
from socdesk.accounts.onboarding import (
    agent_memberships_set,
    agent_onboard,
    agent_update,
    password_link_issue,
)
from socdesk.accounts.selectors import (
    agents_managed_by,
    departments_with_perm,
    manages_people,
    teams_managed_by,
)
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
from socdesk.accounts.web import admin_view, agent_view
from socdesk.adminarea.forms import (
    AgentForm,
    DepartmentEditForm,
    DepartmentForm,
    RoleEditForm,
    RoleForm,
    TeamForm,
)
from socdesk.alerts.models import Integration
from socdesk.core.errors import ServiceError
from socdesk.routing.models import CustomForm, FilterRule, HelpTopic, Schedule, SLAPlan
from socdesk.routing.selectors import assignment_mode_of
from socdesk.routing.services.assignment import assignment_policy_set


def manager_view(view):
    """An agent view for admins and department leads; everyone else gets the same 404 as a missing page.

    Sets `request.scope`: None for an admin (everything), else the ids of the departments the lead manages.
    """

    @wraps(view)
    def inner(request, *args, **kwargs):
        if not manages_people(request.agent):
            raise Http404("Page not found.")
        request.scope = departments_with_perm(request.agent, Perm.MANAGE)
        return view(request, *args, **kwargs)

    return agent_view(inner)


def show_refusal(form: BaseForm, exc: ServiceError) -> None:
    """Put a service's refusal next to the fields it names (or above the form)."""
    placed = False
    for field in exc.fields:
        if field in form.fields:
            form.add_error(field, exc.message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@manager_view
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/: the sections, with how many of each there are (a lead: their agents and teams)."""
    if request.scope is not None:  # type: ignore[attr-defined]  # set by manager_view
        counts = {
            "agents": agents_managed_by(request.agent).count(),  # type: ignore[attr-defined]
            "teams": teams_managed_by(request.agent).count(),  # type: ignore[attr-defined]
        }
        return render(request, "adminarea/home.html", {"counts": counts, "section": "home"})
    counts = {
        "agents": Agent.objects.count(),
        "departments": Department.objects.count(),
        "teams": Team.objects.count(),
        "roles": Role.objects.count(),
        "integrations": Integration.objects.count(),
        "apikeys": ApiKey.objects.filter(revoked_at__isnull=True).count(),
        "filters": FilterRule.objects.count(),
        "sla_plans": SLAPlan.objects.count(),
        "schedules": Schedule.objects.count(),
        "topics": HelpTopic.objects.count(),
        "custom_forms": CustomForm.objects.count(),
    }
    return render(request, "adminarea/home.html", {"counts": counts, "section": "home"})


# --- agents --------------------------------------------------------------------------------------------


@manager_view
@require_GET
def agents(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/agents: every agent (a lead: those with a role in their departments), with their
    department roles and teams."""
    rows = agents_managed_by(request.agent)  # type: ignore[attr-defined]
    return render(request, "adminarea/agents.html", {"agents": rows, "section": "agents"})


def _password_link_page(request: HttpRequest, agent: Agent, *, created: bool) -> HttpResponse:
    link = password_link_issue(
        actor=request.actor,  # type: ignore[attr-defined]  # set by agent_view
        agent=agent,
        base_url=request.build_absolute_uri("/"),
    )
    context = {
        "agent": agent,
        "link": link,
        "created": created,
        "link_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        "section": "agents",
    }
    response = render(request, "adminarea/password_link.html", context)
    response["Cache-Control"] = "no-store"  # the link signs someone in: no browser or proxy keeps it
    return response


@admin_view
@require_http_methods(["GET", "POST"])
def agent_new(request: HttpRequest) -> HttpResponse:
    """GET shows the agent form; POST creates the agent and shows its set-password link once."""
    form = AgentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agent = agent_onboard(
                actor=request.actor,  # type: ignore[attr-defined]
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                roles=form.chosen_roles(),
                teams=data["teams"],
                is_active=data["is_active"],
            )
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            if not agent.user.is_active:
                messages.success(request, f"Agent {agent.user.username} created, inactive.")
                return redirect("adminarea:agent-edit", pk=agent.pk)
            return _password_link_page(request, agent, created=True)
    status = 400 if form.errors else 200
    context = {"form": form, "agent": None, "section": "agents"}
    return render(request, "adminarea/agent_form.html", context, status=status)


@manager_view
@require_http_methods(["GET", "POST"])
def agent_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the agent's form; POST saves the changes. A lead's form has only the roles and teams of
    the departments they manage (agent_memberships_set); an admin's has everything (agent_update)."""
    scope = request.scope  # type: ignore[attr-defined]
    agent = get_object_or_404(agents_managed_by(request.agent), pk=pk)  # type: ignore[attr-defined]
    form = AgentForm(request.POST or None, agent=agent, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if scope is None:
                agent_update(
                    actor=request.actor,  # type: ignore[attr-defined]
                    agent=agent,
                    username=data["username"],
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    roles=form.chosen_roles(),
                    teams=data["teams"],
                    is_active=data["is_active"],
                )
            else:
                agent_memberships_set(
                    actor=request.actor,  # type: ignore[attr-defined]
                    agent=agent,
                    roles=form.chosen_roles(),
                    teams=data["teams"],
                )
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Agent {agent.user.username} saved.")
            return redirect("adminarea:agents")
    status = 400 if form.errors else 200
    context = {"form": form, "agent": agent, "section": "agents"}
    return render(request, "adminarea/agent_form.html", context, status=status)


@admin_view
@require_POST
def agent_password_link(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: a new set-password link for the agent, mailed when mail is configured, shown here once."""
    agent = get_object_or_404(Agent.objects.select_related("user"), pk=pk)
    try:
        return _password_link_page(request, agent, created=False)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("adminarea:agent-edit", pk=agent.pk)


# --- departments, teams, roles ---------------------------------------------------------------------------


def _list_and_create(request: HttpRequest, *, section: str, form: Form, rows, create) -> HttpResponse:
    """A list with its "add" form under it: POST runs `create(data)` and comes back to the list."""
    if request.method == "POST" and form.is_valid():
        try:
            made = create(form.cleaned_data)
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"{made} created.")
            return redirect(f"adminarea:{section}")
    status = 400 if form.errors else 200
    context = {"form": form, "rows": rows, "section": section}
    return render(request, f"adminarea/{section}.html", context, status=status)


@admin_view
@require_http_methods(["GET", "POST"])
def departments(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/departments: the list and a form to add one."""
    actor = request.actor  # type: ignore[attr-defined]
    rows = Department.objects.annotate(agent_count=Count("accesses", distinct=True))
    return _list_and_create(
        request,
        section="departments",
        form=DepartmentForm(request.POST or None),
        rows=rows,
        create=lambda data: department_create(actor=actor, **data),
    )


@manager_view
@require_http_methods(["GET", "POST"])
def teams(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/teams: the list (with members) and a form to add one (a lead: in their departments)."""
    actor = request.actor  # type: ignore[attr-defined]
    rows = teams_managed_by(request.agent)  # type: ignore[attr-defined]
    return _list_and_create(
        request,
        section="teams",
        form=TeamForm(request.POST or None, scope=request.scope),  # type: ignore[attr-defined]
        rows=rows,
        create=lambda data: team_create(actor=actor, **data),
    )


@admin_view
@require_http_methods(["GET", "POST"])
def roles(request: HttpRequest) -> HttpResponse:
    """GET /admin-area/roles: the roles with their permissions and a form to add one."""
    actor = request.actor  # type: ignore[attr-defined]
    rows = Role.objects.annotate(access_count=Count("accesses"))
    return _list_and_create(
        request,
        section="roles",
        form=RoleForm(request.POST or None),
        rows=rows,
        create=lambda data: role_create(actor=actor, **data),
    )


def _edit_page(request: HttpRequest, *, section: str, title: str, form: Form, save) -> HttpResponse:
    """An object's edit form: POST runs `save(data)` and goes back to the section's list."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except ServiceError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"{saved} saved.")
            return redirect(f"adminarea:{section}")
    status = 400 if form.errors else 200
    context = {"form": form, "title": title, "section": section, "back": f"adminarea:{section}"}
    return render(request, "adminarea/edit.html", context, status=status)


@manager_view
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows a team's form; POST changes its name, department, lead and members (team_update) and,
    for an admin, its auto-assignment policy (assignment_policy_set), in one transaction."""
    team = get_object_or_404(teams_managed_by(request.agent), pk=pk)  # type: ignore[attr-defined]
    admin = request.agent.is_admin  # type: ignore[attr-defined]
    initial = {
        "name": team.name,
        "department": team.department,
        "lead": team.lead,
        "members": team.members.all(),
        "assignment_mode": assignment_mode_of(team=team) if admin else None,
    }
    form = TeamForm(
        request.POST or None,
        initial=initial,
        scope=request.scope,  # type: ignore[attr-defined]
        policy=admin,  # a lead manages the team's people; how tickets reach them is the admins'
    )
    actor = request.actor  # type: ignore[attr-defined]

    @transaction.atomic
    def save(data):
        mode = data.pop("assignment_mode", "")
        saved = team_update(actor=actor, team=team, **data)
        if mode:
            assignment_policy_set(actor=actor, team=team, mode=mode)
        return saved

    return _edit_page(request, section="teams", title=f"Team {team.name}", form=form, save=save)


@admin_view
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows a role's form; POST changes its name, permissions and second-factor rule (role_update)."""
    role = get_object_or_404(Role, pk=pk)
    initial = {
        "name": role.name,
        "permissions": role.permissions,
        "requires_two_factor": role.requires_two_factor,
    }
    form = RoleEditForm(request.POST or None, initial=initial)
    actor = request.actor  # type: ignore[attr-defined]
    return _edit_page(
        request,
        section="roles",
        title=f"Role {role.name}",
        form=form,
        save=lambda data: role_update(actor=actor, role=role, **data),
    )


@admin_view
@require_http_methods(["GET", "POST"])
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows a department's form; POST changes its name, e-mail, description (department_update),
    retention (department_set_retention), auto-assignment (assignment_policy_set), auto-close days
    (department_set_autoclose), auto-responses (department_set_auto_response) and the handling of mail to
    closed tickets (department_set_mail_replies), in one transaction."""
    department = get_object_or_404(Department, pk=pk)
    initial = {
        "name": department.name,
        "email": department.email,
        "description": department.description,
        "raw_payload_retention_days": department.raw_payload_retention_days,
        "closed_ticket_retention_days": department.closed_ticket_retention_days,
        "assignment_mode": assignment_mode_of(department=department),
        "autoclose_resolved_days": department.autoclose_resolved_days,
        "auto_response": department.auto_response,
        "closed_reply": department.closed_reply,
        "reopen_ack": department.reopen_ack,
    }
    form = DepartmentEditForm(request.POST or None, initial=initial)
    actor = request.actor  # type: ignore[attr-defined]

    @transaction.atomic
    def save(data):
        department_update(
            actor=actor,
            department=department,
            name=data["name"],
            email=data["email"],
            description=data["description"],
        )
        retention = (data["raw_payload_retention_days"], data["closed_ticket_retention_days"])
        if retention != (department.raw_payload_retention_days, department.closed_ticket_retention_days):
            department_set_retention(
                actor=actor,
                department=department,
                raw_payload_days=retention[0],
                closed_ticket_days=retention[1],
            )
        if data["assignment_mode"]:
            assignment_policy_set(actor=actor, department=department, mode=data["assignment_mode"])
        department_set_autoclose(actor=actor, department=department, days=data["autoclose_resolved_days"])
        department_set_auto_response(actor=actor, department=department, enabled=data["auto_response"])
        department_set_mail_replies(
            actor=actor,
            department=department,
            closed_reply=data["closed_reply"],
            reopen_ack=data["reopen_ack"],
        )
        return Department.objects.get(pk=department.pk)

    return _edit_page(
        request, section="departments", title=f"Department {department.name}", form=form, save=save
    )
