"""Database-level tuning applied on every new connection, and bulk write helpers."""

import datetime
import time

from django.db.backends.signals import connection_created
from django.dispatch import receiver


@receiver(connection_created)
def tune_sqlite(sender, connection, **kwargs) -> None:
    """Put SQLite in WAL mode so that the web process and the worker read while the other writes."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")


def is_postgres(connection=None) -> bool:
    """True when the default database is PostgreSQL."""
    from django.db import connection as default_connection

    return (connection or default_connection).vendor == "postgresql"


def _current_connection():
    """This thread's default connection itself: `django.db.connection` is a proxy that looks it up on
    every attribute, which in a loop over thousands of values costs more than the work."""
    from django.db import DEFAULT_DB_ALIAS, connections

    return connections[DEFAULT_DB_ALIAS]


def bulk_set(objects: list, fields: list[str], *, batch: int = 1000) -> None:
    """Write `fields` of saved model instances back in one UPDATE per `batch` rows.

    Django's bulk_update builds a CASE WHEN per field and row, which costs more CPU to compile than
    the database spends on a thousand rows. This joins the table to a VALUES list instead
    (`WITH v(...) AS (VALUES ...) UPDATE ... FROM v`), which PostgreSQL and SQLite (3.33+) both run.
    """
    connection = _current_connection()
    if not objects:
        return
    model = type(objects[0])
    meta, quote = model._meta, connection.ops.quote_name
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    if connection.vendor == "postgresql":  # VALUES columns need their types there
        casts = [f"CAST(%s AS {field.db_type(connection) or 'text'})" for field in [pk, *columns]]
    else:  # SQLite's CAST would turn a datetime's text into a number; its columns take values as sent
        casts = ["%s"] * (len(columns) + 1)
    names = ["id_", *(f"c{index}" for index in range(len(columns)))]
    assignments = ", ".join(
        f"{quote(field.column)} = v.{name}" for field, name in zip(columns, names[1:], strict=True)
    )
    table = quote(meta.db_table)
    for start in range(0, len(objects), batch):
        chunk = objects[start : start + batch]
        params: list = []
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


# Fields whose values psycopg may write to COPY as they are, when they already have the type the
# field stores (str for text, int for numbers and ids...). Any other value, and every other field (JSON,
# IP addresses, binary...), goes through the field's own preparation, as bulk_create does.
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


def insert_new(objects: list) -> None:
    """Insert unsaved instances of one model and set their ids: `bulk_create` at a fraction of the CPU.

    For rows this transaction has just made up (a batch of alerts' tickets, alerts, links, audit
    events), so there is nothing to conflict with. On PostgreSQL the ids come from the table's
    identity sequence in one query and the rows go in with COPY (see `copy_rows`). Ids are handed
    out in list order, as bulk_create does. Elsewhere (SQLite) this is bulk_create.
    """
    connection = _current_connection()
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects)
        return
    meta = model._meta
    fields = list(meta.concrete_fields)
    for obj in objects:
        obj._prepare_related_fields_for_save(operation_name="insert_new")
    missing = [obj for obj in objects if obj.pk is None]
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(missing)],
            )
            for obj, (pk,) in zip(missing, sorted(cursor.fetchall()), strict=True):
                obj.pk = pk
    # pre_save as bulk_create calls it: the attribute for most fields, the time for auto_now ones.
    rows = [[field.pre_save(obj, True) for field in fields] for obj in objects]
    copy_rows(model, [field.attname for field in fields], rows)
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias


def copy_rows(model, names: list[str], rows: list[list]) -> None:
    """Insert rows of plain values (one per field in `names`, by attname) with no model instances.

    For link and log rows that nothing reads back in the same transaction. On PostgreSQL this is a
    COPY, which skips Django's compilation of every value into SQL and psycopg's building of one
    array per column (together a third of a flood's processing time); elsewhere, bulk_create.
    Name every column but the id: on PostgreSQL the others left out would be NULL, not their
    model default.
    """
    connection = _current_connection()
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in names]  # get_field knows attnames (`ticket_id`) too
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(names, row, strict=True))) for row in rows])
        return
    quote = connection.ops.quote_name
    plain = [_PLAIN_TYPES.get(field.get_internal_type(), frozenset()) | {_NONE} for field in fields]
    sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    started = time.monotonic()
    # The driver's own cursor, so its errors are turned into Django's (IntegrityError...) here.
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(
                [
                    value if type(value) in types else field.get_db_prep_save(value, connection)
                    for field, types, value in zip(fields, plain, row, strict=True)
                ]
            )
    if connection.queries_logged:  # COPY bypasses Django's cursor wrapper: count it like any query
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}"}
        )
