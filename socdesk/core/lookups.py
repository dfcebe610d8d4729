"""`field__in=[...]` on PostgreSQL as `field = ANY(%s)` with the list as one array parameter.

The two mean the same (PostgreSQL turns an IN list into `= ANY(ARRAY[...])` itself), but Django builds,
and psycopg quotes, one placeholder per value: for the hundreds of ids a batch reads (ingest, search
documents, queue pages) that is most of the CPU the query costs on the client. With one array
parameter the statement is the same whatever the number of values. Other databases, subqueries,
expressions and column types outside the list below keep Django's own IN.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In

ARRAY_TYPES = re.compile(r"(bigint|integer|smallint|text|uuid|varchar\(\d+\))")


class _AsArray:
    """What ArrayIn and RelatedArrayIn share: the array right-hand side and its operator."""

    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        self._array = False
        if connection.vendor == "postgresql" and self.rhs_is_direct_value():  # type: ignore[attr-defined]
            db_type = self.lhs.output_field.db_type(connection)  # type: ignore[attr-defined]
            if db_type and ARRAY_TYPES.fullmatch(db_type):
                try:
                    values = list(dict.fromkeys(self.rhs))  # type: ignore[attr-defined]
                except TypeError:  # unhashable values: Django's own IN says what is wrong
                    return super().process_rhs(compiler, connection)  # type: ignore[misc]
                values = [value for value in values if value is not None]  # NULL equals nothing
                if not values:
                    raise EmptyResultSet
                self._array = True
                return f"(%s::{db_type}[])", [values]
        return super().process_rhs(compiler, connection)  # type: ignore[misc]

    def get_rhs_op(self, connection: Any, rhs: str) -> Any:
        if self._array:
            return f"= ANY {rhs}"
        return super().get_rhs_op(connection, rhs)  # type: ignore[misc]


class ArrayIn(_AsArray, In):  # type: ignore[type-arg]
    pass


class RelatedArrayIn(_AsArray, RelatedIn):
    pass


def register() -> None:
    """Make these the `in` lookup of every field (called once, by the core app)."""
    Field.register_lookup(ArrayIn)
    ForeignObject.register_lookup(RelatedArrayIn)
