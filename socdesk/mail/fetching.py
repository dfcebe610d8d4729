"""Fetching a mailbox over IMAP: import each message with `mail_receive`, then act on it on the server.

The order is what makes it reliable: a message is read with BODY.PEEK[] (nothing is marked), imported in
its own transaction, and only once that has committed is the after-import action (move, mark read,
delete) applied on the server. A fetch stopped in between leaves the message on the server; the next
fetch finds it again, `mail_receive` recognises its Message-ID (a duplicate, nothing written), and the
action is applied then. See docs/email.md ("Mailboxes (IMAP)").
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models import Q
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.mail.inbound import Receipt, mail_receive
from socdesk.mail.mailboxes import mailbox_password
from socdesk.mail.models import AfterImport, Mailbox, MailboxSecurity

log = logging.getLogger(__name__)

TIMEOUT = 30.0  # seconds for connecting and for each answer of the server
# A fetch holds its mailbox this long; a longer one renews it after each batch. A worker that died
# holding it frees the mailbox when it lapses.
LEASE = timedelta(minutes=10)
# Messages read per FETCH command (bounds the memory a batch of big mail takes); their after-import action
# is one command too, sent once the chunk's imports have committed.
CHUNK = 20


class FetchError(ServiceError):
    """The server could not be reached, refused the login, or refused a command: a sentence saying which."""


@dataclass
class FetchSummary:
    """What one fetch did, per outcome of `mail_receive`, plus the messages refused and those that failed."""

    mailbox: str
    created: int = 0
    added: int = 0
    duplicate: int = 0
    bounces: int = 0
    rejected: int = 0
    failed: int = 0
    found: int = 0  # messages waiting on the server when the fetch began
    error: str = ""  # what ended the fetch early (the server, the login, the database)
    problems: list[str] = field(default_factory=list)  # messages refused or failed on the way

    @property
    def handled(self) -> int:
        return self.created + self.added + self.duplicate + self.bounces + self.rejected

    @property
    def imported(self) -> int:
        return self.created + self.added + self.bounces

    def line(self) -> str:
        """`soc-inbox: 12 created, 3 added, 1 duplicate, 0 bounces, 0 rejected, 0 failed`."""
        text = (
            f"{self.mailbox}: {self.created} created, {self.added} added, {self.duplicate} duplicate, "
            f"{self.bounces} bounces, {self.rejected} rejected, {self.failed} failed"
        )
        return text + (f". {self.error}" if self.error else "")

    def count(self, receipt: Receipt) -> None:
        if receipt.outcome == "created":
            self.created += 1
        elif receipt.outcome == "added":
            self.added += 1
        elif receipt.outcome == "duplicate":
            self.duplicate += 1
        else:
            self.bounces += 1


# --- connecting -----------------------------------------------------------------------------------------


def _connect_error(mailbox: Mailbox, exc: BaseException) -> FetchError:
    where = f"imap server {mailbox.server}"
    if isinstance(exc, socket.gaierror):
        reason = f"the host name {mailbox.host!r} is unknown"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "the connection was refused (is the port right, and the server running?)"
    elif isinstance(exc, TimeoutError | socket.timeout):
        reason = f"no answer within {TIMEOUT:.0f} seconds"
    elif isinstance(exc, ssl.SSLError):
        reason = _tls_failed(exc)
    else:
        reason = str(exc) or type(exc).__name__
    return FetchError(f"Could not connect to the {where}: {reason}.")


def _tls_failed(exc: ssl.SSLError) -> str:
    detail = exc.reason or str(exc)
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        detail = f"{detail}: {exc.verify_message}"
    return f"TLS failed ({detail}); check the security setting and the server's certificate"


def _server_said(exc: BaseException) -> str:
    text = str(exc).strip()
    for prefix in ("b'", 'b"'):
        if text.startswith(prefix) and text.endswith(text[1]):
            text = text[2:-1]
    return text or type(exc).__name__


def imap_connect(mailbox: Mailbox) -> IMAPClient:
    """A client logged in to the mailbox's server, or FetchError with a sentence a person can act on."""
    password = mailbox_password(mailbox)
    context = ssl.create_default_context()
    try:
        client = IMAPClient(
            mailbox.host,
            port=mailbox.port,
            ssl=mailbox.security == MailboxSecurity.TLS,
            ssl_context=context if mailbox.security == MailboxSecurity.TLS else None,
            timeout=TIMEOUT,
        )
    except (OSError, IMAPClientError) as exc:
        raise _connect_error(mailbox, exc) from None
    try:
        if mailbox.security == MailboxSecurity.STARTTLS:
            try:
                client.starttls(context)
            except ssl.SSLError as exc:
                raise FetchError(
                    f"Could not start TLS (STARTTLS) with the imap server {mailbox.server}: "
                    f"{_tls_failed(exc)}."
                ) from None
            except (OSError, IMAPClientError) as exc:
                raise FetchError(
                    f"Could not start TLS (STARTTLS) with the imap server {mailbox.server}: "
                    f"{_server_said(exc)}."
                ) from None
        try:
            client.login(mailbox.username, password)
        except LoginError as exc:
            raise FetchError(
                f"Could not log in to {mailbox.server} as {mailbox.username}: the server said "
                f"“{_server_said(exc)}”. Check the user name and password."
            ) from None
        except (OSError, IMAPClientError) as exc:
            raise FetchError(
                f"Could not log in to {mailbox.server} as {mailbox.username}: {_server_said(exc)}."
            ) from None
    except FetchError:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except (OSError, IMAPClientError):
        with contextlib.suppress(OSError):
            client.shutdown()


def _select(client: IMAPClient, mailbox: Mailbox) -> None:
    try:
        client.select_folder(mailbox.folder)
    except IMAPClientError as exc:
        raise FetchError(
            f"Could not open the folder {mailbox.folder!r} on {mailbox.server}: the server said "
            f"“{_server_said(exc)}”."
        ) from None


def mailbox_test(mailbox: Mailbox) -> str:
    """Connect, log in and open the folder; `OK: 12 messages in INBOX, 3 unseen`, or FetchError."""
    client = imap_connect(mailbox)
    try:
        try:
            status = client.folder_status(mailbox.folder, [b"MESSAGES", b"UNSEEN"])
        except IMAPClientError as exc:
            raise FetchError(
                f"Could not open the folder {mailbox.folder!r} on {mailbox.server}: the server said "
                f"“{_server_said(exc)}”."
            ) from None
        _select(client, mailbox)
        messages, unseen = status.get(b"MESSAGES", 0), status.get(b"UNSEEN", 0)
        text = f"OK: {messages} message{'s' if messages != 1 else ''} in {mailbox.folder}, {unseen} unseen"
        if mailbox.after_import == AfterImport.MOVE and not client.folder_exists(mailbox.move_to):
            text += f"; the folder {mailbox.move_to!r} does not exist yet and will be created"
        return text + "."
    except (OSError, IMAPClientError) as exc:
        raise FetchError(
            f"The imap server {mailbox.server} stopped answering: {_server_said(exc)}."
        ) from None
    finally:
        _close(client)


# --- claiming ---------------------------------------------------------------------------------------------


def mailbox_claim(mailbox: Mailbox, now: datetime | None = None) -> datetime | None:
    """Take the mailbox for one fetch (a conditional UPDATE: free, or its holder's lease lapsed).

    Returns the claim's stamp (to renew and release it with), or None when another fetch holds it."""
    now = now or timezone.now()
    taken = (
        Mailbox.objects.filter(pk=mailbox.pk)
        .filter(Q(fetching_since__isnull=True) | Q(fetching_since__lt=now - LEASE))
        .update(fetching_since=now)
    )
    return now if taken else None


def _renew(mailbox: Mailbox, stamp: datetime) -> datetime:
    now = timezone.now()
    Mailbox.objects.filter(pk=mailbox.pk, fetching_since=stamp).update(fetching_since=now)
    return now


def _release(mailbox: Mailbox, stamp: datetime, summary: FetchSummary) -> None:
    """Free the mailbox and keep the fetch's outcome on it; with the database down, only log it."""
    try:
        Mailbox.objects.filter(pk=mailbox.pk, fetching_since=stamp).update(
            fetching_since=None,
            last_fetch_at=timezone.now(),
            # The error that ended the fetch, else what was refused or failed on the way.
            last_error=(summary.error or " ".join(summary.problems))[:500],
            last_count=summary.imported,
        )
    except DatabaseError:
        log.warning("mailbox %s: could not record the fetch's outcome: %s", mailbox.name, summary.line())


# --- the cycle ---------------------------------------------------------------------------------------------


def _search(client: IMAPClient, mailbox: Mailbox) -> list[int]:
    # Marking read leaves handled mail in the folder: only unread mail waits. Moving or deleting takes it
    # out: everything still in the folder waits, also mail a person has opened in a mail client.
    criteria = ["UNSEEN"] if mailbox.after_import == AfterImport.SEEN else ["NOT", "DELETED"]
    return sorted(client.search(criteria))


def _apply_action(client: IMAPClient, mailbox: Mailbox, uids: list[int]) -> None:
    """Move, mark read or delete messages whose import has committed (one command for the lot)."""
    if not uids:
        return
    if mailbox.after_import == AfterImport.SEEN:
        client.add_flags(uids, [b"\\Seen"], silent=True)
    elif mailbox.after_import == AfterImport.MOVE:
        if client.has_capability("MOVE"):
            client.move(uids, mailbox.move_to)
        else:
            client.copy(uids, mailbox.move_to)
            _delete(client, uids)
    else:
        _delete(client, uids)


def _delete(client: IMAPClient, uids: list[int]) -> None:
    client.delete_messages(uids, silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


def _headline(raw: bytes) -> str:
    """`<message-id> from someone@example.test`: names a message in logs without reading all of it."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536], headersonly=True)
    return f"{headers.get('Message-ID', '(no Message-ID)')} from {headers.get('From', '(no From)')}".strip()


class _Stop(Exception):
    """End the cycle, leaving the current message on the server; the sentence goes on the mailbox."""


def mailbox_fetch(
    mailbox: Mailbox,
    *,
    drain: bool = False,
    progress: Callable[[int, int], None] | None = None,
    on_imported: Callable[[Receipt], None] | None = None,
) -> FetchSummary:
    """Run one fetch of the mailbox: up to `max_messages` (all waiting ones with `drain`).

    Raises ServiceError when another fetch holds the mailbox. Every other failure (the server, a
    database that went away) ends the cycle with its sentence in the summary's `error` and on the
    mailbox; what was not imported stays on the server for the next fetch. `progress(done, found)` is
    called after each message; `on_imported(receipt)` after each commit, before the action (for tests
    that stop a fetch exactly there).
    """
    summary = FetchSummary(mailbox.name)
    stamp = mailbox_claim(mailbox)
    if stamp is None:
        raise ServiceError(
            f"Mailbox {mailbox.name} is being fetched by another process right now; try again in a moment."
        )
    held: datetime = stamp  # the claim's current stamp (renewed as the fetch goes)
    client: IMAPClient | None = None
    try:
        client = imap_connect(mailbox)
        _select(client, mailbox)
        if mailbox.after_import == AfterImport.MOVE and not client.folder_exists(mailbox.move_to):
            client.create_folder(mailbox.move_to)
        tried: set[int] = set()

        def renew() -> None:
            nonlocal held
            held = _renew(mailbox, held)

        while True:
            waiting = [uid for uid in _search(client, mailbox) if uid not in tried]
            if not summary.found:
                summary.found = len(waiting)
            if not waiting:
                break
            batch = waiting if drain else waiting[: mailbox.max_messages]
            for start in range(0, len(batch), mailbox.max_messages):
                part = batch[start : start + mailbox.max_messages]
                tried.update(part)
                _fetch_part(client, mailbox, part, summary, progress, on_imported, renew)
            if not drain:
                break
    except FetchError as exc:
        summary.error = exc.message
    except _Stop as exc:
        summary.error = str(exc)
    except ServiceError as exc:  # the password file cannot be read
        summary.error = exc.message
    except (OSError, IMAPClientError) as exc:
        summary.error = f"The imap server {mailbox.server} stopped answering: {_server_said(exc)}."
    finally:
        if client is not None:
            _close(client)
        if summary.error:
            log.warning("mailbox %s: %s", mailbox.name, summary.error)
        _release(mailbox, held, summary)
    return summary


def _fetch_part(
    client: IMAPClient,
    mailbox: Mailbox,
    uids: list[int],
    summary: FetchSummary,
    progress: Callable[[int, int], None] | None,
    on_imported: Callable[[Receipt], None] | None,
    renew: Callable[[], None],
) -> None:
    actor = Actor.system(f"mail:{mailbox.name}")
    channel = f"mailbox:{mailbox.name}"
    for start in range(0, len(uids), CHUNK):
        chunk = uids[start : start + CHUNK]
        # PEEK: reading a message does not mark it read; only the after-import action changes it.
        bodies = client.fetch(chunk, [b"BODY.PEEK[]"])
        done: list[int] = []  # committed (or refused for good): the action is due on the server
        try:
            _import_chunk(mailbox, chunk, bodies, done, summary, progress, on_imported, actor, channel)
        except _Stop:
            _apply_action(client, mailbox, done)  # what committed before the database went away
            raise
        _apply_action(client, mailbox, done)
        renew()  # a long fetch keeps its claim


def _import_chunk(
    mailbox: Mailbox,
    chunk: list[int],
    bodies: dict[int, dict[bytes, Any]],
    done: list[int],
    summary: FetchSummary,
    progress: Callable[[int, int], None] | None,
    on_imported: Callable[[Receipt], None] | None,
    actor: Actor,
    channel: str,
) -> None:
    """Import each message of a chunk in its own transaction; `done` gets those whose action is due."""
    for uid in chunk:
        data = bodies.get(uid)
        if data is None or b"BODY[]" not in data:
            continue  # removed meanwhile by someone else
        raw = bytes(data[b"BODY[]"])
        try:
            receipt = mail_receive(
                raw,
                actor=actor,
                channel=channel,
                department=mailbox.department,
                help_topic=mailbox.help_topic_id,
                origin=f"mailbox:{mailbox.pk}",
            )
        except (OperationalError, InterfaceError) as exc:
            raise _Stop(
                f"The database could not be reached ({str(exc).strip() or type(exc).__name__}); the "
                "messages stay on the server for the next fetch."
            ) from None
        except PermissionDenied as exc:
            # A ticket filter refused it: it would be refused again, so it is acted on like the others
            # (not fetched forever) and the refusal is logged and kept on the mailbox.
            summary.rejected += 1
            summary.problems.append(f"A ticket filter refused {_headline(raw)}: {exc.message}")
            log.warning("mailbox %s: %s", mailbox.name, summary.problems[-1])
            done.append(uid)
        except ServiceError as exc:
            if "message" in exc.fields:
                # The message itself is refused (it is empty): fetching it again would not help.
                summary.rejected += 1
                summary.problems.append(f"Message UID {uid} was refused: {exc.message}")
                log.warning("mailbox %s: %s", mailbox.name, summary.problems[-1])
                done.append(uid)
            else:
                # Not the message's fault (no department exists yet): it waits on the server until fixed.
                raise _Stop(f"{exc.message} The messages stay on the server for the next fetch.") from None
        except Exception as exc:
            # A fault in SOCdesk on this message: it stays on the server (nothing was committed) and the
            # fetch goes on with the others; the next fetch tries it again.
            summary.failed += 1
            summary.problems.append(
                f"{_headline(raw)} could not be imported ({type(exc).__name__}: {exc}); it stays on the "
                "server."
            )
            log.exception("mailbox %s: could not import %s", mailbox.name, _headline(raw))
        else:
            summary.count(receipt)
            if on_imported is not None:
                on_imported(receipt)
            # Committed: only now may the server forget it (a duplicate was imported before: the same).
            done.append(uid)
        if progress is not None:
            progress(summary.handled + summary.failed, summary.found)
