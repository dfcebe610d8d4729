"""The admin area's playbook editor forms: the playbook's settings, and one row per task template."""

from __future__ import annotations

from typing import Any

from django import forms

from socdesk.accounts.models import Team
from socdesk.cases.models import Playbook
from socdesk.cases.services import PlaybookDefinition, TemplateDefinition
from socdesk.routing.models import HelpTopic


class PlaybookForm(forms.Form):
    """A playbook's name, description, resolve block, required custom fields and default help topics."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    block_resolution = forms.BooleanField(
        required=False,
        label="Block resolution",
        help_text="A ticket cannot be resolved or closed while a required task is open or a required "
        "custom field is empty.",
    )
    required_fields = forms.CharField(
        required=False,
        label="Required custom fields",
        help_text="Machine names of custom fields, comma-separated, that must be filled before resolving.",
    )
    topics = forms.ModelMultipleChoiceField(
        queryset=HelpTopic.objects.order_by("name"),
        required=False,
        label="Default playbook of the help topics",
        widget=forms.CheckboxSelectMultiple,
    )


class TemplateRow(forms.Form):
    """One task of the playbook; a row without a title is left out."""

    title = forms.CharField(required=False, max_length=200, label="Task")
    description = forms.CharField(required=False, max_length=10000, label="Description")
    due_minutes = forms.IntegerField(
        required=False, min_value=1, label="Due after (minutes)", widget=forms.NumberInput(attrs={"size": 6})
    )
    required = forms.BooleanField(required=False, label="Required")
    team = forms.ModelChoiceField(
        queryset=Team.objects.select_related("department").order_by("name"),
        required=False,
        label="Team",
        empty_label="No team",
    )


TemplateRows = forms.formset_factory(TemplateRow, extra=3)


def playbook_initial(playbook: Playbook) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A stored playbook as the settings form's and the rows' initial values (its current version)."""
    current = playbook.current
    settings = {
        "name": playbook.name,
        "description": playbook.description,
        "block_resolution": playbook.block_resolution,
        "required_fields": ", ".join(current.required_fields) if current else "",
        "topics": [link.topic_id for link in playbook.topic_links.all()],
    }
    rows = [
        {
            "title": t.title,
            "description": t.description,
            "due_minutes": t.due_minutes,
            "required": t.required,
            "team": t.team_id,
        }
        for t in (current.templates.order_by("order", "id") if current else [])
    ]
    return settings, rows


def playbook_definition(form: PlaybookForm, rows: Any) -> PlaybookDefinition:
    """The definition the services check, from valid forms (rows without a title are left out)."""
    data = form.cleaned_data
    return PlaybookDefinition(
        name=data["name"],
        description=data["description"],
        block_resolution=data["block_resolution"],
        required_fields=[n.strip() for n in data["required_fields"].split(",") if n.strip()],
        topic_ids=[t.pk for t in data["topics"]],
        templates=[
            TemplateDefinition(
                title=row["title"],
                description=row["description"],
                due_minutes=row["due_minutes"],
                required=row["required"],
                team_id=row["team"].pk if row["team"] else None,
            )
            for row in (r.cleaned_data for r in rows)
            if row.get("title", "").strip()
        ],
    )
