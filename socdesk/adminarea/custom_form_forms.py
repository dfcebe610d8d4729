"""The admin area's forms for custom forms and their fields, and the help topic form with its custom form.

They only parse what the browser sent; the routing services (socdesk/routing/services/forms.py) check the
values and refuse with a sentence that the page puts next to the field it names.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms

from socdesk.adminarea.routing_forms import TopicForm
from socdesk.routing.choices import FieldType
from socdesk.routing.models import CustomForm
from socdesk.routing.services.forms import CHOICE_TYPES, FieldDefinition

NOT_A_NAME_CHARACTER = re.compile(r"[^a-z0-9_]+")


def name_from_label(label: str) -> str:
    """The machine name a label suggests: `Affected host` → `affected_host` (a leading digit gets `f_`)."""
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    name = NOT_A_NAME_CHARACTER.sub("_", plain).strip("_")[:64]
    if name and not name[0].isalpha():
        name = f"f_{name}"[:64]
    return name


class CustomFormForm(forms.Form):
    """A custom form's name and description (its fields are added one by one on its page)."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(
        required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}), label="Description"
    )


class CustomFieldForm(forms.Form):
    """One field of a custom form: label, machine name, type, choices, help text, flags and position."""

    label = forms.CharField(max_length=100)
    name = forms.CharField(
        required=False,
        max_length=64,
        label="Machine name",
        help_text="Lower-case letters, digits and _ (e.g. affected_host). Left empty: made from the label. "
        "Tickets keep their values under this name.",
        widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false", "autocomplete": "off"}),
    )
    type = forms.ChoiceField(choices=FieldType.choices, initial=FieldType.TEXT)
    choices = forms.CharField(
        required=False,
        label="Choices",
        help_text="Choice and multiple-choice fields only: one choice a line.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    help_text = forms.CharField(
        required=False, max_length=300, label="Help text", help_text="Shown under the field."
    )
    agent_visible = forms.BooleanField(required=False, initial=True, label="Agents see it")
    agent_required = forms.BooleanField(required=False, label="Agents must fill it")
    user_visible = forms.BooleanField(required=False, initial=True, label="End users see it")
    user_required = forms.BooleanField(required=False, label="End users must fill it")
    order = forms.IntegerField(
        required=False,
        label="Position",
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text="Fields are shown from the lowest number up.",
    )

    def clean_name(self) -> str:
        # The label is cleaned first (declared first), so an empty name can be made from it here.
        name = self.cleaned_data.get("name", "").strip()
        return name or name_from_label(self.cleaned_data.get("label", ""))

    def clean_choices(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("choices", "").splitlines() if line.strip()]

    def definition(self, *, next_order: int) -> FieldDefinition:
        """The field as the service takes it (a field without a position goes after the others)."""
        data = self.cleaned_data
        order = data.get("order")
        return FieldDefinition(
            name=data["name"],
            label=data["label"],
            type=data["type"],
            choices=data["choices"],
            help_text=data["help_text"],
            agent_visible=data["agent_visible"],
            agent_required=data["agent_required"],
            user_visible=data["user_visible"],
            user_required=data["user_required"],
            order=next_order if order is None else order,
        )


def field_initial(custom_field) -> dict:
    """A stored field as the form shows it (choices one a line)."""
    return {
        "label": custom_field.label,
        "name": custom_field.name,
        "type": custom_field.type,
        "choices": "\n".join(custom_field.choices) if custom_field.type in CHOICE_TYPES else "",
        "help_text": custom_field.help_text,
        "agent_visible": custom_field.agent_visible,
        "agent_required": custom_field.agent_required,
        "user_visible": custom_field.user_visible,
        "user_required": custom_field.user_required,
        "order": custom_field.order,
    }


class TopicWithFormForm(TopicForm):
    """The help topic form with the custom form whose fields its tickets carry."""

    form = forms.ModelChoiceField(
        queryset=CustomForm.objects.order_by("name"),
        required=False,
        empty_label="None (a sub-topic uses its parent's)",
        label="Custom form",
        help_text="The fields new tickets on this topic ask for.",
    )
