"""The embedded task queue: Huey on SQLite, committing without an fsync per task (WAL, synchronous=NORMAL).

With SQLite's default (synchronous=FULL) each enqueue waits for an fsync of the queue file while
holding its write lock, so every process that enqueues waits on the disk in turn (docs/benchmarks.md).
In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last few queued tasks; the jobs
run here (periodic sealing and sweeping, the worker ping) are all safe to lose and run again.
"""

from __future__ import annotations

import sqlite3

from huey import SqliteHuey as _SqliteHuey
from huey.storage import SqliteStorage as _SqliteStorage


class SqliteStorage(_SqliteStorage):
    """Huey's SQLite storage with synchronous=NORMAL on every connection it opens."""

    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class SqliteHuey(_SqliteHuey):
    """SqliteHuey using the storage above."""

    storage_class = SqliteStorage
