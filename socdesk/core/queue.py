"""The embedded task queue: Huey on SQLite, committing without an fsync per task (WAL, synchronous=NORMAL).

Every webhook delivery enqueues a task. With SQLite's default (synchronous=FULL) each enqueue waits for
an fsync of the queue file while holding its write lock, about 3 ms here, so the whole server could
acknowledge only ~350 deliveries a second however many processes it ran. In WAL mode, NORMAL cannot
corrupt the file; a power cut may lose the last few queued tasks, which costs nothing: the delivery row
in the main database is the durable record and the periodic sweep processes deliveries whose task was
lost (see socdesk.alerts.services.deliveries_sweep).
"""

from __future__ import annotations

from huey import SqliteHuey as _SqliteHuey
from huey.storage import SqliteStorage as _SqliteStorage


class SqliteStorage(_SqliteStorage):
    """Huey's SQLite storage with synchronous=NORMAL on every connection it opens."""

    def _create_connection(self):
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class SqliteHuey(_SqliteHuey):
    """SqliteHuey using the storage above."""

    storage_class = SqliteStorage
