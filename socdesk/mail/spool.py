"""The mail spool: `socdesk mail pipe --queue` stores a message here and exits; the worker imports it.

A mail server starts one pipe process per message. Importing a message needs Django, the parsers and a
database connection, which cost a new process far more than the import itself, so a queued pipe only
writes the message durably into the spool and exits 0; the worker (socdesk.mail.spool_drain) imports it
a moment later, as IMAP-fetched mail is. This module imports nothing but the standard library: it runs in
the pipe before Django is loaded (socdesk.cli).

Layout, under the data dir (`SOCDESK_DATA_DIR`), maildir-style so that every step is one atomic rename:

    mail-spool/tmp/      being written by a pipe (never read)
    mail-spool/new/      waiting for a worker
    mail-spool/cur/      claimed by a worker, being imported (back to new/ if that worker died)
    mail-spool/refused/  a ticket filter refused it (a synchronous pipe would have bounced it)
    mail-spool/failed/   it could not be imported because of a fault; kept for a person to look at

A file's name carries the department the pipe was given: `<time>.<pid>.<random>~<slug>.eml`.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import time
from pathlib import Path

SPOOL = "mail-spool"
STATES = ("tmp", "new", "cur", "refused", "failed")
SLUG = re.compile(r"^[A-Za-z0-9_-]{0,50}$")

# sysexits.h, as for the synchronous pipe (socdesk/mail/management/commands/mail.py).
EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_TEMPFAIL = 75


def data_dir() -> Path:
    """SOCdesk's data dir, read as settings.DATA_DIR reads it (without loading the settings)."""
    return Path(os.environ.get("SOCDESK_DATA_DIR", "").strip() or "./var").resolve()


def spool_root(base: Path | None = None) -> Path:
    """The spool under `base` (default: the data dir), its folders created."""
    root = (base or data_dir()) / SPOOL
    for state in STATES:
        (root / state).mkdir(parents=True, exist_ok=True)
    return root


def spool_write(raw: bytes, department: str = "", *, base: Path | None = None) -> Path:
    """Store one message durably in new/ and return its path: written to tmp/, flushed to disk, then
    renamed, so a worker never sees half a message and a crash leaves nothing but a stray tmp file."""
    if not SLUG.match(department):
        raise ValueError(f"{department!r} is not a department slug (letters, digits, - and _).")
    root = spool_root(base)
    name = f"{time.time():.6f}.{os.getpid()}.{secrets.token_hex(4)}~{department}.eml"
    tmp = root / "tmp" / name
    with open(tmp, "wb") as handle:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(tmp, root / "new" / name)
    directory = os.open(root / "new", os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
    return root / "new" / name


def spool_department(path: Path) -> str:
    """The department slug a spooled file was piped for ('' for the default department)."""
    stem = path.name.rsplit(".eml", 1)[0]
    return stem.rsplit("~", 1)[1] if "~" in stem else ""


def pipe_queue_main(argv: list[str]) -> int:
    """`socdesk mail pipe --queue [--department SLUG]`: spool standard input; the exit code for the mail
    server (0 stored, 65 empty, 64 a bad argument, 75 the spool cannot be written: retried later)."""
    department = ""
    args = [a for a in argv if a != "--queue"]
    while args:
        arg = args.pop(0)
        if arg == "--department" and args:
            department = args.pop(0)
        elif arg.startswith("--department="):
            department = arg.split("=", 1)[1]
        else:
            print(f"socdesk mail pipe --queue: unknown argument {arg!r}.", file=sys.stderr)
            return EX_USAGE
    if not SLUG.match(department):
        print(f"{department!r} is not a department slug; fix --department in the pipe.", file=sys.stderr)
        return EX_USAGE
    raw = sys.stdin.buffer.read()
    if not raw.strip():
        print("The message on standard input is empty; the mail server must pipe it whole.", file=sys.stderr)
        return EX_DATAERR
    try:
        path = spool_write(raw, department)
    except OSError as exc:
        print(
            f"The message could not be stored in the mail spool ({exc}); "
            "the mail server will deliver it again.",
            file=sys.stderr,
        )
        return EX_TEMPFAIL
    print(f"queued {path.name}")
    return EX_OK
