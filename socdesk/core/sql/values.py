"""The `UPDATE ... FROM (VALUES ...)` statement both databases run (only the casts differ)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field, Model
    from django.db.models.options import Options


def column_fields(meta: Options[Any], names: list[str]) -> list[Field[Any, Any]]:
    """The model's fields named (or attnamed) in `names`; callers name only concrete columns."""
    # get_field may also answer a reverse relation or a generic foreign key, which have no column:
    # the names here are the model's own columns, so each answer is a concrete Field.
    return [cast("Field[Any, Any]", meta.get_field(name)) for name in names]


def update_from_values(
    connection: BaseDatabaseWrapper,
    objects: Sequence[Model],
    columns: list[Field[Any, Any]],
    casts: list[str],
    batch: int,
) -> None:
    """`WITH v(...) AS (VALUES ...) UPDATE ... FROM v`: shared by both databases (casts differ)."""
    meta, quote = type(objects[0])._meta, connection.ops.quote_name
    pk = meta.pk
    names = ["id_", *(f"c{index}" for index in range(len(columns)))]
    assignments = ", ".join(
        f"{quote(field.column)} = v.{name}" for field, name in zip(columns, names[1:], strict=True)
    )
    table = quote(meta.db_table)
    for start in range(0, len(objects), batch):
        chunk = objects[start : start + batch]
        params: list[Any] = []
        for obj in chunk:
            params.append(pk.get_db_prep_save(obj.pk, connection))
            params += [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns]
        rows = ", ".join(["(" + ", ".join(casts) + ")"] * len(chunk))
        sql = (
            f"WITH v({', '.join(names)}) AS (VALUES {rows}) "
            f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{quote(pk.column)} = v.id_"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
