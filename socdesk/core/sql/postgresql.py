"""PostgreSQL's side of socdesk.core.sql: COPY, unnested arrays, sequences, advisory locks, SKIP LOCKED."""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from socdesk.core.sql.values import column_fields, instance_rows, on_conflict, saving

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

    from socdesk.core.sql import QuerySetT

# Fields whose values psycopg may write (to COPY, or into a parameter) as they are, when they already
# have the type the field stores (str for text, int for numbers and ids...). Any other value, and every
# other field (JSON, IP addresses, binary...), goes through the field's own preparation, as bulk_create
# does.
_INT, _TEXT = frozenset({int}), frozenset({str})
_PLAIN_TYPES = {
    "AutoField": _INT,
    "BigAutoField": _INT,
    "BigIntegerField": _INT,
    "BooleanField": frozenset({bool}),
    "CharField": _TEXT,
    "DateTimeField": frozenset({datetime.datetime}),
    "ForeignKey": _INT,
    "IntegerField": _INT,
    "OneToOneField": _INT,
    "PositiveIntegerField": _INT,
    "PositiveSmallIntegerField": _INT,
    "SmallIntegerField": _INT,
    "TextField": _TEXT,
}
_NONE = type(None)
# Up to this many rows go in as one INSERT statement rather than a COPY.
_FEW_ROWS = 8
# A table's id sequence, looked up once per statement (an InitPlan) rather than once per id: called
# on every row, pg_get_serial_sequence and the cast to regclass cost more than nextval itself.
_SEQUENCE = "(SELECT pg_get_serial_sequence(%s, %s)::regclass)"


def arrays_cursor(connection: BaseDatabaseWrapper) -> Any:
    """A cursor for statements that take whole columns as array parameters (`%b::type[]`).

    Django's psycopg cursors bind parameters on the client: psycopg writes each array as quoted SQL
    text, escaping its elements one by one in Python. Bound on the server, in binary (`%b`), each
    element is dumped by psycopg's C code and sent as it is.
    """
    from django.db.backends.postgresql import base as postgresql

    # ServerBindingCursor is defined only under psycopg 3 (the one SOCdesk installs); stubs know neither.
    return _wrapped_cursor(connection, postgresql.ServerBindingCursor)  # type: ignore[attr-defined]


def numbered_cursor(connection: BaseDatabaseWrapper) -> Any:
    """A cursor that sends its statement as written, with PostgreSQL's own placeholders ($1, $2...),
    its parameters bound on the server: psycopg's other cursors rewrite %s placeholders in Python, and
    keep the rewrite only for short statements with few parameters."""
    return _wrapped_cursor(connection, _raw_cursor_class())


@functools.cache
def _raw_cursor_class() -> Any:
    """Django's psycopg cursor (its callproc) on psycopg's RawCursor."""
    import psycopg
    from django.db.backends.postgresql import base as postgresql

    # CursorMixin is defined only under psycopg 3 (the one SOCdesk installs); the stubs know neither.
    mixin: Any = postgresql.CursorMixin  # type: ignore[attr-defined]
    return type("RawBindingCursor", (mixin, psycopg.RawCursor), {})


def _wrapped_cursor(connection: BaseDatabaseWrapper, cursor_class: Any) -> Any:
    """A `cursor_class` cursor wrapped as Django wraps its own (query logging, execute wrappers, error
    translation). Nothing is prepared (Django's prepare_threshold stays off, so connection poolers are
    unaffected)."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(cursor_class(connection.connection))  # type: ignore[attr-defined]


def _take(connection: BaseDatabaseWrapper, key: str, count: int) -> list[int]:
    """Up to `count` values reserved for `key` by `socdesk.core.sql.reserved`, in increasing order."""
    pool: dict[str, list[int]] | None = getattr(connection, "_socdesk_reserved", None)
    if not pool or key not in pool:
        return []
    values = pool[key]
    taken, pool[key] = values[:count], values[count:]
    return taken


class PostgreSQL:
    """See socdesk.core.sql for what each method promises."""

    def insert_new(self, connection: BaseDatabaseWrapper, objects: Sequence[Model]) -> None:
        # Ids come from the table's identity sequence in one query, in list order; rows go in with COPY.
        model = type(objects[0])
        meta = model._meta
        fields = list(meta.concrete_fields)
        # Django's check of the related objects, before the ids: a refused batch draws none.
        ready = saving(fields)
        for obj in objects:
            ready.prepare(obj, "insert_new")
        missing = [obj for obj in objects if obj.pk is None]
        if missing:
            pks = _take(connection, meta.db_table, len(missing))
            if len(pks) < len(missing):
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT nextval({_SEQUENCE}) FROM generate_series(1, %s)",
                        [meta.db_table, meta.pk.column, len(missing) - len(pks)],
                    )
                    pks += sorted(pk for (pk,) in cursor.fetchall())
            for obj, pk in zip(missing, pks, strict=True):
                obj.pk = pk
        # pre_save as bulk_create calls it: the attribute for most fields, the time for auto_now ones.
        rows = instance_rows(objects, fields, "insert_new", prepared=True)
        self.copy_rows(connection, model, [field.attname for field in fields], rows)
        for obj in objects:
            obj._state.adding, obj._state.db = False, connection.alias

    def copy_rows(
        self,
        connection: BaseDatabaseWrapper,
        model: type[Model],
        names: list[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        # COPY skips Django's compilation of every value into SQL and psycopg's building of one array
        # per column.
        meta = model._meta
        fields = column_fields(meta, names)  # get_field knows attnames (`ticket_id`) too
        quote = connection.ops.quote_name
        plain = [_PLAIN_TYPES.get(field.get_internal_type(), frozenset()) | {_NONE} for field in fields]
        columns = f"{quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
        prepared = (
            [
                value if type(value) in types else field.get_db_prep_save(value, connection)
                for field, types, value in zip(fields, plain, row, strict=True)
            ]
            for row in rows
        )
        if len(rows) <= _FEW_ROWS:
            # A COPY costs two round trips (start, finish); a plain INSERT of a few rows costs one.
            placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {columns} VALUES {', '.join([placeholders] * len(rows))}",
                    [value for row in prepared for value in row],
                )
            return
        sql = f"COPY {columns} FROM STDIN"
        started = time.monotonic()
        # The driver's own cursor, so its errors are turned into Django's (IntegrityError...) here.
        with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in prepared:
                copy.write_row(row)
        if connection.queries_logged:  # COPY bypasses Django's cursor wrapper: count it like any query
            connection.queries_log.append(
                {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}"}
            )

    def bulk_set(
        self, connection: BaseDatabaseWrapper, objects: Sequence[Model], fields: list[str], batch: int
    ) -> None:
        # One array parameter per column, unnested into rows: the statement's text depends only on the
        # columns, so psycopg converts it once and caches it, where a VALUES list with a placeholder per
        # value is parsed again on every call (its cache keeps only short statements).
        meta = type(objects[0])._meta
        quote = connection.ops.quote_name
        pk, columns = meta.pk, column_fields(meta, fields)
        names = [f"c{index}" for index in range(len(columns))]
        arrays = ", ".join(f"%b::{field.db_type(connection) or 'text'}[]" for field in [pk, *columns])
        assignments = ", ".join(
            f"{quote(field.column)} = v.{name}" for field, name in zip(columns, names, strict=True)
        )
        table = quote(meta.db_table)
        sql = (
            f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v(id_, {', '.join(names)}) "
            f"WHERE {table}.{quote(pk.column)} = v.id_"
        )
        plain = [
            (field, field.attname, _PLAIN_TYPES.get(field.get_internal_type(), frozenset()) | {_NONE})
            for field in [pk, *columns]
        ]
        with arrays_cursor(connection) as cursor:
            for start in range(0, len(objects), batch):
                chunk = objects[start : start + batch]
                cursor.execute(
                    sql,
                    [
                        [
                            value
                            if type(value := getattr(obj, attname)) in types
                            else field.get_db_prep_save(value, connection)
                            for obj in chunk
                        ]
                        for field, attname, types in plain
                    ],
                )

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
        # One array parameter a column, as bulk_set: a VALUES list has a placeholder per value, which
        # psycopg rewrites in Python on every call (its cache keeps only short statements).
        meta = model._meta
        quote = connection.ops.quote_name
        fields = column_fields(meta, names)
        upsert = on_conflict(quote, meta, dict(zip(names, fields, strict=True)), unique, update, returning)
        arrays = ", ".join(f"%b::{field.db_type(connection) or 'text'}[]" for field in fields)
        columns = ", ".join(quote(field.column) for field in fields)
        plain = [_PLAIN_TYPES.get(field.get_internal_type(), frozenset()) | {_NONE} for field in fields]
        with arrays_cursor(connection) as cursor:
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT * FROM unnest({arrays}) " + upsert,
                [
                    [
                        value if type(value) in types else field.get_db_prep_save(value, connection)
                        for value in column
                    ]
                    for field, types, column in zip(fields, plain, zip(*rows, strict=True), strict=True)
                ],
            )
            return [tuple(row) for row in cursor.fetchall()] if returning else []

    def next_counter_values(
        self, connection: BaseDatabaseWrapper, name: str, count: int, start: int
    ) -> list[int]:
        values = _take(connection, f"socdesk_seq_{name}", count)
        if len(values) < count:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(%s) FROM generate_series(1, %s)",
                    [f"socdesk_seq_{name}", count - len(values)],
                )
                values += sorted(row[0] for row in cursor.fetchall())
        return values

    def reserve(
        self,
        connection: BaseDatabaseWrapper,
        ids: Mapping[type[Model], int],
        counters: Mapping[str, tuple[int, int]],
    ) -> dict[str, list[int]]:
        # One SELECT whose rows are (pool, value): a UNION ALL of one nextval series per table and counter.
        parts: list[str] = []
        params: list[Any] = []
        for model, count in ids.items():
            if count > 0:
                parts.append(f"SELECT %s, nextval({_SEQUENCE}) FROM generate_series(1, %s)")
                params += [model._meta.db_table, model._meta.db_table, model._meta.pk.column, count]
        for name, (count, _start) in counters.items():
            if count > 0:
                parts.append("SELECT %s, nextval(%s) FROM generate_series(1, %s)")
                params += [f"socdesk_seq_{name}", f"socdesk_seq_{name}", count]
        pool: dict[str, list[int]] = {}
        if parts:
            with connection.cursor() as cursor:
                cursor.execute(" UNION ALL ".join(parts), params)
                for key, value in cursor.fetchall():
                    pool.setdefault(key, []).append(value)
        for values in pool.values():
            values.sort()
        return pool

    def id_in(self, column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
        # One array parameter whatever the number of ids (see socdesk/core/lookups.py).
        return f"{column} = ANY(%s::bigint[])", [list(ids)]

    def grouping_sets_sql(
        self, connection: BaseDatabaseWrapper, base: str, sets: Sequence[Sequence[str]], total: str
    ) -> tuple[str, int]:
        quote = connection.ops.quote_name
        names = list(dict.fromkeys(name for columns in sets for name in columns))
        # GROUPING(a, b, ...) has a bit set for each column the row's set leaves out (a the highest):
        # the set's index is looked up from that mask.
        masks = []
        for index, columns in enumerate(sets):
            mask = sum(1 << (len(names) - 1 - i) for i, name in enumerate(names) if name not in columns)
            masks.append(f"WHEN {mask} THEN {index}")
        grouping = f"GROUPING({', '.join(map(quote, names))})"
        groups = ", ".join(f"({', '.join(map(quote, columns))})" for columns in sets)
        # SUM of a bigint accumulates in numeric; of an integer, in a bigint: much less work per row.
        summed = f"SUM(CAST({quote(total)} AS integer))"
        sql = (
            f"SELECT CASE {grouping} {' '.join(masks)} END, {', '.join(map(quote, names))}, "
            f"{summed} FROM ({base}) AS grouped_rows GROUP BY GROUPING SETS ({groups}) HAVING {summed} > 0"
        )
        return sql, 1

    def skip_commit_flush(self, connection: BaseDatabaseWrapper) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")

    def for_update(self, queryset: QuerySetT) -> QuerySetT:
        return queryset.select_for_update()

    def lock(self, connection: BaseDatabaseWrapper, key: int, key2: int | None, *, shared: bool) -> None:
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with connection.cursor() as cursor:
            if key2 is None:
                cursor.execute(f"SELECT {fn}(%s)", [key])
            else:
                cursor.execute(f"SELECT {fn}(%s, %s)", [key, key2])

    def try_lock(self, connection: BaseDatabaseWrapper, key: int) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
            return bool(cursor.fetchone()[0])

    def hold(self, connection: BaseDatabaseWrapper, key: int, key2: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [key, key2])

    def release(self, connection: BaseDatabaseWrapper, key: int, key2: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [key, key2])

    def claim_oldest(
        self,
        connection: BaseDatabaseWrapper,
        model: type[Model],
        *,
        expired: datetime.datetime,
        count: int,
        max_bytes: int,
        now: datetime.datetime,
        token: str,
        pending: str,
    ) -> list[int]:
        # One UPDATE over the oldest unlocked rows: concurrent claimers skip each other's rows
        # instead of queueing on them.
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH waiting AS (
                    SELECT id, octet_length(body) AS size FROM {table}
                    WHERE status = %(pending)s AND (claimed_at IS NULL OR claimed_at < %(expired)s)
                    ORDER BY id LIMIT %(count)s FOR UPDATE SKIP LOCKED
                ), budget AS (
                    SELECT id, ROW_NUMBER() OVER w AS n, SUM(size) OVER w AS total
                    FROM waiting WINDOW w AS (ORDER BY id)
                )
                UPDATE {table} SET claimed_at = %(now)s, claim_token = %(token)s, attempts = attempts + 1
                WHERE id IN (SELECT id FROM budget WHERE n = 1 OR total <= %(bytes)s)
                RETURNING id
                """,
                {
                    "pending": pending,
                    "expired": expired,
                    "count": count,
                    "now": now,
                    "token": token,
                    "bytes": max_bytes,
                },
            )
            return sorted(row[0] for row in cursor.fetchall())


POSTGRESQL = PostgreSQL()
