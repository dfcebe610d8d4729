"""`socdesk restore`: check an archive whole, then replace the database in one transaction."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader

import socdesk
from socdesk.audit.models import AuditEvent
from socdesk.ops.backup.archive import (
    ATTACHMENT_NAME,
    ATTACHMENTS,
    CHUNK,
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
)
from socdesk.tickets.models import Ticket


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


def backup_restore(path: Path, *, force: bool = False, progress: Progress = no_progress) -> RestoreReport:
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
        if manifest["vendor"] == "sqlite":
            _sqlite_check(staging / SQLITE_MEMBER)
        else:
            script = _postgres_script(staging / POSTGRES_MEMBER)
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
            _sqlite_load(staging / SQLITE_MEMBER)
        else:
            _postgres_load(script)
    progress("migrating", 0, None)
    report.migrations_applied = unapplied_migrations()
    if report.migrations_applied:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    _verify_after_restore(report, progress)
    return report


def _sqlite_check(source_file: Path) -> None:
    """Refuse an archived SQLite file that SQLite cannot read whole (before anything is written)."""
    try:
        with closing(sqlite3.connect(str(source_file))) as source:
            check = source.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        check = (str(exc),)
    if not check or check[0] != "ok":
        raise BackupError(
            f"The archived SQLite database is not usable ({check[0] if check else 'no answer'}), although it "
            "matches its checksum: the backup was made from a damaged file. Nothing was restored."
        )


def _sqlite_load(source_file: Path) -> None:
    """Copy the archived database into the configured file with the backup API: one write transaction."""
    target_name = str(connection.settings_dict["NAME"])
    connections.close_all()
    Path(target_name).parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(str(source_file))) as source,
        closing(sqlite3.connect(target_name, timeout=30)) as target,
    ):
        source.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=WAL")


def _postgres_script(dump: Path) -> Path:
    """The dump as one SQL script, written whole before anything is loaded.

    Piping pg_restore into psql would let a pg_restore that failed half-way hand psql a shorter script,
    which psql would commit (after dropping the old schema).
    """
    script = dump.with_name("restore.sql")
    dumped = subprocess.run(
        [require_program("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(dump)],
        env=pg_env(),
        capture_output=True,
        text=True,
    )
    if dumped.returncode != 0:
        raise BackupError(
            f"pg_restore could not read the dump ({dumped.stderr.strip()}); if it names a version, install "
            "pg_restore of the PostgreSQL version that made it, or newer. Nothing was restored."
        )
    return script


def _postgres_load(script: Path) -> None:
    """Run the script through psql in one transaction: the database is replaced whole, or not at all."""
    psql = require_program("psql")
    env = pg_env()
    connections.close_all()
    # Replacing (with --force, or over an empty schema that `migrate` created): the old schema goes in the
    # same transaction as the restore, so a failure leaves the database as it was.
    reset = (
        ["-c", "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"] if _pg_has_tables(env) else []
    )
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
            str(script),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if loaded.returncode != 0:
        raise BackupError(
            "Loading the dump into PostgreSQL failed, so nothing was restored: "
            f"{loaded.stderr.strip()[-2000:]}"
        )


def _pg_has_tables(env: dict[str, str]) -> bool:
    with pg_connect(env) as conn, conn.cursor() as cursor:
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
