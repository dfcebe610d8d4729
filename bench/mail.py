"""Benchmark: e-mail in, messages per second, through the two ways mail arrives.

    python bench/mail.py                                   # embedded SQLite in a temp dir
    python bench/mail.py --db postgres                     # BENCH_DATABASE_URL or socdesk_bench_mail
    python bench/mail.py --pipe 50 --imap 50 --no-append   # a quick check that it works

1. `socdesk mail pipe`: one process per message, as a mail server (Postfix's pipe) runs it; the time
   includes starting Python and Django each time.
1b. The queued pipe, end to end: --workers `socdesk worker` processes are started first (not timed); then
   --queued messages are piped through the command `socdesk mail spool --pipe-command` prints (the
   spool's writer without the `socdesk` script's start-up), --pipe-jobs pipes at once as a mail server
   runs them, and the clock stops when the last one's ticket is committed (the spool is empty: a file is
   removed only after its batch has committed).
2. One IMAP fetch: a throwaway Dovecot (as in the tests) holds N messages, each with a PDF-sized
   attachment, delivered by IMAP APPEND beforehand (not timed); `socdesk mail fetch NAME --processes P`
   drains the mailbox, importing its chunks in P processes and moving each imported message to another
   folder.

CPU per message is given beside the wall time (the machine is shared: the load average is printed too):
the pipes', the workers' and the fetch's own CPU, without PostgreSQL's or Dovecot's.

3. `--cpu N` instead: the import alone in this process, a figure a loaded machine cannot inflate. N
   messages as the fetch reads them are imported by `mail_receive_many` in chunks of the fetch's size
   (socdesk.mail.fetching.CHUNK), timed by process CPU (`time.process_time`, without the database
   server's share) with every SQL statement counted; `--profile` prints cProfile's top functions instead.
   Nothing is appended to docs/benchmarks.md; `--rounds` repeats it (a warm-up chunk comes first).

Every message is a new ticket (a distinct sender, subject and Message-ID per run). Figures are appended
to docs/benchmarks.md unless --no-append. The target is at least 50 messages per second.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import signal
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

from tests.core.processes import REPO, Background, run_socdesk, socdesk_argv, socdesk_env  # noqa: E402
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
    parser.add_argument(
        "--workers", type=int, default=2, help="`socdesk worker` processes draining the spool"
    )
    parser.add_argument(
        "--fetch-processes", type=int, default=2, help="`mail fetch --processes`: processes importing"
    )
    parser.add_argument(
        "--attachment-kb", type=int, default=64, help="size of each IMAP message's attachment"
    )
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument(
        "--cpu", type=int, default=0, help="only: import N messages in this process, CPU and statements"
    )
    parser.add_argument("--rounds", type=int, default=1, help="with --cpu: times to repeat it")
    parser.add_argument("--profile", action="store_true", help="with --cpu: print cProfile's top functions")
    parser.add_argument("--top", type=int, default=40, help="with --profile: functions printed")
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


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds of a running process (and of the children it has waited for)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def imported(env: dict[str, str], run: str) -> int:
    """Messages of this run stored by SOCdesk (each once: the Message-ID is unique)."""
    code = (
        "from socdesk.mail.models import InboundMessage as M; "
        f"print(M.objects.filter(message_id__startswith='bench-{run}-', ticket__isnull=False).count())"
    )
    done = run_socdesk("shell", "-c", code, env=env, timeout=300)
    return int(done.stdout.strip().splitlines()[-1])


Row = tuple[str, int, str, float, float]  # path, messages, attachment, seconds, CPU seconds


def queued(args, run: str, env: dict[str, str], data: Path) -> list[Row]:
    """Messages with an attachment through `mail pipe --queue` while workers drain the spool."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    attachment = os.urandom(args.attachment_kb * 1024)
    messages = [message(run, 200_000 + n, attachment) for n in range(args.queued)]
    spool = data / "mail-spool"
    logs = Path(tempfile.mkdtemp(prefix="socdesk-bench-workers-"))
    workers = [Background("worker", env=env, log=logs / f"worker-{n}.log") for n in range(args.workers)]
    try:
        deadline = time.monotonic() + 120
        while not all("SOCdesk worker:" in w.log.read_text(errors="replace") for w in workers):
            if time.monotonic() > deadline:
                raise SystemExit(f"the workers did not start; see {logs}")
            time.sleep(0.2)
        time.sleep(2)  # the spool threads' first look at an empty spool

        # The command line the docs give the mail server (`socdesk mail spool --pipe-command`).
        argv = shlex.split(run_socdesk("mail", "spool", "--pipe-command", env=env).stdout.strip())

        def pipe(raw: bytes) -> None:
            done = subprocess.run(argv, input=raw, env=env, cwd=REPO, capture_output=True)
            if done.returncode != 0:
                raise SystemExit(f"socdesk mail pipe --queue failed: {done.stderr.decode(errors='replace')}")

        pipes_cpu, workers_cpu = children_cpu(), sum(process_cpu(w.process.pid) for w in workers)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.pipe_jobs) as pool:
            list(pool.map(pipe, messages))
        piped = time.perf_counter() - started
        pipes_cpu = children_cpu() - pipes_cpu
        while any(os.listdir(spool / state) for state in ("new", "cur")):
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        workers_cpu = sum(process_cpu(w.process.pid) for w in workers) - workers_cpu
    finally:
        for worker in workers:
            worker.signal_leader(signal.SIGTERM)
        for worker in workers:
            worker.wait_exit()
    left = {state: len(os.listdir(spool / state)) for state in ("refused", "failed")}
    count = imported(env, run)
    if count != args.queued or any(left.values()):
        raise SystemExit(f"the spool imported {count} of {args.queued} ({left}); see {logs}")
    size = f"{args.attachment_kb} KiB"
    return [
        (
            f"queued pipe (`mail spool --pipe-command`), {args.pipe_jobs} at once: stored in the spool",
            args.queued,
            size,
            piped,
            pipes_cpu,
        ),
        (
            f"the same, end to end: piped, then imported by {args.workers} `socdesk worker`",
            args.queued,
            size,
            elapsed,
            pipes_cpu + workers_cpu,
        ),
    ]


def import_cpu(args) -> None:
    """The import of --cpu messages in this process: process CPU and SQL statements a message."""
    import cProfile
    import pstats

    from _setup import configure

    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_PG)
    os.environ.setdefault("SOCDESK_DATA_DIR", tempfile.mkdtemp(prefix="socdesk-bench-mail-cpu-"))
    where = configure(args.db)
    from django.db import connection

    from socdesk.accounts.models import Department
    from socdesk.accounts.services import department_create
    from socdesk.core.actor import Actor
    from socdesk.mail.fetching import CHUNK
    from socdesk.mail.inbound import Receipt, mail_receive_many

    department = Department.objects.filter(email="soc@example.test").first() or department_create(
        actor=Actor.system("bench"), name=f"SOC {uuid.uuid4().hex[:6]}", email="soc@example.test"
    )
    attachment = os.urandom(args.attachment_kb * 1024)
    actor = Actor.system("mail:bench")
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    def one_round(run: str, messages: int, profile: cProfile.Profile | None) -> tuple[float, int]:
        nonlocal statements
        raws = [message(run, n, attachment) for n in range(messages)]
        statements = 0
        with connection.execute_wrapper(count):
            cpu = time.process_time()
            if profile:
                profile.enable()
            for first in range(0, messages, CHUNK):
                results = mail_receive_many(
                    raws[first : first + CHUNK],
                    actor=actor,
                    channel="mailbox:bench",
                    department=department,
                    origin="mailbox:0",
                )
                assert all(isinstance(r, Receipt) and r.outcome == "created" for r in results), results
            if profile:
                profile.disable()
            cpu = time.process_time() - cpu
        return cpu, statements

    one_round(uuid.uuid4().hex[:8], CHUNK, None)  # first-use imports and caches are no message's cost
    load = os.getloadavg()
    print(f"{where}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; chunks of {CHUNK}")
    print("| round | messages | CPU ms a message (this process) | SQL statements a message |")
    print("|---:|---:|---:|---:|")
    for n in range(args.rounds):
        cpu, counted = one_round(uuid.uuid4().hex[:8], args.cpu, profiler)
        print(f"| {n + 1} | {args.cpu:,} | {cpu / args.cpu * 1000:.2f} | {counted / args.cpu:.2f} |")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        saved = Path(tempfile.mkdtemp(prefix="socdesk-bench-mail-profile-")) / "import.pstats"
        stats.dump_stats(saved)
        print(f"Profile saved to {saved} (pstats, for callers and callees)")


def main() -> None:
    import subprocess

    args = parse_args()
    if args.cpu:
        import_cpu(args)
        return
    run = uuid.uuid4().hex[:8]
    data = Path(tempfile.mkdtemp(prefix="socdesk-bench-mail-")) / "data"
    env, db_label = environment(args.db, data)
    if run_socdesk("upgrade", env=env, timeout=600).returncode != 0:
        sys.exit("socdesk upgrade failed")
    # Already there on a reused database. Its address is SOCdesk's own, so the To of the messages is not
    # copied on the ticket as a collaborator.
    run_socdesk("department", "create", "--name", "SOC", "--email", "soc@example.test", env=env)

    rows: list[Row] = []
    if args.pipe:
        cpu = children_cpu()
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
        rows.append(
            (
                "`socdesk mail pipe`, a process per message",
                args.pipe,
                "none",
                elapsed,
                children_cpu() - cpu,
            )
        )

    if args.queued:
        rows += queued(args, run, env, data)

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
            cpu = children_cpu()
            started = time.perf_counter()
            fetched = run_socdesk(
                "mail", "fetch", name, "--processes", str(args.fetch_processes), env=env, timeout=7200
            )
            elapsed = time.perf_counter() - started
            cpu = children_cpu() - cpu
            if fetched.returncode != 0 or f"{args.imap} created" not in fetched.stdout:
                sys.exit(f"socdesk mail fetch failed:\n{fetched.stdout}\n{fetched.stderr}")
            progress = sum(1 for line in fetched.stdout.splitlines() if " ..." in line)
            if imported(env, run) != args.imap + args.queued:
                sys.exit("the fetch did not store each message once")
            rows.append(
                (
                    f"one IMAP fetch (`socdesk mail fetch --processes {args.fetch_processes}`), Dovecot, "
                    f"move ({progress} progress lines)",
                    args.imap,
                    f"{args.attachment_kb} KiB",
                    elapsed,
                    cpu,
                )
            )
        finally:
            dovecot.stop()

    body = (
        "| path | messages | attachment each | seconds | messages/s | CPU ms per message |\n"
        "|---|---|---|---|---|---|\n"
    )
    for path, count, attachment_size, elapsed, cpu in rows:
        body += (
            f"| {path} | {count:,} | {attachment_size} | {elapsed:.1f} | {count / elapsed:.1f} | "
            f"{cpu / count * 1000:.1f} |\n"
        )
    load = os.getloadavg()
    body += (
        f"\nTarget: at least {TARGET:.0f} messages/s. Each message opens a new ticket. Load average at the "
        f"end: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} (2 cores).\n"
    )
    print(body)
    if not args.no_append:
        command = ("python bench/mail.py " + " ".join(sys.argv[1:])).strip()
        path = append_results("E-mail in: pipe and IMAP fetch", command, db_label, body)
        print(f"Appended to {path}")


if __name__ == "__main__":
    main()
