"""`socdesk backup`: a consistent copy of the running product, as one archive (see the package doc)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

import socdesk
from socdesk.alerts.models import Alert
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import seal_pending
from socdesk.ops.backup.archive import (
    ATTACHMENT_NAME,
    ATTACHMENTS,
    FORMAT,
    MANIFEST,
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    BackupError,
    Progress,
    no_progress,
    pg_connect,
    pg_env,
    require_program,
    sha256_of,
)
from socdesk.tickets.models import Ticket


@dataclass
class Snapshot:
    """What the database held at the moment it was copied."""

    tickets: int
    alerts: int
    audit_events: int
    audit_head_seq: int
    audit_head_hash: str
    migrations: list[str]


def backup_create(path: Path, *, progress: Progress = no_progress) -> dict[str, Any]:
    """Write a consistent archive of the running product to `path`; returns its manifest.

    The archive is written to `<path>.partial` and renamed when complete, so `path` is never a torn file.
    """
    path = path.resolve()
    if path.exists():
        raise BackupError(f"{path} already exists; choose another file name (backups are never overwritten).")
    if not path.parent.is_dir():
        raise BackupError(f"The directory {path.parent} does not exist; create it first.")
    partial = path.with_name(path.name + ".partial")
    # The manifest names the audit chain's head: sealed first, it covers every event committed so far
    # (otherwise whatever the sealers had not reached yet, possibly nothing at all).
    seal_pending()
    with tempfile.TemporaryDirectory(prefix=".socdesk-backup-", dir=path.parent) as staging:
        vendor = connection.vendor
        progress("copying the database", 0, None)
        if vendor == "sqlite":
            db_member, snapshot = SQLITE_MEMBER, _sqlite_copy(Path(staging) / SQLITE_MEMBER)
        elif vendor == "postgresql":
            db_member, snapshot = POSTGRES_MEMBER, _postgres_dump(Path(staging) / POSTGRES_MEMBER)
        else:
            raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
        files = _attachment_files()
        members: dict[str, dict[str, Any]] = {}
        try:
            partial.touch(mode=0o600)  # never readable by others, even while written: it holds everything
            os.chmod(partial, 0o600)  # (a .partial left by a crashed run keeps its old mode otherwise)
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
                db_file = Path(staging) / db_member
                members[db_member] = {"size": db_file.stat().st_size, "sha256": sha256_of(db_file)}
                tar.add(db_file, arcname=db_member, recursive=False)
                for done, (name, source) in enumerate(files, start=1):
                    try:
                        digest = sha256_of(source)
                        tar.add(source, arcname=name, recursive=False)
                    except FileNotFoundError:
                        continue  # deleted by retention since the listing: the snapshot may still name it
                    members[name] = {"size": source.stat().st_size, "sha256": digest}
                    progress("copying attachments", done, len(files))
                manifest = {
                    "format": FORMAT,
                    "socdesk_version": socdesk.__version__,
                    "vendor": vendor,
                    "created_at": timezone.now().isoformat(),
                    "counts": {
                        "tickets": snapshot.tickets,
                        "alerts": snapshot.alerts,
                        "audit_events": snapshot.audit_events,
                    },
                    "audit_head": {"seq": snapshot.audit_head_seq, "chain_hash": snapshot.audit_head_hash},
                    "migrations": snapshot.migrations,
                    "members": members,
                }
                data = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(timezone.now().timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
            with partial.open("rb") as f:
                os.fsync(f.fileno())
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _attachment_files() -> list[tuple[str, Path]]:
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return []
    found = []
    for source in sorted(root.rglob("*")):
        name = f"{ATTACHMENTS}/{source.relative_to(root).as_posix()}"
        if source.is_file() and ATTACHMENT_NAME.match(name):
            found.append((name, source))
    return found


def _snapshot_sql() -> dict[str, str]:
    audit = AuditEvent._meta.db_table
    return {
        "tickets": f"SELECT count(*) FROM {Ticket._meta.db_table}",
        "alerts": f"SELECT count(*) FROM {Alert._meta.db_table}",
        "audit_events": f"SELECT count(*) FROM {audit}",
        "head": f"SELECT seq, chain_hash FROM {audit} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1",
        "migrations": "SELECT app, name FROM django_migrations ORDER BY app, name",
    }


def _read_snapshot(execute: Callable[[str], list[tuple]]) -> Snapshot:
    sql = _snapshot_sql()
    head = execute(sql["head"])
    return Snapshot(
        tickets=execute(sql["tickets"])[0][0],
        alerts=execute(sql["alerts"])[0][0],
        audit_events=execute(sql["audit_events"])[0][0],
        audit_head_seq=head[0][0] if head else 0,
        audit_head_hash=head[0][1] if head else "",
        migrations=[f"{app}.{name}" for app, name in execute(sql["migrations"])],
    )


def _sqlite_copy(target: Path) -> Snapshot:
    """SQLite's online backup: one read transaction copies every page (writers go on, in WAL mode)."""
    source = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=30)
    copy = sqlite3.connect(str(target))
    try:
        # pages=-1: the whole file in one step, inside one read snapshot. Copying in steps would restart
        # from the beginning after every write by another connection, and never finish on a busy desk.
        source.backup(copy, pages=-1)
        return _read_snapshot(lambda sql: copy.execute(sql).fetchall())
    finally:
        copy.close()
        source.close()


def _postgres_dump(target: Path) -> Snapshot:
    """pg_dump in an exported snapshot, so the counts read here describe exactly what it dumps."""
    import psycopg

    pg_dump = require_program("pg_dump")
    env = pg_env()
    with pg_connect(env) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            row = cursor.fetchone()
            assert row is not None  # the function always returns one row
            snapshot_id = row[0]

            def execute(sql: str) -> list[tuple]:
                cursor.execute(sql)
                return list(cursor.fetchall())

            snapshot = _read_snapshot(execute)
            done = subprocess.run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot_id}",
                    f"--file={target}",
                ],
                env=env,
                capture_output=True,
                text=True,
            )
        conn.rollback()
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip() or done.returncode}")
    return snapshot
