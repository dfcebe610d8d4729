"""What both databases' sides of socdesk.core.sql share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from django.db.models import Field
    from django.db.models.options import Options


def column_fields(meta: Options[Any], names: list[str]) -> list[Field[Any, Any]]:
    """The model's fields named (or attnamed) in `names`; callers name only concrete columns."""
    # get_field may also answer a reverse relation or a generic foreign key, which have no column:
    # the names here are the model's own columns, so each answer is a concrete Field.
    return [cast("Field[Any, Any]", meta.get_field(name)) for name in names]
