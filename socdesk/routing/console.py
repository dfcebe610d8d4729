"""What the console shows of help topics and custom fields: the inputs of a form's fields with their
values, read back from a submitted form. Shared by the new-ticket section and the ticket page's panel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from socdesk.routing.custom_values import Audience, FieldSpec, display_value

PREFIX = "custom."


@dataclass(frozen=True)
class FieldInput:
    """One custom field as the console shows it: its spec, the value to put in the input, its text."""

    spec: FieldSpec
    value: Any
    text: str
    required: bool

    @property
    def input_name(self) -> str:
        return PREFIX + self.spec.name

    @property
    def input_id(self) -> str:
        return "id_custom_" + self.spec.name

    @property
    def selected(self) -> list[str]:
        """The chosen options of a choice or multiple-choice field."""
        if isinstance(self.value, list):
            return [str(item) for item in self.value]
        if self.spec.type == "multi_choice" and isinstance(self.value, str):
            return [item.strip() for item in self.value.split(",") if item.strip()]
        return [str(self.value)] if self.value not in (None, "") else []


def field_inputs(
    specs: Sequence[FieldSpec], values: Mapping[str, Any], audience: Audience
) -> list[FieldInput]:
    """The fields this audience sees, in form order, with stored or sent values made fit for an input."""
    inputs = []
    for spec in specs:
        if not spec.visible_to(audience):
            continue
        value = values.get(spec.name)
        if spec.type == "datetime" and value:
            value = _local_input(str(value))
        inputs.append(
            FieldInput(
                spec=spec,
                value=value,
                text=display_value(spec, values.get(spec.name)),
                required=spec.required_of(audience),
            )
        )
    return inputs


def _local_input(value: str) -> str:
    """A stored ISO time as a datetime-local value in the agent's time zone (as sent if unreadable)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%dT%H:%M")


def submitted_values(data: QueryDict, specs: Sequence[FieldSpec] | None = None) -> dict[str, Any]:
    """`custom.<name>` values of a submitted form. With the form's fields known (an edit of all of them),
    an unticked checkbox is false and a multiple choice with nothing ticked is empty."""
    values: dict[str, Any] = {}
    for key in data:
        if key.startswith(PREFIX) and len(key) > len(PREFIX):
            items = data.getlist(key)
            values[key[len(PREFIX) :]] = items if len(items) > 1 else items[0]
    for spec in specs or ():
        if spec.type == "checkbox":
            values[spec.name] = spec.name in values
        elif spec.type == "multi_choice":
            sent = values.get(spec.name, [])
            values[spec.name] = sent if isinstance(sent, list) else [sent]
    return values


def display_rows(
    specs: Sequence[FieldSpec], values: Mapping[str, Any], audience: Audience
) -> list[tuple[str, str]]:
    """(label, text) of every stored value: the form's fields in order, then values no field names."""
    rows = [(i.spec.label, i.text) for i in field_inputs(specs, values, audience)]
    named = {spec.name for spec in specs}
    rows += [(name, str(value)) for name, value in values.items() if name not in named]
    return rows
