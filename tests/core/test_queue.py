"""The embedded task queue commits without an fsync per task (safe in WAL mode; the sweep covers losses)."""

from __future__ import annotations

import pytest
from django.conf import settings
from huey.contrib.djhuey import HUEY

from socdesk.core.queue import SqliteHuey


def test_embedded_queue_runs_in_wal_mode_with_synchronous_normal(tmp_path):
    queue = SqliteHuey("probe", filename=str(tmp_path / "q.sqlite3"))
    conn = queue.storage.conn
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert conn.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL (FULL is 2)


def test_the_project_queue_uses_it_without_redis():
    if settings.REDIS_URL:
        pytest.skip("REDIS_URL is set: the queue is Redis")
    assert isinstance(HUEY, SqliteHuey)
