"""What `socdesk backup` writes and `socdesk restore` reads: the archive's names, errors and the tools."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from django.db import connection

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


def no_progress(what: str, done: int, total: int | None) -> None:
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def pg_env() -> dict[str, str]:
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


def require_program(program: str) -> str:
    found = shutil.which(program)
    if not found:
        raise BackupError(
            f"{program} is not installed; install the PostgreSQL client tools (Debian: postgresql-client) "
            "of the server's major version or newer."
        )
    return found


def pg_connect(env: dict[str, str]):
    import psycopg

    return psycopg.connect(
        host=env.get("PGHOST"),
        port=env.get("PGPORT"),
        user=env.get("PGUSER"),
        password=env.get("PGPASSWORD"),
        dbname=env["PGDATABASE"],
        sslmode=env.get("PGSSLMODE"),
    )
