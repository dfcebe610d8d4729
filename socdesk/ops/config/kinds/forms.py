"""Custom forms with their fields (help topics name their form; tickets keep values by field name).

A form's entry holds all of its fields, in the order the form shows them: apply adds the fields the entry
gains, updates those that differ and removes those it no longer lists (tickets keep the values they hold
under a removed field's name). Fields are matched by their machine name, so renaming one is a removal
and an addition.
"""

from __future__ import annotations

from typing import Any

from socdesk.ops.config.document import Path
from socdesk.ops.config.kinds.base import Entry, Kind, Writer, by_name, deleted
from socdesk.ops.config.schema import Boolean, Check, Choice, Field, ListOf, Record, Text
from socdesk.routing.choices import FieldType
from socdesk.routing.custom_values import NAME
from socdesk.routing.models import CustomField, CustomForm
from socdesk.routing.services.forms import (
    FieldDefinition,
    custom_field_create,
    custom_field_delete,
    custom_field_update,
    custom_form_create,
    custom_form_delete,
    custom_form_update,
)


class MachineName(Text):
    """A field's machine name (the key of its value on tickets): checked here so the line is the field's."""

    def check(self, value: Any, path: Path, check: Check) -> Any:
        name = super().check(value, path, check)
        if isinstance(name, str) and not NAME.match(name):
            return check.fail(
                path,
                f"{name!r} is not a machine name: 1 to 64 lower-case letters, digits and _, starting with "
                "a letter (e.g. affected_host).",
            )
        return name


FIELD = Record(
    {
        "name": Field(MachineName(required=True)),
        "label": Field(Text(required=True, max_length=100)),
        "type": Field(Choice(FieldType.values), FieldType.TEXT.value),
        "choices": Field(ListOf(Text(required=True, max_length=100)), []),  # in the order shown
        "help_text": Field(Text(max_length=300), ""),
        "agent_visible": Field(Boolean(), True),
        "agent_required": Field(Boolean(), False),
        "user_visible": Field(Boolean(), True),
        "user_required": Field(Boolean(), False),
    }
)


def _field_entry(custom_field: CustomField) -> Entry:
    return {
        "name": custom_field.name,
        "label": custom_field.label,
        "type": custom_field.type,
        "choices": list(custom_field.choices),
        "help_text": custom_field.help_text,
        "agent_visible": custom_field.agent_visible,
        "agent_required": custom_field.agent_required,
        "user_visible": custom_field.user_visible,
        "user_required": custom_field.user_required,
    }


def _form_entry(form: CustomForm) -> Entry:
    return {
        "name": form.name,
        "description": form.description,
        # Prefetched in the model's order (order, then id): the order the form shows them.
        "fields": [_field_entry(f) for f in form.fields.all()],
    }


def _write_form(writer: Writer, entry: Entry, existing: CustomForm | None) -> CustomForm:
    if existing is None:
        form = custom_form_create(actor=writer.actor, name=entry["name"], description=entry["description"])
    elif (existing.name, existing.description) != (entry["name"], entry["description"]):
        form = custom_form_update(
            actor=writer.actor, form=existing, name=entry["name"], description=entry["description"]
        )
    else:
        form = existing
    stored = {f.name: f for f in form.fields.all()}
    wanted = {f["name"] for f in entry["fields"]}
    for name, removed in stored.items():
        if name not in wanted:
            custom_field_delete(actor=writer.actor, custom_field=removed)
    for position, field_entry in enumerate(entry["fields"]):
        # The file's order is the form's: each field's `order` is its position in the list.
        custom_field = stored.get(field_entry["name"])
        if custom_field is not None and (_field_entry(custom_field), custom_field.order) == (
            field_entry,
            position,
        ):
            continue  # unchanged: no write, no audit event
        definition = FieldDefinition(**field_entry, order=position)
        if custom_field is None:
            custom_field_create(actor=writer.actor, form=form, definition=definition)
        else:
            custom_field_update(actor=writer.actor, custom_field=custom_field, definition=definition)
    return form


def _check_form(record: Entry, path: Path, check: Check) -> None:
    seen: set[str] = set()
    for index, field_entry in enumerate(record["fields"]):
        if field_entry["name"] in seen:
            check.fail(
                (*path, "fields", index, "name"), f"the form already has a field {field_entry['name']!r}."
            )
        seen.add(field_entry["name"])


CUSTOM_FORMS = Kind(
    key="custom_forms",
    label="custom form",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=100)),
            "description": Field(Text(max_length=500), ""),
            "fields": Field(ListOf(FIELD), []),
        },
        validate=_check_form,
    ),
    read=lambda: by_name(
        [(form, _form_entry(form)) for form in CustomForm.objects.prefetch_related("fields")]
    ),
    find=lambda name: CustomForm.objects.filter(name=name).first(),
    write=_write_form,
    remove=lambda writer, form: deleted(custom_form_delete(actor=writer.actor, form=form)),
    comment="A form lists all of its fields, in the order it shows them; a field is matched by its machine\n"
    "name (the key of its value on tickets); removing one keeps the values tickets hold under it.\n"
    "type: " + " | ".join(FieldType.values) + ".",
)
