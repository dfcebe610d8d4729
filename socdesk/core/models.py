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
