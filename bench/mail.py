"""Benchmark: e-mail in, messages per second, through the two ways mail arrives.

    python bench/mail.py                                   # embedded SQLite in a temp dir
    python bench/mail.py --db postgres                     # BENCH_DATABASE_URL or socdesk_bench_mail
    python bench/mail.py --pipe 50 --imap 50 --no-append   # a quick check that it works

1. `socdesk mail pipe`: one process per message, as a mail server (Postfix's pipe) runs it; the time
   includes starting Python and Django each time.
1b. `socdesk mail pipe --queue`: the same, storing each message in the mail spool (no Django), several
   pipes at once as a mail server runs them (--pipe-jobs); then the spool is imported by
   `socdesk mail spool --drain` in --drain-processes processes at once (what workers do), timed apart.
2. One IMAP fetch: a throwaway Dovecot (as in the tests) holds N messages, each with a PDF-sized
   attachment, delivered by IMAP APPEND beforehand (not timed); `socdesk mail fetch NAME` (one process)
   drains the mailbox, moving each imported message to another folder.

Every message is a new ticket (a distinct sender, subject and Message-ID per run). Figures are appended
to docs/benchmarks.md unless --no-append. The target is at least 50 messages per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import _ensure_pg_database, append_results  # noqa: E402

from tests.core.processes import REPO, run_socdesk, socdesk_argv, socdesk_env  # noqa: E402
from tests.mailserver import Dovecot  # noqa: E402

TARGET = 50.0  # messages per second
# Its own database: every message opens a ticket, which the other benchmarks' seeded data must not see.
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/socdesk_bench_mail"


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pipe", type=int, default=200, help="messages through `socdesk mail pipe`")
    parser.add_argument("--imap", type=int, default=1000, help="messages in the mailbox fetched over IMAP")
    parser.add_argument("--queued", type=int, default=1000, help="messages through `mail pipe --queue`")
    parser.add_argument("--pipe-jobs", type=int, default=4, help="queued pipes running at once")
    parser.add_argument("--drain-processes", type=int, default=2, help="processes importing the spool")
    parser.add_argument(
        "--attachment-kb", type=int, default=64, help="size of each IMAP message's attachment"
    )
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args()


def message(run: str, n: int, attachment: bytes | None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Reporter {n} <reporter{n}@example.test>"
    msg["To"] = "soc@example.test"
    msg["Subject"] = f"Suspicious mail {run} #{n}"
    msg["Message-ID"] = f"<bench-{run}-{n}@example.test>"
    msg["Date"] = "Mon, 30 Nov 2026 10:00:00 +0000"
    msg.set_content(
        f"Reported phishing {n}: the link was hxxps://login-{n}.example[.]com/reset and the sender "
        f"came from 203.0.113.{n % 250}.\n"
    )
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename=f"invoice-{n}.pdf")
    return msg.as_bytes()


def environment(db: str, data: Path) -> tuple[dict[str, str], str]:
    if db == "postgres":
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        _ensure_pg_database(url)
        return socdesk_env(data, DATABASE_URL=url), f"postgres {url.rsplit('/', 1)[1]}"
    return socdesk_env(data), "sqlite (temp data dir)"


def queued(args, run: str, env: dict[str, str]) -> list[tuple[str, int, str, float]]:
    """Messages with an attachment through `mail pipe --queue`, then the spool imported."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    attachment = os.urandom(args.attachment_kb * 1024)
    messages = [message(run, 200_000 + n, attachment) for n in range(args.queued)]

    def pipe(raw: bytes) -> None:
        done = subprocess.run(
            socdesk_argv("mail", "pipe", "--queue"), input=raw, env=env, cwd=REPO, capture_output=True
        )
        if done.returncode != 0:
            raise SystemExit(f"socdesk mail pipe --queue failed: {done.stderr.decode(errors='replace')}")

    started = time.perf_counter()
    with ThreadPoolExecutor(args.pipe_jobs) as pool:
        list(pool.map(pipe, messages))
    piped = time.perf_counter() - started
    started = time.perf_counter()
    drains = [
        subprocess.Popen(socdesk_argv("mail", "spool", "--drain"), env=env, cwd=REPO, stdout=subprocess.PIPE)
        for _ in range(args.drain_processes)
    ]
    outputs = [drain.communicate(timeout=3600)[0].decode() for drain in drains]
    drained = time.perf_counter() - started
    imported = sum(int(out.split("imported ")[-1].split()[0]) for out in outputs)
    if imported != args.queued:
        raise SystemExit(f"the spool imported {imported} of {args.queued}:\n" + "\n".join(outputs))
    size = f"{args.attachment_kb} KiB"
    return [
        (
            f"`socdesk mail pipe --queue`, a process per message, {args.pipe_jobs} at once",
            args.queued,
            size,
            piped,
        ),
        (
            f"the spool imported by {args.drain_processes} `mail spool --drain` processes",
            args.queued,
            size,
            drained,
        ),
    ]


def main() -> None:
    import subprocess

    args = parse_args()
    run = uuid.uuid4().hex[:8]
    data = Path(tempfile.mkdtemp(prefix="socdesk-bench-mail-")) / "data"
    env, db_label = environment(args.db, data)
    if run_socdesk("upgrade", env=env, timeout=600).returncode != 0:
        sys.exit("socdesk upgrade failed")
    # Already there on a reused database. Its address is SOCdesk's own, so the To of the messages is not
    # copied on the ticket as a collaborator.
    run_socdesk("department", "create", "--name", "SOC", "--email", "soc@example.test", env=env)

    rows = []
    if args.pipe:
        started = time.perf_counter()
        for n in range(args.pipe):
            done = subprocess.run(
                socdesk_argv("mail", "pipe"),
                input=message(run, n, None),
                env=env,
                cwd=REPO,
                capture_output=True,
                timeout=120,
            )
            if done.returncode != 0:
                sys.exit(f"socdesk mail pipe failed: {done.stderr.decode(errors='replace')}")
        elapsed = time.perf_counter() - started
        rows.append(("`socdesk mail pipe`, a process per message", args.pipe, "none", elapsed))

    if args.queued:
        rows += queued(args, run, env)

    if args.imap:
        dovecot = Dovecot()
        try:
            user = dovecot.user()
            attachment = os.urandom(args.attachment_kb * 1024)
            dovecot.append(user, [message(run, 100_000 + n, attachment) for n in range(args.imap)])
            name = f"bench-{run}"
            added = subprocess.run(
                socdesk_argv(
                    "mailbox",
                    "add",
                    name,
                    "--address",
                    f"{name}@example.test",
                    "--host",
                    dovecot.host,
                    "--port",
                    str(dovecot.port),
                    "--security",
                    "none",
                    "--username",
                    user[0],
                    "--password-stdin",
                    "--after-import",
                    "move",
                    "--move-to",
                    "Imported",
                    "--max-messages",
                    "100",
                ),
                input=user[1] + "\n",
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if added.returncode != 0:
                sys.exit(f"socdesk mailbox add failed: {added.stderr}")
            started = time.perf_counter()
            fetched = run_socdesk("mail", "fetch", name, env=env, timeout=3600)
            elapsed = time.perf_counter() - started
            if fetched.returncode != 0 or f"{args.imap} created" not in fetched.stdout:
                sys.exit(f"socdesk mail fetch failed:\n{fetched.stdout}\n{fetched.stderr}")
            rows.append(
                (
                    "one IMAP fetch (`socdesk mail fetch`), Dovecot, move",
                    args.imap,
                    f"{args.attachment_kb} KiB",
                    elapsed,
                )
            )
        finally:
            dovecot.stop()

    body = "| path | messages | attachment each | seconds | messages/s |\n|---|---|---|---|---|\n"
    for path, count, attachment_size, elapsed in rows:
        body += f"| {path} | {count:,} | {attachment_size} | {elapsed:.1f} | {count / elapsed:.1f} |\n"
    body += f"\nTarget: at least {TARGET:.0f} messages/s. Each message opens a new ticket.\n"
    print(body)
    if not args.no_append:
        command = ("python bench/mail.py " + " ".join(sys.argv[1:])).strip()
        path = append_results("E-mail in: pipe and IMAP fetch", command, db_label, body)
        print(f"Appended to {path}")


if __name__ == "__main__":
    main()
