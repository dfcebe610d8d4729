"""Writes for custom forms and their fields: each validated (a sentence naming the form and field) and
audited. Values live on tickets by field name, so adding, changing or removing a field rewrites no ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.text import clean_text
from socdesk.routing.choices import FieldType
from socdesk.routing.custom_values import NAME
from socdesk.routing.models import CustomField, CustomForm

CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTI_CHOICE)
MAX_CHOICES = 200


@dataclass(frozen=True)
class FieldDefinition:
    """A custom field as an administrator defines it."""

    name: str
    label: str
    type: str = FieldType.TEXT
    choices: Sequence[str] = ()
    help_text: str = ""
    agent_visible: bool = True
    agent_required: bool = False
    user_visible: bool = True
    user_required: bool = False
    order: int = 0


def _form_name(name: str, instance: CustomForm | None = None) -> str:
    name = clean_text(name or "").strip()
    if not name or len(name) > 100:
        raise ServiceError("A custom form needs a name of 1 to 100 characters.", fields={"name": "invalid"})
    taken = CustomForm.objects.filter(name__iexact=name)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ServiceError(f"A custom form named {name!r} already exists.", fields={"name": "taken"})
    return name


def _form_snapshot(form: CustomForm) -> dict[str, Any]:
    return {"name": form.name, "description": form.description}


@transaction.atomic
def custom_form_create(*, actor: Actor, name: str, description: str = "") -> CustomForm:
    """Create an empty custom form (fields are added one by one)."""
    form = CustomForm.objects.create(
        name=_form_name(name), description=clean_text(description or "").strip()[:500]
    )
    record(actor=actor, action="custom_form.created", target=form, after=_form_snapshot(form))
    return form


@transaction.atomic
def custom_form_update(*, actor: Actor, form: CustomForm, name: str, description: str = "") -> CustomForm:
    """Rename a custom form or change its description."""
    form = CustomForm.objects.select_for_update().get(pk=form.pk)
    before = _form_snapshot(form)
    form.name = _form_name(name, form)
    form.description = clean_text(description or "").strip()[:500]
    form.save()
    record(actor=actor, action="custom_form.updated", target=form, before=before, after=_form_snapshot(form))
    return form


@transaction.atomic
def custom_form_delete(*, actor: Actor, form: CustomForm) -> None:
    """Delete a custom form that no help topic uses (tickets keep the values they hold)."""
    topics = list(form.topics.values_list("name", flat=True))
    if topics:
        raise ServiceError(
            f"Custom form {form.name!r} is used by help topic(s) {', '.join(topics)}; "
            "give them another form first."
        )
    before = _form_snapshot(form) | {"fields": list(form.fields.values_list("name", flat=True))}
    record(actor=actor, action="custom_form.deleted", target=form, before=before)
    form.delete()


def _check_field(
    form: CustomForm, definition: FieldDefinition, instance: CustomField | None
) -> dict[str, Any]:
    """The field's columns, or a ServiceError naming the form, the field and what is wrong."""
    name = (definition.name or "").strip()
    where = f"Custom form {form.name!r}, field {name or definition.label!r}"
    if not NAME.match(name):
        raise ServiceError(
            f"{where}: a machine name is 1 to 64 lower-case letters, digits and _, starting with a letter "
            "(e.g. affected_host).",
            fields={"name": "invalid"},
        )
    label = clean_text(definition.label or "").strip()
    if not label or len(label) > 100:
        raise ServiceError(
            f"{where}: a label of 1 to 100 characters is required.", fields={"label": "invalid"}
        )
    if definition.type not in FieldType.values:
        raise ServiceError(
            f"{where}: unknown type {definition.type!r} (use {', '.join(FieldType.values)}).",
            fields={"type": "invalid"},
        )
    choices = [clean_text(str(c)).strip() for c in definition.choices or ()]
    if definition.type in CHOICE_TYPES:
        if not choices or any(not c or len(c) > 100 for c in choices) or len(choices) > MAX_CHOICES:
            raise ServiceError(
                f"{where}: a choice field needs 1 to {MAX_CHOICES} choices of 1 to 100 characters each.",
                fields={"choices": "invalid"},
            )
        folded = [c.casefold() for c in choices]
        if len(set(folded)) != len(folded):
            raise ServiceError(f"{where}: a choice is listed twice.", fields={"choices": "duplicate"})
    elif choices:
        raise ServiceError(
            f"{where}: only choice and multiple-choice fields have choices.", fields={"choices": "unexpected"}
        )
    if definition.agent_required and not definition.agent_visible:
        raise ServiceError(
            f"{where}: a field hidden from agents cannot be required of them.",
            fields={"agent_required": "hidden"},
        )
    if definition.user_required and not definition.user_visible:
        raise ServiceError(
            f"{where}: a field hidden from end users cannot be required of them.",
            fields={"user_required": "hidden"},
        )
    taken = CustomField.objects.filter(form=form, name=name)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ServiceError(f"{where}: the form already has a field with that name.", fields={"name": "taken"})
    return {
        "name": name,
        "label": label,
        "type": definition.type,
        "choices": choices,
        "help_text": clean_text(definition.help_text or "").strip()[:300],
        "agent_visible": definition.agent_visible,
        "agent_required": definition.agent_required,
        "user_visible": definition.user_visible,
        "user_required": definition.user_required,
        "order": definition.order,
    }


def _field_snapshot(custom_field: CustomField) -> dict[str, Any]:
    return {
        "form_id": custom_field.form_id,
        "name": custom_field.name,
        "label": custom_field.label,
        "type": custom_field.type,
        "choices": list(custom_field.choices),
        "agent_visible": custom_field.agent_visible,
        "agent_required": custom_field.agent_required,
        "user_visible": custom_field.user_visible,
        "user_required": custom_field.user_required,
        "order": custom_field.order,
    }


@transaction.atomic
def custom_field_create(*, actor: Actor, form: CustomForm, definition: FieldDefinition) -> CustomField:
    """Add a field to a custom form."""
    custom_field = CustomField.objects.create(form=form, **_check_field(form, definition, None))
    record(
        actor=actor, action="custom_field.created", target=custom_field, after=_field_snapshot(custom_field)
    )
    return custom_field


@transaction.atomic
def custom_field_update(
    *, actor: Actor, custom_field: CustomField, definition: FieldDefinition
) -> CustomField:
    """Replace a field's settings (values already on tickets stay as they were stored)."""
    custom_field = CustomField.objects.select_for_update().select_related("form").get(pk=custom_field.pk)
    before = _field_snapshot(custom_field)
    for column, value in _check_field(custom_field.form, definition, custom_field).items():
        setattr(custom_field, column, value)
    custom_field.save()
    record(
        actor=actor,
        action="custom_field.updated",
        target=custom_field,
        before=before,
        after=_field_snapshot(custom_field),
    )
    return custom_field


@transaction.atomic
def custom_field_delete(*, actor: Actor, custom_field: CustomField) -> None:
    """Remove a field from its form (tickets keep the values they hold under its name)."""
    record(
        actor=actor, action="custom_field.deleted", target=custom_field, before=_field_snapshot(custom_field)
    )
    custom_field.delete()
