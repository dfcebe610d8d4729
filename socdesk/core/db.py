"""Database-level tuning applied on every new connection."""

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


def bulk_set(objects: list, fields: list[str], *, batch: int = 1000) -> None:
    """Write `fields` of saved model instances back in one UPDATE per `batch` rows.

    Django's bulk_update builds a CASE WHEN per field and row, which costs more CPU to compile than
    the database spends on a thousand rows. This joins the table to a VALUES list instead
    (`WITH v(...) AS (VALUES ...) UPDATE ... FROM v`), which PostgreSQL and SQLite (3.33+) both run.
    """
    from django.db import connection

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
