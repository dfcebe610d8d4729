"""IMAP mailboxes, without their passwords: a file names a password file (`password_file`) instead."""

from __future__ import annotations

from django.db.models import Model

from socdesk.mail.mailboxes import MailboxDefinition, mailbox_create, mailbox_delete, mailbox_update
from socdesk.mail.models import AfterImport, Mailbox, MailboxSecurity
from socdesk.ops.config.kinds.base import Entry, Kind, Writer, by_name, definition, deleted
from socdesk.ops.config.kinds.routing import topic_paths
from socdesk.ops.config.schema import Boolean, Choice, Field, Integer, Nullable, Record, Ref, Text


def _read_mailboxes() -> list[tuple[Model, Entry]]:
    paths = topic_paths()
    rows: list[tuple[Model, Entry]] = []
    for mailbox in Mailbox.objects.select_related("department"):
        entry = {
            "name": mailbox.name,
            "address": mailbox.address,
            "enabled": mailbox.enabled,
            "host": mailbox.host,
            "port": mailbox.port,
            "security": mailbox.security,
            "username": mailbox.username,
            "password_file": mailbox.password_file,
            "folder": mailbox.folder,
            "after_import": mailbox.after_import,
            "move_to": mailbox.move_to,
            "department": mailbox.department.name if mailbox.department else None,
            "help_topic": paths[mailbox.help_topic_id] if mailbox.help_topic_id else None,
            "interval_seconds": mailbox.interval_seconds,
            "max_messages": mailbox.max_messages,
        }
        rows.append((mailbox, entry))
    return by_name(rows)


def _write_mailbox(writer: Writer, entry: Entry, existing: Mailbox | None) -> Mailbox:
    # No `password` in a file: `definition` keeps the stored one (a new mailbox needs its password_file).
    values = {key: value for key, value in entry.items() if key not in ("department", "help_topic")}
    mailbox_definition = definition(
        MailboxDefinition,
        existing,
        department=writer.resolve("departments", entry["department"]),
        help_topic=writer.resolve("help_topics", entry["help_topic"]),
        **values,
    )
    if existing is None:
        return mailbox_create(actor=writer.actor, definition=mailbox_definition)
    return mailbox_update(actor=writer.actor, mailbox=existing, definition=mailbox_definition)


MAILBOXES = Kind(
    key="mailboxes",
    label="mailbox",
    schema=Record(
        {
            "name": Field(Text(required=True, max_length=50)),
            "address": Field(Text(required=True, max_length=254)),
            "enabled": Field(Boolean(), True),
            "host": Field(Text(required=True, max_length=253)),
            "port": Field(Integer(minimum=1, maximum=65535), 993),
            "security": Field(Choice(MailboxSecurity.values), MailboxSecurity.TLS.value),
            "username": Field(Text(required=True, max_length=254)),
            "password_file": Field(Text(max_length=500), ""),
            "folder": Field(Text(required=True, max_length=200), "INBOX"),
            "after_import": Field(Choice(AfterImport.values), AfterImport.SEEN.value),
            "move_to": Field(Text(max_length=200), ""),
            "department": Field(Nullable(Ref("departments")), None),
            "help_topic": Field(Nullable(Ref("help_topics")), None),
            "interval_seconds": Field(Integer(minimum=30), 300),
            "max_messages": Field(Integer(minimum=1, maximum=10_000), 100),
        }
    ),
    read=_read_mailboxes,
    find=lambda name: Mailbox.objects.filter(name=name).first(),
    write=_write_mailbox,
    remove=lambda writer, mailbox: deleted(mailbox_delete(actor=writer.actor, mailbox=mailbox)),
    comment="Passwords are never exported, and applying a file never changes them: a file names a\n"
    "password_file (an absolute path on the machines that fetch mail), or the password is set by hand in\n"
    "the admin area or with `socdesk mailbox add --password-stdin`.",
)
