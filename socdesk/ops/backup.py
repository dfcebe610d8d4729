"""Backups and restores: one .tar with the database, the attachments and a manifest of checksums.

An archive holds:

- `manifest.json` (last member): format, SOCdesk version, database vendor, created_at, the counts and the
  audit chain head as of the database snapshot, the applied migrations, and size and SHA-256 of every
  other member;
- `database.sqlite3` (SQLite's online backup API: a consistent copy while the product runs) or
  `database.pgdump` (`pg_dump --format=custom`, run inside an exported snapshot, so the manifest's counts
  and chain head are read from exactly the state that was dumped);
- `attachments/<xx>/<sha256>`: the attachment files, copied after the snapshot (files are content-addressed
  and written before the rows naming them commit, so every file the snapshot names is there).

The Huey queue file (SQLite queue) is not included: alert deliveries wait in the main database, and the
queue only holds jobs that are safe to lose and run again (sealing, sweeping, retention, the worker ping).

A restore checks everything before it writes anything (manifest, vendor, migrations known here, every
member's checksum), refuses a database that holds data unless forced, writes the database in one
transaction, migrates an older archive forward, then seals and verifies the audit chain.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

import socdesk
from socdesk.alerts.models import Alert
from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
ATTACHMENTS = "attachments"
# What an attachment member may be called: attachments/<2 hex>/<64 hex> (content-addressed names).
ATTACHMENT_NAME = re.compile(r"^attachments/[0-9a-f]{2}/[0-9a-f]{64}$")
CHUNK = 1 << 20

# Progress callback: (what is being done, done so far, total or None when unknown).
Progress = Callable[[str, int, int | None], None]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


def _no_progress(what: str, done: int, total: int | None) -> None:
    pass


@dataclass
class Snapshot:
    """What the database held at the moment it was copied."""

    tickets: int
    alerts: int
    audit_events: int
    audit_head_seq: int
    audit_head_hash: str
    migrations: list[str]


@dataclass
class RestoreReport:
    """What a restore did and found."""

    manifest: dict[str, Any]
    tickets: int = 0
    migrations_applied: int = 0
    attachments: int = 0
    audit_checked: int = 0
    audit_ok: bool = False
    audit_problem: str = ""
    messages: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- backup ------------------------------------------------------------------------------------------


def backup_create(path: Path, *, progress: Progress = _no_progress) -> dict[str, Any]:
    """Write a consistent archive of the running product to `path`; returns its manifest.

    The archive is written to `<path>.partial` and renamed when complete, so `path` is never a torn file.
    """
    path = path.resolve()
    if path.exists():
        raise BackupError(f"{path} already exists; choose another file name (backups are never overwritten).")
    if not path.parent.is_dir():
        raise BackupError(f"The directory {path.parent} does not exist; create it first.")
    partial = path.with_name(path.name + ".partial")
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
                members[db_member] = {"size": db_file.stat().st_size, "sha256": _sha256(db_file)}
                tar.add(db_file, arcname=db_member, recursive=False)
                for done, (name, source) in enumerate(files, start=1):
                    try:
                        digest = _sha256(source)
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


def _pg_env() -> dict[str, str]:
    """libpq's environment for pg_dump/pg_restore/psql: the database Django uses (password not on argv)."""
    s = connection.settings_dict
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if s.get(key):
            env[var] = str(s[key])
    env["PGDATABASE"] = str(s["NAME"])
    options = s.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return env


def _require(program: str) -> str:
    found = shutil.which(program)
    if not found:
        raise BackupError(
            f"{program} is not installed; install the PostgreSQL client tools (Debian: postgresql-client) "
            "of the server's major version or newer."
        )
    return found


def _postgres_dump(target: Path) -> Snapshot:
    """pg_dump in an exported snapshot, so the counts read here describe exactly what it dumps."""
    import psycopg

    pg_dump = _require("pg_dump")
    env = _pg_env()
    with _pg_connect(env) as conn:
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


def _pg_connect(env: dict[str, str]):
    import psycopg

    return psycopg.connect(
        host=env.get("PGHOST"),
        port=env.get("PGPORT"),
        user=env.get("PGUSER"),
        password=env.get("PGPASSWORD"),
        dbname=env["PGDATABASE"],
        sslmode=env.get("PGSSLMODE"),
    )


# --- restore -----------------------------------------------------------------------------------------


def backup_read_manifest(path: Path) -> dict[str, Any]:
    """The archive's manifest, after checking that it is a SOCdesk backup this version can read."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file.")
    try:
        with tarfile.open(path, "r:") as tar:
            member = tar.getmember(MANIFEST)
            extracted = tar.extractfile(member)
            manifest = json.loads(extracted.read()) if extracted else None
    except KeyError:
        raise BackupError(
            f"{path} has no {MANIFEST}: it is not a SOCdesk backup, or it was cut short. "
            "Nothing was restored."
        ) from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(
            f"{path} is not a readable .tar archive ({exc}); it may be truncated or damaged."
        ) from None
    except ValueError:
        raise BackupError(f"The {MANIFEST} in {path} is not valid JSON: the archive is damaged.") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("members"), dict):
        raise BackupError(f"The {MANIFEST} in {path} is not a SOCdesk backup manifest.")
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{path} is backup format {manifest.get('format')!r}; this SOCdesk ({socdesk.__version__}) reads "
            f"format {FORMAT}. Restore it with the SOCdesk version that made it "
            f"({manifest.get('socdesk_version', 'unknown')})."
        )
    return manifest


def _check_compatible(manifest: dict[str, Any]) -> None:
    vendor = connection.vendor
    if manifest.get("vendor") != vendor:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        theirs = names.get(manifest.get("vendor", ""), repr(manifest.get("vendor")))
        raise BackupError(
            f"This backup is of a {theirs} database, and this SOCdesk uses {names.get(vendor, vendor)}. "
            f"Restore it on a SOCdesk configured for {theirs} "
            + ("(unset DATABASE_URL)." if manifest.get("vendor") == "sqlite" else "(set DATABASE_URL).")
        )
    known = {
        f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    }
    unknown = [m for m in manifest.get("migrations", []) if m not in known]
    if unknown:
        raise BackupError(
            f"This backup was made by a newer SOCdesk ({manifest.get('socdesk_version')}): its database has "
            f"migration {unknown[0]}, which this version ({socdesk.__version__}) does not know. Upgrade "
            "SOCdesk to that version or later, then restore."
        )


def _extract_checked(path: Path, manifest: dict[str, Any], staging: Path, progress: Progress) -> list[str]:
    """Extract every member into `staging`, checking names, sizes and checksums against the manifest."""
    expected: dict[str, dict[str, Any]] = manifest["members"]
    db_member = SQLITE_MEMBER if manifest["vendor"] == "sqlite" else POSTGRES_MEMBER
    if db_member not in expected:
        raise BackupError(f"The manifest lists no {db_member}: the archive is incomplete.")
    seen: list[str] = []
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                name = member.name
                if name == MANIFEST:
                    continue
                if name not in expected or not member.isfile():
                    raise BackupError(f"{path} holds {name!r}, which its manifest does not list: refused.")
                if name != db_member and not ATTACHMENT_NAME.match(name):
                    raise BackupError(f"{path} holds an unexpected member {name!r}: refused.")
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                source = tar.extractfile(member)
                assert source is not None  # a regular file, checked above
                with target.open("wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != expected[name]["sha256"]:
                    raise BackupError(
                        f"{name} in {path} does not match its checksum in the manifest: "
                        "the archive is damaged. "
                        "Nothing was restored; use another copy of the backup."
                    )
                seen.append(name)
                progress("checking the archive", len(seen), len(expected))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(
            f"{path} could not be read to the end ({exc}): it is truncated or damaged. Nothing was restored."
        ) from None
    missing = sorted(set(expected) - set(seen))
    if missing:
        raise BackupError(
            f"{path} lacks {len(missing)} member(s) its manifest lists (first: {missing[0]}): "
            "it is incomplete. "
            "Nothing was restored."
        )
    return seen


def database_holds_data() -> bool:
    """Whether the configured database already holds SOCdesk data (users, tickets or audit events)."""
    tables = set(connection.introspection.table_names())
    for table in ("auth_user", Ticket._meta.db_table, AuditEvent._meta.db_table):
        if table in tables:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
                if cursor.fetchone():
                    return True
    return False


def backup_restore(path: Path, *, force: bool = False, progress: Progress = _no_progress) -> RestoreReport:
    """Restore an archive into the configured database and attachments directory (see the module doc)."""
    from socdesk.core.management.commands.upgrade import unapplied_migrations

    path = path.resolve()
    manifest = backup_read_manifest(path)
    _check_compatible(manifest)
    if database_holds_data() and not force:
        where = "PostgreSQL database " + str(connection.settings_dict["NAME"])
        if connection.vendor == "sqlite":
            where = f"SQLite database {connection.settings_dict['NAME']}"
        raise BackupError(
            f"The {where} already holds data; restoring would replace all of it. Restore into an empty "
            "database, or add --force to replace it."
        )
    media = Path(settings.MEDIA_ROOT)
    media.mkdir(parents=True, exist_ok=True)
    report = RestoreReport(manifest)
    with tempfile.TemporaryDirectory(prefix=".socdesk-restore-", dir=media.parent) as tmp:
        staging = Path(tmp)
        names = _extract_checked(path, manifest, staging, progress)
        # Attachments first: they are content-addressed, so a file that arrives before its row (or whose
        # row never arrives, should the database step fail) is harmless; rows without files are not.
        attachments = [n for n in names if n.startswith(f"{ATTACHMENTS}/")]
        for done, name in enumerate(attachments, start=1):
            target = media / name.removeprefix(f"{ATTACHMENTS}/")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, target)
            progress("restoring attachments", done, len(attachments))
        report.attachments = len(attachments)
        progress("restoring the database", 0, None)
        if manifest["vendor"] == "sqlite":
            _sqlite_restore(staging / SQLITE_MEMBER)
        else:
            _postgres_restore(staging / POSTGRES_MEMBER)
    progress("migrating", 0, None)
    report.migrations_applied = unapplied_migrations()
    if report.migrations_applied:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    _verify_after_restore(report, progress)
    return report


def _sqlite_restore(source_file: Path) -> None:
    """Copy the archived database into the configured file with the backup API: one write transaction."""
    target_name = str(connection.settings_dict["NAME"])
    connections.close_all()
    Path(target_name).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(str(source_file))
    target = sqlite3.connect(target_name, timeout=30)
    try:
        check = source.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(
                f"The archived SQLite database fails its integrity check ({check}). Nothing was restored."
            )
        source.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()
        source.close()


def _postgres_restore(dump: Path) -> None:
    """pg_restore's SQL through psql in one transaction: the database is replaced whole, or not at all."""
    pg_restore, psql = _require("pg_restore"), _require("psql")
    env = _pg_env()
    connections.close_all()
    has_tables = _pg_has_tables(env)
    # Replacing (with --force, or over an empty schema that `migrate` created): the old schema goes in the
    # same transaction as the restore, so a failure leaves the database as it was.
    reset = ["-c", "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"] if has_tables else []
    with subprocess.Popen(
        [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(dump)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as dumper:
        loaded = subprocess.run(
            [
                psql,
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "-v",
                "ON_ERROR_STOP=1",
                *reset,
                "-f",
                "-",
            ],
            env=env,
            stdin=dumper.stdout,
            capture_output=True,
            text=True,
        )
        dumper_err = dumper.stderr.read().decode(errors="replace") if dumper.stderr else ""
    if dumper.returncode != 0:
        raise BackupError(f"pg_restore could not read the dump: {dumper_err.strip()}. Nothing was restored.")
    if loaded.returncode != 0:
        raise BackupError(
            "Loading the dump into PostgreSQL failed, so nothing was restored: "
            f"{loaded.stderr.strip()[-2000:]}"
        )


def _pg_has_tables(env: dict[str, str]) -> bool:
    with _pg_connect(env) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        row = cursor.fetchone()
        return bool(row and row[0])


def _verify_after_restore(report: RestoreReport, progress: Progress) -> None:
    from socdesk.audit.services import seal_pending
    from socdesk.audit.verify import verify_chain

    manifest = report.manifest
    report.tickets = Ticket.objects.count()
    seal_pending()
    result = verify_chain(progress=lambda n: progress("verifying the audit chain", n, None))
    report.audit_checked = result.checked
    report.audit_ok = result.ok
    if not result.ok:
        report.audit_problem = (
            f"audit event id={result.broken_event_id} (seq {result.broken_seq}): {result.reason}"
        )
        return
    head = manifest.get("audit_head") or {}
    if head.get("seq"):
        at_head = AuditEvent.objects.filter(seq=head["seq"]).values_list("chain_hash", flat=True).first()
        if at_head is None and AuditEvent.objects.filter(seq__gt=head["seq"]).exists():
            report.messages.append(
                f"the backup's chain head (seq {head['seq']}) has since been purged by retention"
            )
        elif at_head != head.get("chain_hash"):
            report.audit_ok = False
            report.audit_problem = (
                f"the restored chain's event seq {head['seq']} does not have the hash the manifest recorded"
            )
