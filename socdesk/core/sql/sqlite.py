"""SQLite's side of socdesk.core.sql: IMMEDIATE transactions serialise writers already; locks are no-ops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q
from django.db.models.functions import Length

from socdesk.core.sql.values import column_fields, instance_rows, on_conflict

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field, Model
    from django.db.models.options import Options

    from socdesk.core.sql import QuerySetT


# Values SQLite's driver takes as they are when they have the type the field stores; every other value
# (datetimes, JSON, decimals...) goes through the field's own preparation, as bulk_create does.
_INT, _TEXT = frozenset({int}), frozenset({str})
_PLAIN_TYPES = {
    "AutoField": _INT,
    "BigAutoField": _INT,
    "BigIntegerField": _INT,
    "BooleanField": frozenset({bool}),
    "CharField": _TEXT,
    "ForeignKey": _INT,
    "IntegerField": _INT,
    "OneToOneField": _INT,
    "PositiveIntegerField": _INT,
    "PositiveSmallIntegerField": _INT,
    "SmallIntegerField": _INT,
    "TextField": _TEXT,
}
_NONE = type(None)


def _insert(
    connection: BaseDatabaseWrapper,
    meta: Options[Any],
    fields: list[Field[Any, Any]],
    rows: Sequence[Sequence[Any]],
    *,
    returning: bool,
) -> list[int]:
    """One `INSERT ... VALUES (...), (...)` per batch SQLite's parameter limit allows, written here rather
    than compiled by bulk_create (which costs more CPU than SQLite spends on the rows); with `returning`,
    the new ids in row order (`RETURNING`, as bulk_create reads them)."""
    quote = connection.ops.quote_name
    plain = [_PLAIN_TYPES.get(field.get_internal_type(), frozenset()) | {_NONE} for field in fields]
    columns = f"{quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" RETURNING {quote(meta.pk.column)}" if returning else ""
    batch = max(1, (connection.features.max_query_params or 999) // max(1, len(fields)))
    pks: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params = [
                value if type(value) in types else field.get_db_prep_save(value, connection)
                for row in chunk
                for field, types, value in zip(fields, plain, row, strict=True)
            ]
            cursor.execute(
                f"INSERT INTO {columns} VALUES {', '.join([placeholders] * len(chunk))}{tail}", params
            )
            if returning:
                pks += [pk for (pk,) in cursor.fetchall()]
    return pks


class SQLite:
    """See socdesk.core.sql for what each method promises."""

    def insert_new(self, connection: BaseDatabaseWrapper, objects: Sequence[Model]) -> None:
        model = type(objects[0])
        meta = model._meta
        if any(obj.pk is not None for obj in objects):  # ids given by the caller: Django's own insert
            model._default_manager.bulk_create(objects)
            return
        fields = [field for field in meta.concrete_fields if field is not meta.pk]
        # Django's check of the related objects, then pre_save as bulk_create calls it: the attribute
        # for most fields, the time for auto_now ones.
        rows = instance_rows(objects, fields, "insert_new")
        pks = _insert(connection, meta, fields, rows, returning=True)
        for obj, pk in zip(objects, pks, strict=True):
            obj.pk = pk
            obj._state.adding, obj._state.db = False, connection.alias

    def copy_rows(
        self,
        connection: BaseDatabaseWrapper,
        model: type[Model],
        names: list[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        _insert(connection, model._meta, column_fields(model._meta, names), rows, returning=False)

    def upsert_set(
        self,
        connection: BaseDatabaseWrapper,
        model: type[Model],
        names: list[str],
        rows: Sequence[Sequence[Any]],
        unique: list[str],
        update: list[str],
        returning: Sequence[str],
    ) -> list[tuple[Any, ...]]:
        meta = model._meta
        quote = connection.ops.quote_name
        fields = column_fields(meta, names)
        plain = [_PLAIN_TYPES.get(field.get_internal_type(), frozenset()) | {_NONE} for field in fields]
        upsert = on_conflict(quote, meta, dict(zip(names, fields, strict=True)), unique, update, returning)
        columns = f"{quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        batch = max(1, min(500, (connection.features.max_query_params or 999) // len(fields)))
        returned: list[tuple[Any, ...]] = []
        with connection.cursor() as cursor:
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                cursor.execute(
                    f"INSERT INTO {columns} VALUES {', '.join([placeholders] * len(chunk))} " + upsert,
                    [
                        value if type(value) in types else field.get_db_prep_save(value, connection)
                        for row in chunk
                        for field, types, value in zip(fields, plain, row, strict=True)
                    ],
                )
                if returning:
                    returned += [tuple(row) for row in cursor.fetchall()]
        return returned

    def bulk_set(
        self, connection: BaseDatabaseWrapper, objects: Sequence[Model], fields: list[str], batch: int
    ) -> None:
        # `WITH v(...) AS (VALUES ...) UPDATE ... FROM v`, with no CASTs: SQLite's would turn a
        # datetime's text into a number; its columns take values as sent.
        meta, quote = type(objects[0])._meta, connection.ops.quote_name
        pk, columns = meta.pk, column_fields(meta, fields)
        names = ["id_", *(f"c{index}" for index in range(len(columns)))]
        assignments = ", ".join(
            f"{quote(field.column)} = v.{name}" for field, name in zip(columns, names[1:], strict=True)
        )
        table = quote(meta.db_table)
        row = "(" + ", ".join(["%s"] * len(names)) + ")"
        with connection.cursor() as cursor:
            for start in range(0, len(objects), batch):
                chunk = objects[start : start + batch]
                params: list[Any] = []
                for obj in chunk:
                    params.append(pk.get_db_prep_save(obj.pk, connection))
                    params += [
                        field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns
                    ]
                cursor.execute(
                    f"WITH v({', '.join(names)}) AS (VALUES {', '.join([row] * len(chunk))}) "
                    f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{quote(pk.column)} = v.id_",
                    params,
                )

    def next_counter_values(
        self, connection: BaseDatabaseWrapper, name: str, count: int, start: int
    ) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_counter (name, value) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET value = value + %s RETURNING value",
                [name, start + count - 1, count],
            )
            last: int = cursor.fetchone()[0]
        return list(range(last - count + 1, last + 1))

    def reserve(
        self,
        connection: BaseDatabaseWrapper,
        ids: Mapping[type[Model], int],
        counters: Mapping[str, tuple[int, int]],
    ) -> dict[str, list[int]]:
        return {}  # ids come back from the insert itself; counters cost one upsert each anyway

    def id_in(self, column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)

    def grouping_sets_sql(
        self, connection: BaseDatabaseWrapper, base: str, sets: Sequence[Sequence[str]], total: str
    ) -> tuple[str, int]:
        quote = connection.ops.quote_name
        names = list(dict.fromkeys(name for columns in sets for name in columns))
        branches = []
        for index, columns in enumerate(sets):
            shown = ", ".join(quote(name) if name in columns else "NULL" for name in names)
            branches.append(
                f"SELECT {index}, {shown}, SUM({quote(total)}) FROM ({base}) "
                f"GROUP BY {', '.join(map(quote, columns))} HAVING SUM({quote(total)}) > 0"
            )
        return " UNION ALL ".join(branches), len(sets)

    def skip_commit_flush(self, connection: BaseDatabaseWrapper) -> None:
        return None  # synchronous=NORMAL in WAL mode already commits without a flush

    def for_update(self, queryset: QuerySetT) -> QuerySetT:
        return queryset

    def lock(self, connection: BaseDatabaseWrapper, key: int, key2: int | None, *, shared: bool) -> None:
        return None

    def try_lock(self, connection: BaseDatabaseWrapper, key: int) -> bool:
        return True

    def hold(self, connection: BaseDatabaseWrapper, key: int, key2: int) -> None:
        return None

    def release(self, connection: BaseDatabaseWrapper, key: int, key2: int) -> None:
        return None

    def claim_oldest(
        self,
        connection: BaseDatabaseWrapper,
        model: type[Model],
        *,
        expired: datetime,
        count: int,
        max_bytes: int,
        now: datetime,
        token: str,
        pending: str,
    ) -> list[int]:
        # Read the candidates, then one conditional UPDATE: of two claimers racing for a row exactly
        # one stamps it (the writer lock serialises the UPDATEs).
        claimable = Q(status=pending) & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=expired))
        candidates = (
            model._default_manager.filter(claimable)
            .order_by("id")
            .annotate(size=Length("body"))
            .values_list("id", "size")[:count]
        )
        budget = max_bytes
        wanted: list[int] = []
        for row_id, size in candidates:
            budget -= size or 0
            if budget < 0 and wanted:
                break
            wanted.append(row_id)
        if not wanted:
            return []
        model._default_manager.filter(claimable, pk__in=wanted).update(
            claimed_at=now, claim_token=token, attempts=F("attempts") + 1
        )
        return list(
            model._default_manager.filter(pk__in=wanted, claim_token=token)
            .order_by("id")
            .values_list("id", flat=True)
        )


SQLITE = SQLite()
