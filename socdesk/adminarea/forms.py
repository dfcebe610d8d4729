"""The admin area's own forms: they only gather input; the services check it and write it."""

from __future__ import annotations

from django import forms

from socdesk.accounts.choices import ClosedReply, Perm
from socdesk.accounts.models import Agent, Department, Role, Team
from socdesk.routing.choices import AssignmentMode

ROLE_FIELD = "role_{}"


class TeamsField(forms.ModelMultipleChoiceField):
    """Teams named with their department, since two departments may both have a "Tier 1"-like team."""

    def label_from_instance(self, obj: Team) -> str:
        return f"{obj.name} ({obj.department.name})" if obj.department else obj.name


class AgentForm(forms.Form):
    """One form for an agent: login, name, e-mail, active, a role per department, teams."""

    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(label="E-mail", required=False)
    is_active = forms.BooleanField(
        label="Active (may sign in)",
        required=False,
        initial=True,
        help_text="Inactive agents cannot sign in.",
    )
    teams = TeamsField(
        queryset=Team.objects.none(),
        label="Member of",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, agent: Agent | None = None, scope: list[int] | None = None, **kwargs):
        """`scope`: the department ids a lead manages; the form then offers only their roles and teams,
        and no login fields (those are the admins')."""
        if agent is not None:
            user = agent.user
            kwargs.setdefault(
                "initial",
                {
                    "username": user.username,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "email": user.email,
                    "is_active": user.is_active,
                    "teams": list(agent.teams.all()),
                    **{ROLE_FIELD.format(a.department_id): a.role_id for a in agent.accesses.all()},
                },
            )
        super().__init__(*args, **kwargs)
        self.scope = scope
        departments = Department.objects.all()
        teams = Team.objects.select_related("department")
        if scope is not None:
            for name in ("username", "first_name", "last_name", "email", "is_active"):
                del self.fields[name]
            departments = departments.filter(pk__in=scope)
            teams = teams.filter(department_id__in=scope)
        self.departments = list(departments)
        roles = list(Role.objects.all())
        self.roles_by_pk = {str(r.pk): r for r in roles}
        choices = [("", "No access"), *((str(r.pk), r.name) for r in roles)]
        for department in self.departments:
            self.fields[ROLE_FIELD.format(department.pk)] = forms.ChoiceField(
                label=department.name, choices=choices, required=False
            )
        teams_field = self.fields["teams"]
        assert isinstance(teams_field, TeamsField)
        teams_field.queryset = teams

    def role_fields(self):
        """The department role selects, in department order, for the template."""
        return [self[ROLE_FIELD.format(d.pk)] for d in self.departments]

    def chosen_roles(self) -> dict[Department, Role]:
        """{department: role} for each department given a role (after is_valid)."""
        chosen = {}
        for department in self.departments:
            role_pk = self.cleaned_data.get(ROLE_FIELD.format(department.pk))
            if role_pk:
                chosen[department] = self.roles_by_pk[role_pk]
        return chosen


class DepartmentForm(forms.Form):
    name = forms.CharField(max_length=100)
    email = forms.EmailField(label="E-mail", required=False, help_text="Where its requesters write to.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DepartmentEditForm(DepartmentForm):
    raw_payload_retention_days = forms.IntegerField(
        label="Keep raw alert payloads (days)",
        required=False,
        min_value=1,
        help_text="Empty: the SOCDESK_RAW_PAYLOAD_RETENTION_DAYS default.",
    )
    closed_ticket_retention_days = forms.IntegerField(
        label="Keep closed tickets (days)",
        required=False,
        min_value=1,
        help_text="Empty: the SOCDESK_CLOSED_TICKET_RETENTION_DAYS default.",
    )
    assignment_mode = forms.ChoiceField(
        label="Assign new tickets automatically",
        choices=AssignmentMode.choices,
        initial=AssignmentMode.NONE,
        required=False,  # left out of a form post: unchanged
        help_text="To an available agent with a role here, when no filter, help topic or team policy "
        "chose one.",
    )
    autoclose_resolved_days = forms.IntegerField(
        label="Close resolved tickets after (days)",
        required=False,
        min_value=1,
        help_text="Counted from resolving; a reply from the requester reopens the ticket. "
        "Empty: resolved tickets stay resolved until someone closes them.",
    )
    auto_response = forms.BooleanField(
        label="Acknowledge new tickets by e-mail",
        required=False,
        help_text="The requester gets an auto-response with the ticket's number (never automatic mail; "
        "see docs/email.md, Auto-responses).",
    )
    closed_reply = forms.ChoiceField(
        label="The requester's e-mail to a closed ticket",
        choices=ClosedReply.choices,
        required=False,
        help_text="Reopen it, or open a new ticket linked to it (a resolved ticket always reopens). "
        "Installation default: SOCDESK_MAIL_CLOSED_REPLY.",
    )
    reopen_ack = forms.BooleanField(
        label="Acknowledge reopening replies by e-mail",
        required=False,
        help_text="The requester whose reply reopened a ticket is told so (never automatic mail; "
        "see docs/email.md, Reopened by your reply).",
    )


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False)
    lead = forms.ModelChoiceField(queryset=Agent.objects.select_related("user"), required=False)
    members = forms.ModelMultipleChoiceField(
        queryset=Agent.objects.select_related("user"), required=False, widget=forms.CheckboxSelectMultiple
    )

    assignment_mode = forms.ChoiceField(
        label="Assign the team's new tickets automatically",
        choices=AssignmentMode.choices,
        initial=AssignmentMode.NONE,
        required=False,  # left out of a form post: unchanged
        help_text="To an available member with a role in the ticket's department; before the "
        "department's own policy. Only admins change it.",
    )

    def __init__(self, *args, scope: list[int] | None = None, policy: bool = False, **kwargs):
        """`scope`: a lead's departments: the team must be in one, with agents who hold a role there.
        `policy`: show the auto-assignment choice (admins, on an existing team)."""
        super().__init__(*args, **kwargs)
        if not policy:
            del self.fields["assignment_mode"]
        if scope is not None:
            department, lead, members = self.fields["department"], self.fields["lead"], self.fields["members"]
            assert isinstance(department, forms.ModelChoiceField)
            assert isinstance(lead, forms.ModelChoiceField) and isinstance(members, forms.ModelChoiceField)
            department.queryset = Department.objects.filter(pk__in=scope)
            department.required = True
            agents = Agent.objects.select_related("user").filter(accesses__department_id__in=scope).distinct()
            lead.queryset = members.queryset = agents


class RoleForm(forms.Form):
    name = forms.CharField(max_length=100)
    permissions = forms.MultipleChoiceField(
        choices=Perm.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class RoleEditForm(RoleForm):
    requires_two_factor = forms.BooleanField(
        label="Holders must sign in with a second factor", required=False
    )
