"""Shared database pieces: named counters."""

from django.db import connection, models


class Counter(models.Model):
    """A named, monotonically increasing number (ticket numbers on SQLite)."""

    name = models.CharField(max_length=50, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


def create_sequence_sql(name: str, start: int = 1) -> str:
    """SQL for the PostgreSQL sequence behind a counter (run from a migration)."""
    return f"CREATE SEQUENCE IF NOT EXISTS socdesk_seq_{name} START WITH {int(start)}"


def next_counter_value(name: str, start: int = 1) -> int:
    """Return the next value of a named counter, race-free.

    On PostgreSQL a real sequence is used: it never blocks concurrent transactions (gaps on rollback
    are fine for ticket numbers). On SQLite the writer lock already serialises transactions, so an
    UPDATE ... RETURNING on a counter row is race-free there.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence is created by the migration of the app that owns the counter.
            cursor.execute("SELECT nextval(%s)", [f"socdesk_seq_{name}"])
            return cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO core_counter (name, value) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            [name, start],
        )
        return cursor.fetchone()[0]


def next_counter_values(name: str, count: int, start: int = 1) -> list[int]:
    """`count` new values of a named counter at once, in increasing order (one query)."""
    if count < 1:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [f"socdesk_seq_{name}", count])
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            "INSERT INTO core_counter (name, value) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET value = value + %s RETURNING value",
            [name, start + count - 1, count],
        )
        last = cursor.fetchone()[0]
        return list(range(last - count + 1, last + 1))
