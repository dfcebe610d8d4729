"""The console's task forms: they gather and shape input; the services check it."""

from __future__ import annotations

from typing import cast

from django import forms

from socdesk.accounts.models import Agent, Team
from socdesk.accounts.selectors import assignable_agents
from socdesk.cases.choices import TaskStatus
from socdesk.tickets.models import Ticket

DUE_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class TaskAddForm(forms.Form):
    """A new task on the checklist: a title, and optionally an owner and a due time."""

    title = forms.CharField(label="New task", max_length=200)
    assignee = forms.ModelChoiceField(
        queryset=Agent.objects.none(), required=False, label="Assignee", empty_label="Nobody"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label="Team", empty_label="No team"
    )
    due_at = forms.DateTimeField(required=False, label="Due", widget=DUE_WIDGET)

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        agents = assignable_agents(ticket.department_id).order_by("user__username")
        cast("forms.ModelChoiceField[Agent]", self.fields["assignee"]).queryset = agents
        teams = Team.objects.filter(department_id=ticket.department_id)
        cast("forms.ModelChoiceField[Team]", self.fields["team"]).queryset = teams


class TaskStatusForm(forms.Form):
    """Tick, start, reopen or skip (with a reason) one task."""

    task = forms.IntegerField(min_value=1)
    status = forms.ChoiceField(choices=TaskStatus.choices)
    reason = forms.CharField(required=False, max_length=500)


class TaskNoteForm(forms.Form):
    task = forms.IntegerField(min_value=1)
    body = forms.CharField(label="Note", max_length=10000)


class TaskMoveForm(forms.Form):
    task = forms.IntegerField(min_value=1)
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])


class TaskPickForm(forms.Form):
    task = forms.IntegerField(min_value=1)
