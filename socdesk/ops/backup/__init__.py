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

from socdesk.ops.backup.archive import MANIFEST, POSTGRES_MEMBER, SQLITE_MEMBER, BackupError
from socdesk.ops.backup.create import backup_create
from socdesk.ops.backup.restore import (
    RestoreReport,
    backup_read_manifest,
    backup_restore,
    database_holds_data,
)

__all__ = [
    "MANIFEST",
    "POSTGRES_MEMBER",
    "SQLITE_MEMBER",
    "BackupError",
    "RestoreReport",
    "backup_create",
    "backup_read_manifest",
    "backup_restore",
    "database_holds_data",
]
