"""What both databases' sides of socdesk.core.sql share."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django.db.models import DateField, DateTimeField, Field, ForeignKey

if TYPE_CHECKING:
    from django.db.models import Model
    from django.db.models.options import Options


def column_fields(meta: Options[Any], names: list[str]) -> list[Field[Any, Any]]:
    """The model's fields named (or attnamed) in `names`; callers name only concrete columns."""
    # get_field may also answer a reverse relation or a generic foreign key, which have no column:
    # the names here are the model's own columns, so each answer is a concrete Field.
    return [cast("Field[Any, Any]", meta.get_field(name)) for name in names]


def on_conflict(
    quote: Any,
    meta: Options[Any],
    by_name: dict[str, Field[Any, Any]],
    unique: list[str],
    update: list[str],
    returning: Sequence[str],
) -> str:
    """`ON CONFLICT (...) DO UPDATE SET ... | DO NOTHING [RETURNING ...]` for an upsert; both databases
    speak it alike (`quote` is the connection's `ops.quote_name`, `by_name` the written fields)."""
    conflict = ", ".join(quote(by_name[name].column) for name in unique)
    action = (
        "DO UPDATE SET "
        + ", ".join(f"{quote(by_name[n].column)} = excluded.{quote(by_name[n].column)}" for n in update)
        if update
        else "DO NOTHING"
    )
    tail = (
        " RETURNING " + ", ".join(quote(field.column) for field in column_fields(meta, list(returning)))
        if returning
        else ""
    )
    return f"ON CONFLICT ({conflict}) {action}{tail}"


class _Saving:
    """How a model's instances are made ready for a bulk insert, worked out once per model and columns.

    Django's own steps (`_prepare_related_fields_for_save`, then each field's `pre_save`) ask every
    field of every instance the same questions (is it a relation, is it cached, is it an automatic
    time); their answers depend on the model alone, so they are asked once here.
    """

    def __init__(self, fields: tuple[Field[Any, Any], ...]) -> None:
        meta = fields[0].model._meta
        # (field, cache name, attname, the related model's attname the column holds, empty values)
        # A concrete relation is a foreign key (or one-to-one): it holds the related object's id.
        keys = [cast("ForeignKey[Any, Any]", field) for field in meta.concrete_fields if field.is_relation]
        self.relations = [
            (field, field.cache_name, field.attname, field.target_field.attname, field.empty_values)
            for field in keys
        ]
        # A generic foreign key (a private field) is checked by Django's own step, as it checks it.
        self.generic = any(field.is_relation for field in meta.private_fields)
        self.fields = fields
        plain = all(_reads_attribute(field) for field in fields)
        attnames = [field.attname for field in fields]
        # One C call per instance for the whole row, where every field's pre_save only reads it.
        self.read = operator.attrgetter(*attnames) if plain and len(attnames) > 1 else None

    def prepare(self, obj: Model, operation: str) -> None:
        """Django's `_prepare_related_fields_for_save`, for the relations actually cached on `obj`."""
        if self.generic:
            obj._prepare_related_fields_for_save(operation_name=operation)  # type: ignore[attr-defined]
            return
        cache = obj._state.fields_cache
        if not cache:
            return
        for field, cache_name, attname, target_attname, empty in self.relations:
            if cache_name not in cache:
                continue
            related = cache[cache_name]
            if not related:
                continue
            if not related._is_pk_set():  # Django's step raises its own error (and clears its caches)
                obj._prepare_related_fields_for_save(operation_name=operation)  # type: ignore[attr-defined]
            if getattr(obj, attname) in empty:
                setattr(obj, field.name, related)  # saved after it was assigned: take its id now
            if getattr(related, target_attname) != getattr(obj, attname):
                field.delete_cached_value(obj)

    def row(self, obj: Model) -> Sequence[Any]:
        """The values `bulk_create` would write for `obj`, in the fields' order."""
        if self.read is not None:
            values: Sequence[Any] = self.read(obj)
            return values
        return [field.pre_save(obj, True) for field in self.fields]


def _reads_attribute(field: Field[Any, Any]) -> bool:
    """Whether the field's pre_save for an insert only reads the instance's attribute."""
    pre_save = type(field).pre_save
    if pre_save is Field.pre_save:
        return True
    if pre_save in (DateField.pre_save, DateTimeField.pre_save):
        return not (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
    return False


@functools.lru_cache(maxsize=256)
def _saving(fields: tuple[Field[Any, Any], ...]) -> _Saving:
    return _Saving(fields)


def saving(fields: Sequence[Field[Any, Any]]) -> _Saving:
    """How instances are made ready for inserting these fields (of one model), worked out once."""
    return _saving(tuple(fields))


def instance_rows(
    objects: Sequence[Model], fields: Sequence[Field[Any, Any]], operation: str, *, prepared: bool = False
) -> list[Any]:
    """What `bulk_create` would insert for these unsaved instances of one model: its check of their
    related objects (an unsaved one is refused, one saved since it was assigned gives its id; skipped
    when the caller has `prepared` them already), then each field's value as `pre_save` gives it (the
    time, for automatic timestamps), one row an instance."""
    ready = saving(fields)
    if not prepared:
        for obj in objects:
            ready.prepare(obj, operation)
    return [ready.row(obj) for obj in objects]
