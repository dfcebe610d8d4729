"""Writes and reads for IMAP mailboxes: create, update, delete (each validated and audited), the password a
fetch logs in with, the mailboxes due for a fetch, and their addresses (SOCdesk's own, for loop detection).

The password is write-only: it is never in the audit trail (only whether one is set), an export, or a page.
See docs/email.md ("Mailboxes (IMAP)").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from socdesk.accounts.models import Department
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.core.names import machine_name_clean
from socdesk.core.text import clean_text
from socdesk.mail.models import AfterImport, Mailbox, MailboxSecurity
from socdesk.routing.models import HelpTopic

HOST = re.compile(r"^[A-Za-z0-9.:\[\]_-]{1,253}$")
MIN_INTERVAL, MAX_INTERVAL = 30, 7 * 24 * 3600
MAX_BATCH = 10_000


@dataclass(frozen=True)
class MailboxDefinition:
    """A mailbox's settings. `password` None keeps the stored one (an edit that does not retype it)."""

    name: str
    address: str
    host: str
    username: str
    port: int = 993
    security: str = MailboxSecurity.TLS
    password: str | None = None
    password_file: str = ""
    folder: str = "INBOX"
    after_import: str = AfterImport.SEEN
    move_to: str = ""
    department: Department | None = None
    help_topic: HelpTopic | None = None
    interval_seconds: int = 300
    max_messages: int = 100
    enabled: bool = True


# What a caller may set (the config file's settings are these, less the secret).
EDITABLE = tuple(name for name in MailboxDefinition.__dataclass_fields__)


def _refuse(message: str, field: str) -> ServiceError:
    return ServiceError(message, fields={field: "invalid"})


def _validate(definition: MailboxDefinition, instance: Mailbox | None) -> dict[str, Any]:
    """The cleaned values to store, or a ServiceError naming the field and what to do."""
    name = machine_name_clean(
        definition.name, taken=Mailbox.objects.all(), instance=instance, what="Mailbox", example="soc-inbox"
    )
    address = definition.address.strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise _refuse(f"{definition.address!r} is not an e-mail address.", "address") from None
    host = definition.host.strip()
    if not HOST.match(host):
        raise _refuse(f"{definition.host!r} is not a host name or IP address.", "host")
    if not 1 <= int(definition.port) <= 65535:
        raise _refuse(f"Port {definition.port} is not a TCP port (1 to 65535).", "port")
    if definition.security not in MailboxSecurity.values:
        raise _refuse(
            f"Unknown security {definition.security!r}: use {', '.join(MailboxSecurity.values)}.", "security"
        )
    username = clean_text(definition.username).strip()
    if not username or len(username) > 254:
        raise _refuse("The IMAP user name is empty; give the login of the mailbox.", "username")
    password_file = definition.password_file.strip()
    if password_file and not Path(password_file).is_absolute():
        raise _refuse(
            f"The password file {password_file!r} is not an absolute path (e.g. /run/secrets/imap).",
            "password_file",
        )
    password = definition.password
    stored = instance.password if instance is not None else ""
    if password is None:
        password = stored
    if len(password) > 500:
        raise _refuse("The password is over 500 characters.", "password")
    if not password and not password_file:
        raise _refuse("Give the mailbox's password, or a password file that holds it.", "password")
    folder = clean_text(definition.folder).strip()
    if not folder or len(folder) > 200:
        raise _refuse("The folder is empty; INBOX is the usual one.", "folder")
    if definition.after_import not in AfterImport.values:
        raise _refuse(
            f"Unknown after-import action {definition.after_import!r}: use {', '.join(AfterImport.values)}.",
            "after_import",
        )
    move_to = clean_text(definition.move_to).strip()
    if definition.after_import == AfterImport.MOVE:
        if not move_to or len(move_to) > 200:
            raise _refuse("Moving imported mail needs the folder to move it to (e.g. Imported).", "move_to")
        if move_to == folder:
            raise _refuse(
                f"Imported mail cannot be moved to {folder!r}, the folder it is fetched from.", "move_to"
            )
    else:
        move_to = ""
    if not MIN_INTERVAL <= int(definition.interval_seconds) <= MAX_INTERVAL:
        raise _refuse(
            f"Fetch every {definition.interval_seconds} seconds is out of range: use {MIN_INTERVAL} "
            "seconds to 7 days.",
            "interval_seconds",
        )
    if not 1 <= int(definition.max_messages) <= MAX_BATCH:
        raise _refuse(f"Messages per fetch must be 1 to {MAX_BATCH:,}.", "max_messages")
    return {
        "name": name,
        "address": address,
        "host": host,
        "port": int(definition.port),
        "security": definition.security,
        "username": username,
        "password": password,
        "password_file": password_file,
        "folder": folder,
        "after_import": definition.after_import,
        "move_to": move_to,
        "department": definition.department,
        "help_topic": definition.help_topic,
        "interval_seconds": int(definition.interval_seconds),
        "max_messages": int(definition.max_messages),
        "enabled": bool(definition.enabled),
    }


def mailbox_snapshot(mailbox: Mailbox) -> dict[str, Any]:
    """The settings as the audit trail keeps them: the password never, only whether one is stored."""
    return {
        "name": mailbox.name,
        "address": mailbox.address,
        "host": mailbox.host,
        "port": mailbox.port,
        "security": mailbox.security,
        "username": mailbox.username,
        "password_set": bool(mailbox.password),
        "password_file": mailbox.password_file,
        "folder": mailbox.folder,
        "after_import": mailbox.after_import,
        "move_to": mailbox.move_to,
        "department_id": mailbox.department_id,
        "help_topic_id": mailbox.help_topic_id,
        "interval_seconds": mailbox.interval_seconds,
        "max_messages": mailbox.max_messages,
        "enabled": mailbox.enabled,
    }


@transaction.atomic
def mailbox_create(*, actor: Actor, definition: MailboxDefinition) -> Mailbox:
    """Create a mailbox to fetch mail from."""
    values = _validate(definition, None)
    mailbox = Mailbox.objects.create(created_at=timezone.now(), **values)
    record(actor=actor, action="mailbox.created", target=mailbox, after=mailbox_snapshot(mailbox))
    return mailbox


@transaction.atomic
def mailbox_update(*, actor: Actor, mailbox: Mailbox, definition: MailboxDefinition) -> Mailbox:
    """Replace a mailbox's settings (the password is kept unless a new one is given)."""
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    values = _validate(definition, mailbox)
    before = mailbox_snapshot(mailbox)
    password_changed = values["password"] != mailbox.password
    for field, value in values.items():
        setattr(mailbox, field, value)
    mailbox.save(update_fields=[*values])
    after = mailbox_snapshot(mailbox) | ({"password_changed": True} if password_changed else {})
    record(actor=actor, action="mailbox.updated", target=mailbox, before=before, after=after)
    return mailbox


@transaction.atomic
def mailbox_delete(*, actor: Actor, mailbox: Mailbox) -> None:
    """Delete a mailbox; what it imported stays (tickets and their `email.received` events)."""
    record(actor=actor, action="mailbox.deleted", target=mailbox, before=mailbox_snapshot(mailbox))
    mailbox.delete()


def mailbox_definition(mailbox: Mailbox, **changes: Any) -> MailboxDefinition:
    """The stored settings as a definition (password kept), with some changed: for partial edits."""
    values = {name: getattr(mailbox, name) for name in EDITABLE if name != "password"}
    return MailboxDefinition(**(values | changes))


def mailbox_password(mailbox: Mailbox) -> str:
    """The password to log in with: the file's content when a password file is set, else the stored one.

    Raises ServiceError with a sentence when the file cannot be read (read at every fetch, so a rotated
    secret is picked up without a restart)."""
    if mailbox.password_file:
        try:
            return Path(mailbox.password_file).read_text().strip()
        except OSError as exc:
            raise ServiceError(
                f"The password file {mailbox.password_file} of mailbox {mailbox.name} cannot be read "
                f"({exc.strerror or exc})."
            ) from None
    return mailbox.password


# --- reads ---------------------------------------------------------------------------------------------


def mailbox_addresses() -> list[str]:
    """Every mailbox's address: SOCdesk's own addresses (mail from them is SOCdesk's own coming back)."""
    return list(Mailbox.objects.values_list("address", flat=True))


def mailboxes_due(now: datetime | None = None) -> list[Mailbox]:
    """Enabled mailboxes whose fetch interval has passed since their last fetch (or never fetched)."""
    now = now or timezone.now()
    # A handful of rows: the interval arithmetic is done here, the same on both databases.
    return [
        mailbox
        for mailbox in Mailbox.objects.filter(enabled=True)
        if mailbox.last_fetch_at is None
        or mailbox.last_fetch_at <= now - timedelta(seconds=mailbox.interval_seconds)
    ]
