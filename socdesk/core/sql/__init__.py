"""Database-specific SQL behind one small interface, with a PostgreSQL and an SQLite implementation.

Everything in SOCdesk that needs more than the ORM offers portably goes through these functions:
bulk writes (COPY, `UPDATE ... FROM` a list of rows), named counters, row locks, advisory locks, and the
claim of a batch from a work queue table. Each picks the implementation for this thread's default
connection (socdesk.core.sql.postgresql or socdesk.core.sql.sqlite); callers never branch on the
database themselves.

    PostgreSQL                                  SQLite
    COPY for new rows (one INSERT for a few)    one written INSERT ... RETURNING per batch
    UPDATE ... FROM unnest(one array a column)  UPDATE ... FROM (VALUES (...), (...) ...)
    INSERT ... SELECT FROM unnest ON CONFLICT   INSERT ... VALUES (...), (...) ON CONFLICT
    ids and counter values reserved in one query  nothing (ids come with the insert)
    sequences for counters                      an upsert on core_counter
    SELECT ... FOR UPDATE                       nothing (IMMEDIATE transactions hold the write lock)
    advisory locks (transaction, session)       nothing (one writer at a time already)
    claim with FOR UPDATE SKIP LOCKED           claim with a conditional UPDATE
    `col = ANY(%s::bigint[])`, one parameter    `col IN (%s, %s, ...)`
    GROUP BY GROUPING SETS (one scan)           UNION ALL of one GROUP BY per set
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections

from socdesk.core.sql.values import column_fields

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model, QuerySet

QuerySetT = TypeVar("QuerySetT", bound="QuerySet[Any, Any]")


class Backend(Protocol):
    """What each database implements (see the module docstring)."""

    def insert_new(self, connection: BaseDatabaseWrapper, objects: Sequence[Model]) -> None: ...

    def copy_rows(
        self,
        connection: BaseDatabaseWrapper,
        model: type[Model],
        names: list[str],
        rows: Sequence[Sequence[Any]],
    ) -> None: ...

    def bulk_set(
        self, connection: BaseDatabaseWrapper, objects: Sequence[Model], fields: list[str], batch: int
    ) -> None: ...

    def upsert_set(
        self,
        connection: BaseDatabaseWrapper,
        model: type[Model],
        names: list[str],
        rows: Sequence[Sequence[Any]],
        unique: list[str],
        update: list[str],
        returning: Sequence[str],
    ) -> list[tuple[Any, ...]]: ...

    def next_counter_values(
        self, connection: BaseDatabaseWrapper, name: str, count: int, start: int
    ) -> list[int]: ...

    def reserve(
        self,
        connection: BaseDatabaseWrapper,
        ids: Mapping[type[Model], int],
        counters: Mapping[str, tuple[int, int]],
    ) -> dict[str, list[int]]: ...

    def skip_commit_flush(self, connection: BaseDatabaseWrapper) -> None: ...

    def id_in(self, column: str, ids: Sequence[int]) -> tuple[str, list[Any]]: ...

    def for_update(self, queryset: QuerySetT) -> QuerySetT: ...

    def lock(self, connection: BaseDatabaseWrapper, key: int, key2: int | None, *, shared: bool) -> None: ...

    def try_lock(self, connection: BaseDatabaseWrapper, key: int) -> bool: ...

    def hold(self, connection: BaseDatabaseWrapper, key: int, key2: int) -> None: ...

    def release(self, connection: BaseDatabaseWrapper, key: int, key2: int) -> None: ...

    def grouping_sets_sql(
        self, connection: BaseDatabaseWrapper, base: str, sets: Sequence[Sequence[str]], total: str
    ) -> tuple[str, int]: ...

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
    ) -> list[int]: ...


def _connection() -> BaseDatabaseWrapper:
    # This thread's connection itself: `django.db.connection` is a proxy that looks it up on every
    # attribute, which in a loop over thousands of values costs more than the work.
    return connections[DEFAULT_DB_ALIAS]


def _backend(connection: BaseDatabaseWrapper) -> Backend:
    if connection.vendor == "postgresql":
        from socdesk.core.sql.postgresql import POSTGRESQL

        return POSTGRESQL
    from socdesk.core.sql.sqlite import SQLITE

    return SQLITE


def insert_new(objects: Sequence[Model]) -> None:
    """Insert unsaved instances of one model and set their ids, in list order, as bulk_create does.

    For rows this transaction has just made up (a batch's tickets, alerts, links, audit events), so
    there is nothing to conflict with; on PostgreSQL they go in with COPY.
    """
    if objects:
        connection = _connection()
        _backend(connection).insert_new(connection, objects)


def copy_rows(model: type[Model], names: list[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows of plain values (one per field in `names`, by attname) with no model instances.

    For link and log rows that nothing reads back in the same transaction. Name every column but the
    id: on PostgreSQL the others left out would be NULL, not their model default.
    """
    if rows:
        connection = _connection()
        _backend(connection).copy_rows(connection, model, names, rows)


def rows_for_ids(query: str, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """Run a fixed SELECT whose `{ids}` stands for "<column> is one of these ids" and return its rows.

    For the few hot reads that run on every ticket written (the search documents): Django spends far
    more CPU building a query than the database spends answering it (docs/benchmarks.md), and a
    statement written once costs nothing to build. `query` names its column as `{ids:column}`, e.g.
    `SELECT ... FROM t WHERE {ids:t.ticket_id} ORDER BY ...`; its text must be a constant.
    """
    if not ids:
        return []
    connection = _connection()
    start, rest = query.split("{ids:", 1)
    column, end = rest.split("}", 1)
    condition, params = _backend(connection).id_in(column, ids)
    with connection.cursor() as cursor:
        cursor.execute(f"{start}{condition}{end}", params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def bulk_set(objects: Sequence[Model], fields: list[str], *, batch: int = 1000) -> None:
    """Write `fields` of saved model instances back in one `UPDATE ... FROM <rows>` per `batch` rows.

    Django's bulk_update builds a CASE WHEN per field and row, which costs more CPU to compile than
    the database spends on a thousand rows. PostgreSQL's rows come from `unnest` of one array
    parameter per column (a statement whose text depends only on the fields); SQLite's from a VALUES
    list.
    """
    if objects:
        connection = _connection()
        _backend(connection).bulk_set(connection, objects, fields, batch)


def next_counter_values(name: str, count: int, start: int = 1) -> list[int]:
    """`count` new values of a named counter at once, in increasing order, race-free (one query).

    PostgreSQL uses the sequence `socdesk_seq_<name>` (created by the migration of the app that owns
    the counter; never blocks concurrent transactions, gaps on rollback are fine); SQLite an upsert
    on the counter's row, which its writer lock serialises.
    """
    if count < 1:
        return []
    connection = _connection()
    return _backend(connection).next_counter_values(connection, name, count, start)


@contextmanager
def reserved(
    ids: Mapping[type[Model], int], counters: Mapping[str, tuple[int, int]] | None = None
) -> Iterator[None]:
    """Within the block, `insert_new` and `next_counter_values` draw on values reserved here at once.

    `ids`: how many new rows of each model the block will insert; `counters`: name -> (count, start).
    On PostgreSQL every id and counter value a batch needs comes from one query instead of one per
    table; a count that turns out too small only means the rest are drawn as usual, and values left
    over are simply never used (gaps, as after a rollback). SQLite reserves nothing.
    """
    connection = _connection()
    pool = _backend(connection).reserve(connection, ids, counters or {})
    outer = getattr(connection, "_socdesk_reserved", None)
    connection._socdesk_reserved = pool  # type: ignore[attr-defined]  # read by the backends
    try:
        yield
    finally:
        connection._socdesk_reserved = outer  # type: ignore[attr-defined]


def skip_commit_flush(alias: str = DEFAULT_DB_ALIAS) -> None:
    """This transaction's commit need not wait for its write to be durable (data that may be lost in
    a crash, such as a rate counter). Call it only in a transaction of your own: inside a caller's, it
    would weaken the durability of the caller's writes too."""
    connection = connections[alias]
    _backend(connection).skip_commit_flush(connection)


def for_update(queryset: QuerySetT) -> QuerySetT:
    """The queryset with its rows locked until the transaction ends, where the database locks rows."""
    return _backend(_connection()).for_update(queryset)


def lock(key: int, key2: int | None = None, *, shared: bool = False) -> None:
    """Wait for a named lock held until this transaction ends (two writers of one kind queue)."""
    connection = _connection()
    _backend(connection).lock(connection, key, key2, shared=shared)


def try_lock(key: int) -> bool:
    """Take a named lock until this transaction ends if it is free; False when someone holds it."""
    connection = _connection()
    return _backend(connection).try_lock(connection, key)


def hold(key: int, key2: int) -> None:
    """Take a named lock for this connection's session (until `release`, or until it closes)."""
    connection = _connection()
    _backend(connection).hold(connection, key, key2)


def release(key: int, key2: int) -> None:
    """Release a lock taken with `hold`."""
    connection = _connection()
    _backend(connection).release(connection, key, key2)


def grouped_sums(
    queryset: QuerySet[Any, Any], sets: Sequence[Sequence[str]], total: str
) -> list[tuple[int, tuple[Any, ...], int]]:
    """The sum of the column `total` over the queryset's rows grouped by each set of columns in turn, in
    one statement: `(index of the set, the set's values in its order, sum)` for every group whose sum is
    above zero. Columns are the model's field names (attnames), values converted as the ORM would.

    PostgreSQL reads the rows once for every set (GROUP BY GROUPING SETS); SQLite, which has no
    grouping sets, runs one GROUP BY per set joined by UNION ALL, in the same statement. Each row's
    `total` must fit in 32 bits (a roll-up row's count does; PostgreSQL refuses one that does not, it
    never sums wrong); the sums are 64-bit.
    """
    if len({frozenset(columns) for columns in sets}) != len(sets):
        raise ValueError("Each grouping set must group by different columns.")
    names = list(dict.fromkeys(name for columns in sets for name in columns))
    base, params = queryset.order_by().values(*names, total).query.sql_with_params()
    connection = _connection()
    sql, copies = _backend(connection).grouping_sets_sql(connection, base, sets, total)
    # Only dates need converting (SQLite hands them back as text from a raw statement).
    dates = {
        names.index(name): field.to_python
        for name in names
        if (field := queryset.model._meta.get_field(name)).get_internal_type() == "DateField"
    }
    positions = [[names.index(name) for name in columns] for columns in sets]
    out: list[tuple[int, tuple[Any, ...], int]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, tuple(params) * copies)
        for index, *values, summed in cursor.fetchall():
            for position, to_python in dates.items():
                if isinstance(values[position], str):
                    values[position] = to_python(values[position])
            out.append((index, tuple([values[i] for i in positions[index]]), int(summed)))
    return out


def plain_rows(queryset: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows of a `values(...)` queryset, with its annotations, as plain tuples: the values' columns
    in their order, then the annotations in theirs. Read without the ORM's per-row conversion, which
    costs more client time than the statement itself for a few thousand grouped rows; dates are
    converted (SQLite hands them back as text), nothing else is, so the other columns must be text or
    integers as the driver gives them (a sum over a bigint is a Decimal on PostgreSQL: cast it to an
    integer first, as the roll-up reads do)."""
    query = queryset.query
    names = [*query.values_select, *query.annotation_select]
    if not query.values_select:
        raise ValueError("plain_rows reads a values(...) queryset.")
    dates = {
        index: field.to_python
        for index, name in enumerate(query.values_select)
        if (field := queryset.model._meta.get_field(name)).get_internal_type() == "DateField"
    }
    sql, params = query.sql_with_params()
    with _connection().cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) and len(rows[0]) != len(names):
        raise ValueError("plain_rows reads a values(...) queryset without extra columns.")
    if not dates or not rows or not any(isinstance(rows[0][index], str) for index in dates):
        return [tuple(row) for row in rows]
    converted = []
    for row in rows:
        values = list(row)
        for index, to_python in dates.items():
            values[index] = to_python(values[index])
        converted.append(tuple(values))
    return converted


def claim_oldest(
    model: type[Model],
    *,
    expired: datetime,
    count: int,
    max_bytes: int,
    now: datetime,
    token: str,
    pending: str,
) -> list[int]:
    """Claim the oldest claimable rows of a work queue table; returns their ids in id order.

    The table has `status`, `claimed_at`, `claim_token`, `attempts` and a binary `body`. Rows are
    claimable when `status` is `pending` and they are unclaimed or their claim is older than
    `expired`. At most `count` rows, and no more body bytes than `max_bytes` (the first row is
    taken however large). Two claimers never get the same row.
    """
    connection = _connection()
    return _backend(connection).claim_oldest(
        connection,
        model,
        expired=expired,
        count=count,
        max_bytes=max_bytes,
        now=now,
        token=token,
        pending=pending,
    )


def for_update_skip_locked(queryset: QuerySetT) -> QuerySetT:
    """The queryset's rows locked until the transaction ends, passing over rows another transaction
    holds (PostgreSQL); unchanged where the database does not lock rows (SQLite's IMMEDIATE transaction
    already holds the one write lock, so no other claimer runs at the same time)."""
    if _connection().features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def upsert_add(
    model: type[Model], keys: list[str], counts: list[str], rows: Sequence[Sequence[Any]], *, batch: int = 500
) -> None:
    """Add `rows` (key values then count values, in the order named) to a counter table whose `keys`
    are unique: a new key is inserted, an existing one has each count increased by the row's (negative
    values decrease it). One `INSERT ... ON CONFLICT DO UPDATE` per batch: the same SQL on both
    databases. Callers pass rows sorted by key, so concurrent writers lock rows in one order."""
    if not rows:
        return
    connection = _connection()
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [str(field.column) for field in column_fields(meta, [*keys, *counts])]
    table = quote(meta.db_table)
    width = len(columns)
    assignments = ", ".join(
        f"{quote(column)} = {table}.{quote(column)} + excluded.{quote(column)}"
        for column in columns[len(keys) :]
    )
    conflict = ", ".join(quote(column) for column in columns[: len(keys)])
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            placeholders = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) VALUES {placeholders} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}",
                [value for row in chunk for value in row],
            )


def upsert_set(
    model: type[Model],
    names: list[str],
    rows: Sequence[Sequence[Any]],
    *,
    unique: list[str],
    update: list[str],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert `rows` (one value per field in `names`, by attname); a row whose `unique` columns match a
    stored row sets that row's `update` columns to its own values instead (with no `update` columns,
    the stored row is left as it is). What `bulk_create(update_conflicts=...)` or
    `bulk_create(ignore_conflicts=True)` stores, as `INSERT ... ON CONFLICT` statements written here:
    Django's insert compiler costs more CPU than the database spends on the rows. PostgreSQL takes
    the rows as one array parameter a column (unnested, bound in binary: no placeholder per value for
    psycopg to rewrite), SQLite as VALUES lists, a batch each. Values are prepared as bulk_create
    prepares them. Callers pass rows sorted by the unique columns, so concurrent writers lock rows in
    one order. `returning` (attnames): the values of those fields of every row inserted or updated
    (`RETURNING`, both databases), in no promised order, so callers name a unique field among them
    to match rows up; a row left alone by `DO NOTHING` returns nothing."""
    if not rows:
        return []
    connection = _connection()
    return _backend(connection).upsert_set(connection, model, names, rows, unique, update, returning)
