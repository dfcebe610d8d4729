"""Shared database pieces: named counters."""

from django.db import models

from socdesk.core import sql


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
    """Return the next value of a named counter, race-free (see socdesk.core.sql.next_counter_values)."""
    return sql.next_counter_values(name, 1, start)[0]
