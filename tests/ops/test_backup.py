"""`socdesk backup` while the desk is busy, `socdesk restore` into a fresh database, and damaged archives.

The backup runs in this process against the test database while a thread keeps opening tickets; every
restore runs as a real `socdesk restore` process against a separate, fresh target: another SQLite data dir,
or on PostgreSQL another database on the same server.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from socdesk.core.actor import Actor
from socdesk.ops.backup import MANIFEST, POSTGRES_MEMBER, SQLITE_MEMBER
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.models import Attachment, Ticket
from socdesk.tickets.services import ticket_create, ticket_note
from tests.core.processes import REPO, socdesk_env

FILE_BYTES = b"%PDF-1.4 incident report, page 1"
TICKETS = "SELECT count(*) FROM tickets_ticket"


class Target:
    """A fresh place to restore into: a data dir, and on PostgreSQL a database of its own."""

    def __init__(self, base: Path, name: str) -> None:
        self.data_dir = base / name
        self.data_dir.mkdir()
        self.postgres = connection.vendor == "postgresql"
        self.db_name = f"{connection.settings_dict['NAME']}_{name}"
        extra = {}
        if self.postgres:
            with self._admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}"')
                admin.execute(f'CREATE DATABASE "{self.db_name}"')
            s = connection.settings_dict
            where = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
            extra["DATABASE_URL"] = f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{where}/{self.db_name}"
        self.env = socdesk_env(self.data_dir, **extra)

    def _admin(self):
        s = connection.settings_dict
        return psycopg.connect(
            host=s["HOST"] or "127.0.0.1",
            port=s["PORT"] or 5432,
            user=s["USER"],
            password=s["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        )

    def drop(self) -> None:
        if self.postgres:
            with self._admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def socdesk(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "socdesk.cli", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def query(self, sql: str) -> list[tuple]:
        """Rows from the restored database; [] when it has no such table (nothing was restored)."""
        if self.postgres:
            with psycopg.connect(self.env["DATABASE_URL"]) as conn:
                try:
                    return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]
                except psycopg.errors.UndefinedTable:
                    return []
        path = self.data_dir / "socdesk.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(path) as conn:
            try:
                return conn.execute(sql).fetchall()
            except sqlite3.OperationalError:
                return []

    def tables(self) -> int:
        if self.postgres:
            return self.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0]
        return len(self.query("SELECT name FROM sqlite_master WHERE type = 'table'"))

    def attachment_files(self) -> list[Path]:
        root = self.data_dir / "attachments"
        return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def targets(tmp_path):
    made: list[Target] = []

    def make(name: str = "restore") -> Target:
        made.append(Target(tmp_path, name))
        return made[-1]

    yield make
    for target in made:
        target.drop()


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile(MANIFEST).read())  # type: ignore[union-attr]


def backup(path: Path) -> str:
    out = io.StringIO()
    call_command("backup", str(path), stdout=out)
    return out.getvalue()


def rewrite(archive: Path, into: Path, change) -> Path:
    """A copy of the archive with its manifest changed by `change(manifest)` (members as they were)."""
    with tarfile.open(archive) as src, tarfile.open(into, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == MANIFEST:
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return into


def db_member() -> str:
    return POSTGRES_MEMBER if connection.vendor == "postgresql" else SQLITE_MEMBER


@pytest.mark.django_db(transaction=True)
def test_backup_while_tickets_are_written_restores_exactly_the_recorded_point(people, tmp_path, targets):
    actor = Actor.for_agent(people.alice)
    first = ticket_create(actor=actor, subject="Phishing report", department=people.soc, body="see file")
    ticket_note(actor=actor, ticket=first, body="report", attachments=[IncomingFile("r.pdf", FILE_BYTES)])

    stop, written, failures = threading.Event(), [], []

    def keep_writing() -> None:
        try:
            while not stop.is_set():
                ticket_create(actor=actor, subject=f"busy {len(written)}", department=people.soc, body="x")
                written.append(1)
        except Exception as exc:  # surfaced by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 5 and writer.is_alive():
            time.sleep(0.01)
        before = Ticket.objects.count()
        archive = tmp_path / "busy.tar"
        said = backup(archive)
        after = Ticket.objects.count()
        settle = len(written) + 5
        while len(written) < settle and writer.is_alive():
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not failures
    final = Ticket.objects.count()

    assert archive.stat().st_mode & 0o777 == 0o600  # it holds password hashes and every ticket
    assert not archive.with_name("busy.tar.partial").exists()
    manifest = manifest_of(archive)
    recorded = manifest["counts"]["tickets"]
    assert before <= recorded <= after < final  # a point in the middle of the writes
    assert f"{recorded} tickets" in said
    assert manifest["vendor"] == connection.vendor
    assert manifest["audit_head"]["seq"] > 0 and len(manifest["audit_head"]["chain_hash"]) == 64
    digest = Attachment.objects.get(entry__ticket=first).sha256
    assert manifest["members"][f"attachments/{digest[:2]}/{digest}"]["size"] == len(FILE_BYTES)

    target = targets()
    done = target.socdesk("restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert f"{recorded} tickets (the backup recorded {recorded})" in done.stdout
    assert "Audit chain OK" in done.stdout
    assert target.query(TICKETS)[0][0] == recorded
    (restored_file,) = target.attachment_files()
    assert restored_file.read_bytes() == FILE_BYTES and restored_file.name == digest
    verify = target.socdesk("audit", "verify")
    assert verify.returncode == 0 and "chain intact" in verify.stdout, verify.stderr


@pytest.mark.django_db(transaction=True)
def test_a_restored_database_is_not_overwritten_without_force(people, tmp_path, targets):
    archive = tmp_path / "one.tar"
    backup(archive)
    target = targets()
    assert target.socdesk("restore", str(archive)).returncode == 0
    ticket_create(actor=Actor.for_agent(people.alice), subject="after", department=people.soc, body="x")
    newer = tmp_path / "two.tar"
    backup(newer)

    refused = target.socdesk("restore", str(newer))
    assert refused.returncode == 1
    assert "already holds data; restoring would replace all of it" in refused.stderr
    assert "add --force" in refused.stderr
    assert target.query(TICKETS)[0][0] == manifest_of(archive)["counts"]["tickets"]

    forced = target.socdesk("restore", str(newer), "--force")
    assert forced.returncode == 0, forced.stderr
    assert target.query(TICKETS)[0][0] == manifest_of(newer)["counts"]["tickets"]
    assert "Audit chain OK" in forced.stdout


@pytest.mark.django_db(transaction=True)
def test_a_damaged_archive_is_refused_and_nothing_is_restored(people, tmp_path, targets):
    ticket = ticket_create(actor=Actor.for_agent(people.alice), subject="s", department=people.soc, body="x")
    ticket_note(
        actor=Actor.for_agent(people.alice),
        ticket=ticket,
        body="n",
        attachments=[IncomingFile("a.pdf", FILE_BYTES)],
    )
    archive = tmp_path / "good.tar"
    backup(archive)
    target = targets()

    # One byte of the database member flipped, in place.
    flipped = tmp_path / "flipped.tar"
    flipped.write_bytes(archive.read_bytes())
    with tarfile.open(archive) as tar:
        member = tar.getmember(db_member())
        at = member.offset_data + member.size // 2
    with flipped.open("r+b") as f:
        f.seek(at)
        byte = f.read(1)
        f.seek(at)
        f.write(bytes([byte[0] ^ 0xFF]))
    done = target.socdesk("restore", str(flipped))
    assert done.returncode == 1
    assert f"{db_member()} in {flipped} does not match its checksum in the manifest" in done.stderr
    assert "Nothing was restored" in done.stderr
    assert target.tables() == 0 and target.attachment_files() == []

    # Cut short.
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    done = target.socdesk("restore", str(cut))
    assert done.returncode == 1
    assert "cut short" in done.stderr or "truncated or damaged" in done.stderr
    assert target.tables() == 0 and target.attachment_files() == []

    # Not a backup at all.
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"hello")
    done = target.socdesk("restore", str(junk))
    assert done.returncode == 1 and "is not a readable .tar archive" in done.stderr

    # A member the manifest does not list.
    extra = tmp_path / "extra.tar"
    extra.write_bytes(archive.read_bytes())
    with tarfile.open(archive) as src, tarfile.open(extra, "w") as dst:
        for member in src:
            dst.addfile(member, src.extractfile(member))
        info = tarfile.TarInfo("../../etc/cron.d/evil")
        info.size = 4
        dst.addfile(info, io.BytesIO(b"evil"))
    done = target.socdesk("restore", str(extra))
    assert done.returncode == 1 and "which its manifest does not list: refused" in done.stderr
    assert target.tables() == 0 and target.attachment_files() == []

    # The good archive still restores into the same target.
    done = target.socdesk("restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert len(target.attachment_files()) == 1


@pytest.mark.django_db(transaction=True)
def test_a_database_member_that_cannot_be_loaded_leaves_the_target_as_it_was_even_with_force(
    people, tmp_path, targets
):
    ticket_create(actor=Actor.for_agent(people.alice), subject="kept", department=people.soc, body="x")
    archive = tmp_path / "good.tar"
    backup(archive)
    target = targets()
    assert target.socdesk("restore", str(archive)).returncode == 0
    kept = target.query(TICKETS)[0][0]
    assert kept == 1

    # Well-formed archive, checksums right, but the database member is not a database: what a backup of
    # a damaged file, or a dump by a newer pg_dump, looks like to restore.
    garbage = b"not a database at all " * 1000
    unusable = tmp_path / "unusable.tar"
    with tarfile.open(archive) as src, tarfile.open(unusable, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == db_member():
                data = garbage
            elif member.name == MANIFEST:
                manifest = json.loads(data)
                manifest["members"][db_member()] = {
                    "size": len(garbage),
                    "sha256": hashlib.sha256(garbage).hexdigest(),
                }
                data = json.dumps(manifest).encode()
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    done = target.socdesk("restore", str(unusable), "--force")
    assert done.returncode == 1
    assert "Nothing was restored" in done.stderr
    assert ("pg_restore could not read the dump" if target.postgres else "is not usable") in done.stderr
    assert target.query(TICKETS)[0][0] == kept
    assert target.socdesk("audit", "verify").returncode == 0


@pytest.mark.django_db(transaction=True)
def test_an_archive_for_another_database_or_a_newer_version_is_refused(tmp_path, targets):
    archive = tmp_path / "good.tar"
    backup(archive)
    target = targets()
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    wrong_vendor = rewrite(archive, tmp_path / "vendor.tar", lambda m: m.update(vendor=other))
    done = target.socdesk("restore", str(wrong_vendor))
    assert done.returncode == 1
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    ours = names[connection.vendor]
    expected = f"This backup is of a {names[other]} database, and this SOCdesk uses {ours}"
    assert expected in done.stderr

    def newer(manifest: dict) -> None:
        manifest["migrations"].append("tickets.9999_from_the_future")
        manifest["socdesk_version"] = "9.0.0"

    done = target.socdesk("restore", str(rewrite(archive, tmp_path / "newer.tar", newer)))
    assert done.returncode == 1
    assert "made by a newer SOCdesk (9.0.0)" in done.stderr
    assert "tickets.9999_from_the_future" in done.stderr and "Upgrade SOCdesk" in done.stderr
    assert target.tables() == 0


@pytest.mark.django_db(transaction=True)
def test_an_older_archive_is_migrated_forward_on_restore(tmp_path, targets):
    old = targets("old")  # a SOCdesk some accounts migrations behind this one
    assert old.socdesk("migrate", "-v0").returncode == 0
    back = old.socdesk("migrate", "accounts", "0003", "-v0")
    assert back.returncode == 0, back.stderr
    (behind,) = old.query("SELECT count(*) FROM django_migrations")[0]
    archive = tmp_path / "old.tar"
    made = old.socdesk("backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert "accounts.0004_department_retention_days" not in manifest_of(archive)["migrations"]

    target = targets()
    done = target.socdesk("restore", str(archive))
    assert done.returncode == 0, done.stderr
    (now_applied,) = target.query("SELECT count(*) FROM django_migrations")[0]
    missing = now_applied - behind
    assert missing > 0
    assert f"Applied {missing} migration(s): the backup was older than this version." in done.stdout
    applied = "SELECT count(*) FROM django_migrations WHERE name = '0004_department_retention_days'"
    assert target.query(applied) == [(1,)]


def test_backup_refuses_to_overwrite_and_names_a_missing_directory(tmp_path, db):
    existing = tmp_path / "exists.tar"
    existing.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="already exists; choose another file name"):
        backup(existing)
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(CommandError, match="does not exist; create it first"):
        backup(tmp_path / "nowhere" / "b.tar")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.django_db(transaction=True)
def test_the_manifest_names_a_chain_head_covering_every_committed_event(people, tmp_path):
    from socdesk.audit.models import AuditEvent

    # Committed, and left for a worker's sealer that has not come round yet.
    ticket_create(actor=Actor.for_agent(people.alice), subject="Unsealed", department=people.soc)
    assert AuditEvent.objects.filter(seq__isnull=True).exists()
    archive = tmp_path / "sealed.tar"
    backup(archive)
    head = manifest_of(archive)["audit_head"]
    assert head["seq"] == AuditEvent.objects.count()
    assert head["chain_hash"] == AuditEvent.objects.get(seq=head["seq"]).chain_hash
