"""`socdesk mail pipe`: a mail server hands SOCdesk one message on standard input (`--queue`: stored in
the mail spool for the worker, see socdesk.mail.spool; socdesk.cli runs that without loading Django).
`socdesk mail fetch [NAME]`: fetch the IMAP mailboxes now, draining what waits.
`socdesk mail spool [--retry] [--drain]`: what waits in the mail spool; put refused or failed mail
back; import now."""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError

from socdesk.accounts.models import Department
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.mail.inbound import mail_receive
from socdesk.mail.spool import queued_pipe_command, spool_write
from socdesk.mail.spool_drain import PIPE_ACTOR, spool_counts, spool_drain, spool_retry

# sysexits.h, what mail servers (Postfix, Exim, sendmail) understand from a pipe command.
EX_OK = 0
EX_USAGE = 64  # a wrong argument
EX_DATAERR = 65  # the message itself is bad: the mail server bounces it
EX_SOFTWARE = 70  # a fault in SOCdesk: bounced, and worth a bug report
EX_TEMPFAIL = 75  # try again later: the mail server keeps the message and retries
# Each import process is a Django process with its own database connection: a few are enough to fill the
# cores of one machine (more machines fetch more mailboxes).
MAX_DEFAULT_IMPORT_PROCESSES = 4
DEFAULT_IMPORT_PROCESSES = max(1, min(os.cpu_count() or 1, MAX_DEFAULT_IMPORT_PROCESSES))


class Command(BaseCommand):
    help = (
        "Receive e-mail: `socdesk mail pipe` reads one message on standard input (for a mail server); "
        "`socdesk mail fetch [NAME]` fetches the IMAP mailboxes now."
    )
    # A mail server starts `mail pipe` once per message: the system checks (which load every URLconf and
    # API schema) would be most of its start-up. `socdesk upgrade` and `socdesk check` run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        pipe = sub.add_parser("pipe", help="Import one RFC 822 message from standard input.")
        pipe.add_argument(
            "--department",
            default="",
            help="Slug of the department new tickets open in (default: SOCDESK_DEFAULT_DEPARTMENT, else the "
            "first department).",
        )
        pipe.add_argument(
            "--queue",
            action="store_true",
            help="Store the message in the mail spool and exit at once; the worker imports it a moment later "
            "(for busy mail servers; a ticket filter's refusal then cannot bounce it).",
        )
        spool = sub.add_parser("spool", help="Show what waits in the mail spool (`mail pipe --queue`).")
        spool.add_argument(
            "--retry", action="store_true", help="Put refused and failed messages back in the queue."
        )
        spool.add_argument("--drain", action="store_true", help="Import the waiting messages now, here.")
        spool.add_argument(
            "--pipe-command",
            action="store_true",
            help="Print the quickest command line for the mail server's pipe (the queued pipe without the "
            "`socdesk` script's start-up), then exit.",
        )
        spool.add_argument("--department", default="", help="With --pipe-command: the department's slug.")
        fetch = sub.add_parser(
            "fetch", help="Fetch every enabled IMAP mailbox (or the one named) now, until nothing waits."
        )
        fetch.add_argument("name", nargs="?", default="", help="The mailbox (default: every enabled one).")
        fetch.add_argument(
            "--once", action="store_true", help="One batch (the mailbox's max messages) instead of draining."
        )
        fetch.add_argument(
            "--processes",
            type=int,
            default=DEFAULT_IMPORT_PROCESSES,
            help="Processes importing a big mailbox's messages at once (default: the machine's cores, at "
            f"most {MAX_DEFAULT_IMPORT_PROCESSES}; 1 imports in this process).",
        )

    def handle(self, *args, subcommand: str, department: str = "", **opts):
        if subcommand == "fetch":
            from socdesk.mail.management.fetch_command import fetch_now

            if opts["processes"] < 1:
                raise CommandError("--processes must be 1 or more.")
            fetch_now(self.stdout, name=opts["name"], drain=not opts["once"], processes=opts["processes"])
            return
        if subcommand == "spool":
            if opts["pipe_command"]:
                try:
                    self.stdout.write(queued_pipe_command(department))
                except ValueError as exc:
                    raise CommandError(str(exc), returncode=EX_USAGE) from None
                return
            self._spool(retry=opts["retry"], drain=opts["drain"])
            return
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError(
                "The message on standard input is empty; the mail server must pipe the whole message.",
                returncode=EX_DATAERR,
            )
        if opts.get("queue"):
            try:
                path = spool_write(raw, department)
            except ValueError as exc:
                raise CommandError(str(exc), returncode=EX_TEMPFAIL) from None
            self.stdout.write(f"queued {path.name}")
            return
        try:
            chosen = None
            if department:
                chosen = Department.objects.filter(slug=department).first()
                if chosen is None:
                    # A configuration mistake, not the sender's: the mail server keeps the mail meanwhile.
                    raise CommandError(
                        f"There is no department {department!r}; fix --department in the mail server's "
                        "pipe command (`socdesk department list` shows the slugs).",
                        returncode=EX_TEMPFAIL,
                    )
            receipt = mail_receive(raw, actor=PIPE_ACTOR, channel="pipe", department=chosen)
        except (OperationalError, InterfaceError) as exc:
            raise CommandError(
                f"The database cannot be reached ({exc}); the mail server will deliver the message again.",
                returncode=EX_TEMPFAIL,
            ) from None
        except PermissionDenied as exc:
            # A ticket filter refused the message: retrying would be refused again, so it is bounced.
            raise CommandError(exc.message, returncode=EX_DATAERR) from None
        except ServiceError as exc:
            # No department yet (an empty message was refused above): keep the mail queued meanwhile.
            raise CommandError(exc.message, returncode=EX_TEMPFAIL) from None
        except CommandError:
            raise
        except Exception as exc:
            raise CommandError(
                f"The message could not be imported because of a fault in SOCdesk ({type(exc).__name__}: "
                f"{exc}).",
                returncode=EX_SOFTWARE,
            ) from exc
        self.stdout.write(receipt.line())

    def _spool(self, *, retry: bool, drain: bool) -> None:
        if retry:
            self.stdout.write(f"{spool_retry()} message(s) put back in the queue.")
        if drain:
            imported = 0
            while True:
                report = spool_drain()
                imported += report.imported
                if not report.outcomes or report.outcomes.get("waiting"):
                    break
                self.stdout.write(f"imported {imported} so far ({report.outcomes})")
            self.stdout.write(f"imported {imported} spooled message(s).")
        counts = spool_counts()
        self.stdout.write(
            f"mail spool: {counts['new']} waiting, {counts['cur']} being imported, "
            f"{counts['refused']} refused by a ticket filter, {counts['failed']} failed "
            "(the worker's log says why; `--retry` puts them back)."
        )
