"""`socdesk mailbox add|list|test|remove`: the IMAP mailboxes SOCdesk fetches mail from."""

from __future__ import annotations

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from socdesk.accounts.models import Department
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.mail.fetching import mailbox_test
from socdesk.mail.mailboxes import MailboxDefinition, mailbox_create, mailbox_delete
from socdesk.mail.models import AfterImport, Mailbox, MailboxSecurity
from socdesk.routing.models import HelpTopic

CLI_ACTOR = Actor.system("cli:mailbox")


def _mailbox(name: str) -> Mailbox:
    mailbox = Mailbox.objects.select_related("department", "help_topic").filter(name=name).first()
    if mailbox is None:
        raise CommandError(f"There is no mailbox {name!r} (`socdesk mailbox list` shows them).")
    return mailbox


class Command(BaseCommand):
    help = "Add, list, test and remove the IMAP mailboxes SOCdesk fetches mail from."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        add = sub.add_parser("add", help="Add a mailbox (audited); `socdesk mailbox test NAME` checks it.")
        add.add_argument("name", help="Its name: lower-case letters, digits, '-' or '_' (e.g. soc-inbox).")
        add.add_argument("--address", required=True, help="The mailbox's e-mail address (SOCdesk's own).")
        add.add_argument("--host", required=True, help="The IMAP server's host name.")
        add.add_argument("--port", type=int, default=None, help="Default: 993 with tls, else 143.")
        add.add_argument("--security", choices=MailboxSecurity.values, default=MailboxSecurity.TLS)
        add.add_argument("--username", default="", help="The IMAP login (default: the address).")
        secret = add.add_mutually_exclusive_group()
        secret.add_argument(
            "--password-file",
            default="",
            help="An absolute path to a file holding the password (read at every fetch; preferred).",
        )
        secret.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input."
        )
        add.add_argument("--folder", default="INBOX")
        add.add_argument("--after-import", choices=AfterImport.values, default=AfterImport.SEEN)
        add.add_argument(
            "--move-to", default="", help="The folder imported mail is moved to (--after-import move)."
        )
        add.add_argument("--department", default="", help="Slug of the department new tickets open in.")
        add.add_argument("--help-topic", default="", help="Name of the help topic of new tickets.")
        add.add_argument("--interval", type=int, default=300, help="Seconds between fetches (default 300).")
        add.add_argument("--max-messages", type=int, default=100, help="Messages per fetch (default 100).")
        add.add_argument("--disabled", action="store_true", help="Add it without fetching it yet.")
        sub.add_parser("list", help="Show every mailbox with its last fetch.")
        test = sub.add_parser("test", help="Connect, log in and open the folder; say what is there.")
        test.add_argument("name")
        remove = sub.add_parser("remove", help="Remove a mailbox (what it imported stays).")
        remove.add_argument("name")

    def handle(self, *args, subcommand: str, **opts):
        getattr(self, f"_{subcommand}")(**opts)

    def _add(self, **opts) -> None:
        department = None
        if opts["department"]:
            department = Department.objects.filter(slug=opts["department"]).first()
            if department is None:
                raise CommandError(
                    f"There is no department {opts['department']!r} (`socdesk department list` shows the "
                    "slugs)."
                )
        topic = None
        if opts["help_topic"]:
            topic = HelpTopic.objects.filter(name=opts["help_topic"]).first()
            if topic is None:
                raise CommandError(f"There is no help topic {opts['help_topic']!r}.")
        password = None
        if opts["password_stdin"]:
            password = self.stdin_password()
        elif not opts["password_file"]:
            raise CommandError("Give --password-file PATH (preferred) or --password-stdin.")
        port = opts["port"] or (993 if opts["security"] == MailboxSecurity.TLS else 143)
        definition = MailboxDefinition(
            name=opts["name"],
            address=opts["address"],
            host=opts["host"],
            port=port,
            security=opts["security"],
            username=opts["username"] or opts["address"],
            password=password,
            password_file=opts["password_file"],
            folder=opts["folder"],
            after_import=opts["after_import"],
            move_to=opts["move_to"],
            department=department,
            help_topic=topic,
            interval_seconds=opts["interval"],
            max_messages=opts["max_messages"],
            enabled=not opts["disabled"],
        )
        try:
            mailbox = mailbox_create(actor=CLI_ACTOR, definition=definition)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Added mailbox {mailbox.name} ({mailbox.username} at {mailbox.server}, {mailbox.folder}). "
            f"Check it with `socdesk mailbox test {mailbox.name}`."
        )

    def stdin_password(self) -> str:
        """The password typed (hidden) on a terminal, else the first line of standard input."""
        if sys.stdin.isatty():
            return getpass.getpass("IMAP password: ")
        return sys.stdin.readline().rstrip("\r\n")

    def _list(self, **opts) -> None:
        rows = Mailbox.objects.select_related("department")
        if not rows:
            self.stdout.write(
                "No mailboxes yet: `socdesk mailbox add NAME --address ... --host ...` adds one."
            )
        for mailbox in rows:
            if mailbox.last_fetch_at is None:
                status = "never fetched"
            else:
                status = f"fetched {mailbox.last_fetch_at:%Y-%m-%d %H:%M} UTC, {mailbox.last_count} imported"
                if mailbox.last_error:
                    status += f"; {mailbox.last_error}"
            self.stdout.write(
                "\t".join(
                    [
                        mailbox.name,
                        mailbox.address,
                        f"{mailbox.username}@{mailbox.server}/{mailbox.folder}",
                        "enabled" if mailbox.enabled else "disabled",
                        status,
                    ]
                )
            )

    def _test(self, *, name: str, **opts) -> None:
        try:
            self.stdout.write(mailbox_test(_mailbox(name)))
        except ServiceError as exc:
            raise CommandError(exc.message) from None

    def _remove(self, *, name: str, **opts) -> None:
        mailbox = _mailbox(name)
        mailbox_delete(actor=CLI_ACTOR, mailbox=mailbox)
        self.stdout.write(f"Removed mailbox {name}; the tickets it imported stay.")
