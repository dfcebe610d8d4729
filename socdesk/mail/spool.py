"""The mail spool: `socdesk mail pipe --queue` stores a message here and exits; the worker imports it.

A mail server starts one pipe process per message. Importing a message needs Django, the parsers and a
database connection, which cost a new process far more than the import itself, so a queued pipe only
writes the message durably into the spool and exits 0; the worker (socdesk.mail.spool_drain) imports it
a moment later, as IMAP-fetched mail is. This module imports nothing but `os`, `sys` and `time` on the
pipe's path (socdesk.cli runs it before Django is loaded): a mail server starts one pipe per message, so
every module imported is paid for on every message (`re`, `secrets`, `pathlib` cost more than the write).

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
import sys
import time

TYPE_CHECKING = False  # typing itself is not imported: it costs the pipe more than the message's write
if TYPE_CHECKING:
    from pathlib import Path

SPOOL = "mail-spool"
STATES = ("tmp", "new", "cur", "refused", "failed")
SLUG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

# sysexits.h, as for the synchronous pipe (socdesk/mail/management/commands/mail.py).
EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_TEMPFAIL = 75


def is_slug(department: str) -> bool:
    """Whether `department` may name a department in a spooled file's name (letters, digits, - and _)."""
    return len(department) <= 50 and all(char in SLUG_CHARS for char in department)


def data_dir() -> str:
    """SOCdesk's data dir, read as settings.DATA_DIR reads it (without loading the settings)."""
    return os.path.realpath(os.environ.get("SOCDESK_DATA_DIR", "").strip() or "./var")


def _root(base: str) -> str:
    root = os.path.join(base, SPOOL)
    for state in STATES:
        os.makedirs(os.path.join(root, state), exist_ok=True)
    return root


def spool_root(base: Path | None = None) -> Path:
    """The spool under `base` (default: the data dir), its folders created."""
    from pathlib import Path

    return Path(_root(str(base) if base is not None else data_dir()))


def _write(raw: bytes, department: str, base: str) -> str:
    if not is_slug(department):
        raise ValueError(f"{department!r} is not a department slug (letters, digits, - and _).")
    root = _root(base)
    name = f"{time.time():.6f}.{os.getpid()}.{os.urandom(4).hex()}~{department}.eml"
    tmp, new = os.path.join(root, "tmp", name), os.path.join(root, "new", name)
    with open(tmp, "wb") as handle:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(tmp, new)
    directory = os.open(os.path.join(root, "new"), os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
    return new


def spool_write(raw: bytes, department: str = "", *, base: Path | None = None) -> Path:
    """Store one message durably in new/ and return its path: written to tmp/, flushed to disk, then
    renamed, so a worker never sees half a message and a crash leaves nothing but a stray tmp file."""
    from pathlib import Path

    return Path(_write(raw, department, str(base) if base is not None else data_dir()))


def spool_department(path: Path | str) -> str:
    """The department slug a spooled file was piped for ('' for the default department)."""
    stem = os.path.basename(path).rsplit(".eml", 1)[0]
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
    if not is_slug(department):
        print(f"{department!r} is not a department slug; fix --department in the pipe.", file=sys.stderr)
        return EX_USAGE
    raw = sys.stdin.buffer.read()
    if not raw.strip():
        print("The message on standard input is empty; the mail server must pipe it whole.", file=sys.stderr)
        return EX_DATAERR
    try:
        path = _write(raw, department, data_dir())
    except OSError as exc:
        print(
            f"The message could not be stored in the mail spool ({exc}); "
            "the mail server will deliver it again.",
            file=sys.stderr,
        )
        return EX_TEMPFAIL
    print(f"queued {os.path.basename(path)}")
    return EX_OK


def queued_pipe_command(department: str = "") -> str:
    """The command line a mail server's pipe runs to spool a message with the least start-up: this file
    run by this interpreter, isolated (-I: no environment or user paths) and without the site packages
    (-S: nothing of them is needed, and reading their .pth files costs more than the write)."""
    import shlex

    if not is_slug(department):
        raise ValueError(f"{department!r} is not a department slug (letters, digits, - and _).")
    argv = [sys.executable, "-I", "-S", os.path.abspath(__file__)]
    return shlex.join(argv + (["--department", department] if department else []))


if __name__ == "__main__":
    # `python -I -S .../socdesk/mail/spool.py [--department SLUG]` (see `socdesk mail spool --pipe-command`).
    sys.exit(pipe_queue_main(sys.argv[1:]))
