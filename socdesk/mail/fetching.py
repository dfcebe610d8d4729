"""Fetching a mailbox over IMAP: import each message with `mail_receive`, then act on it on the server.

The order is what makes it reliable: a message is read with BODY.PEEK[] (nothing is marked), imported
(a chunk of them with one commit, each in its own savepoint), and only once that has committed is the
after-import action (move, mark read, delete) applied on the server. A long fetch imports its chunks in
several processes at once while this one talks to the server; the action still waits for each chunk's
commit. A fetch stopped in between leaves the message on the server; the next
fetch finds it again, `mail_receive` recognises its Message-ID (a duplicate, nothing written), and the
action is applied then. See docs/email.md ("Mailboxes (IMAP)").
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import socket
import ssl
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Q
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.mail.import_process import import_process_start
from socdesk.mail.inbound import Receipt, mail_receive_many
from socdesk.mail.mailboxes import mailbox_password
from socdesk.mail.models import AfterImport, Mailbox, MailboxSecurity

log = logging.getLogger(__name__)

TIMEOUT = 30.0  # seconds for connecting and for each answer of the server
# A fetch holds its mailbox this long; a longer one renews it after each batch. A worker that died
# holding it frees the mailbox when it lapses.
LEASE = timedelta(minutes=10)
# Messages read per FETCH command (bounds the memory a batch of big mail takes); they are imported with one
# commit, and their after-import action is one command too, sent once that commit is done.
CHUNK = 20
# A fetch with more chunks waiting than this imports them in import processes (`processes`); fewer are not
# worth starting the processes for.
POOL_FROM_CHUNKS = 3


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
    processes: int = 1,
    progress: Callable[[int, int], None] | None = None,
    on_imported: Callable[[Receipt], None] | None = None,
) -> FetchSummary:
    """Run one fetch of the mailbox: up to `max_messages` (all waiting ones with `drain`).

    Raises ServiceError when another fetch holds the mailbox. Every other failure (the server, a
    database that went away) ends the cycle with its sentence in the summary's `error` and on the
    mailbox; what was not imported stays on the server for the next fetch. With `processes` above 1 and
    more than a few chunks waiting, the chunks are imported by that many processes at once (started for
    this fetch, stopped at its end). `progress(done, found)` is called after each message;
    `on_imported(receipt)` after each commit, before the action (for tests that stop a fetch exactly
    there).
    """
    summary = FetchSummary(mailbox.name)
    stamp = mailbox_claim(mailbox)
    if stamp is None:
        raise ServiceError(
            f"Mailbox {mailbox.name} is being fetched by another process right now; try again in a moment."
        )
    held: datetime = stamp  # the claim's current stamp (renewed as the fetch goes)
    client: IMAPClient | None = None
    pool: ProcessPoolExecutor | None = None
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
            # Inside a transaction (a caller's, a test's) other processes could not see what it wrote, and
            # on SQLite would wait for its lock: the chunks are imported here.
            parallel = processes > 1 and not connection.in_atomic_block
            if pool is None and parallel and len(batch) > POOL_FROM_CHUNKS * CHUNK:
                pool = _import_pool(processes)
            settle = _Settle(client, mailbox, summary, progress, on_imported, renew)
            # The whole batch in one stream of chunks: the import processes are kept busy from its first
            # chunk to its last, never waiting for each `max_messages` to settle before the next.
            tried.update(batch)
            _fetch_part(client, mailbox, batch, settle, pool, processes)
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
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if client is not None:
            _close(client)
        if summary.error:
            log.warning("mailbox %s: %s", mailbox.name, summary.error)
        _release(mailbox, held, summary)
    return summary


# --- importing ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Imported:
    """What became of one fetched message; plain data, as it may come back from an import process."""

    uid: int
    receipt: Receipt | None = None  # committed (or a duplicate): the action is due
    rejected: str = ""  # refused for good (a filter, an empty message): the action is due, it is reported
    failed: str = ""  # a fault in SOCdesk: it stays on the server, the fetch goes on
    stop: str = ""  # not the message's fault (the database, no department): the fetch ends here


def _import_messages(mailbox: Mailbox, items: list[tuple[int, bytes]]) -> list[_Imported]:
    """Import one chunk with one commit (socdesk.mail.inbound.mail_receive_many); runs in this process or
    in an import process."""
    try:
        results = mail_receive_many(
            [raw for _, raw in items],
            actor=Actor.system(f"mail:{mailbox.name}"),
            channel=f"mailbox:{mailbox.name}",
            department=mailbox.department,
            help_topic=mailbox.help_topic_id,
            origin=f"mailbox:{mailbox.pk}",
        )
    except (OperationalError, InterfaceError) as exc:
        stop = (
            f"The database could not be reached ({str(exc).strip() or type(exc).__name__}); the "
            "messages stay on the server for the next fetch."
        )
        return [_Imported(uid, stop=stop) for uid, _ in items]
    imported = []
    for (uid, raw), result in zip(items, results, strict=True):
        if isinstance(result, Receipt):
            imported.append(_Imported(uid, receipt=result))
        elif isinstance(result, PermissionDenied):
            # A ticket filter refused it: it would be refused again, so it is acted on like the others
            # (not fetched forever) and the refusal is logged and kept on the mailbox.
            imported.append(
                _Imported(uid, rejected=f"A ticket filter refused {_headline(raw)}: {result.message}")
            )
        elif isinstance(result, ServiceError) and "message" in result.fields:
            # The message itself is refused (it is empty): fetching it again would not help.
            imported.append(_Imported(uid, rejected=f"Message UID {uid} was refused: {result.message}"))
        elif isinstance(result, ServiceError):
            # Not the message's fault (no department exists yet): it waits on the server until fixed.
            stop = f"{result.message} The messages stay on the server for the next fetch."
            imported.append(_Imported(uid, stop=stop))
        else:
            # A fault in SOCdesk on this message: it stays on the server (its savepoint was undone) and the
            # fetch goes on with the others; the next fetch tries it again.
            log.error("mailbox %s: could not import %s", mailbox.name, _headline(raw), exc_info=result)
            imported.append(
                _Imported(
                    uid,
                    failed=f"{_headline(raw)} could not be imported ({type(result).__name__}: {result}); "
                    "it stays on the server.",
                )
            )
    return imported


def _import_pool(processes: int) -> ProcessPoolExecutor:
    # Spawned, not forked: the worker that fetches runs threads (the spool, Huey), and a fork copies the
    # locks they hold.
    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=import_process_start,
        initargs=(str(connection.settings_dict["NAME"]),),
    )


@dataclass
class _Settle:
    """Counts a chunk's outcomes and applies the after-import action to what committed."""

    client: IMAPClient
    mailbox: Mailbox
    summary: FetchSummary
    progress: Callable[[int, int], None] | None
    on_imported: Callable[[Receipt], None] | None
    renew: Callable[[], None]

    def __call__(self, imported: list[_Imported]) -> None:
        summary, done = self.summary, []  # done: committed or refused for good: the action is due
        try:
            for item in imported:
                if item.stop:
                    raise _Stop(item.stop)
                if item.receipt is not None:
                    summary.count(item.receipt)
                    if self.on_imported is not None:
                        self.on_imported(item.receipt)
                    # Committed: only now may the server forget it (a duplicate was imported before).
                    done.append(item.uid)
                elif item.rejected:
                    summary.rejected += 1
                    summary.problems.append(item.rejected)
                    log.warning("mailbox %s: %s", self.mailbox.name, item.rejected)
                    done.append(item.uid)
                else:
                    summary.failed += 1
                    summary.problems.append(item.failed)
                if self.progress is not None:
                    self.progress(summary.handled + summary.failed, summary.found)
        except _Stop:
            _apply_action(self.client, self.mailbox, done)  # what committed before the stop
            raise
        _apply_action(self.client, self.mailbox, done)
        self.renew()  # a long fetch keeps its claim


def _fetch_part(
    client: IMAPClient,
    mailbox: Mailbox,
    uids: list[int],
    settle: _Settle,
    pool: ProcessPoolExecutor | None,
    processes: int,
) -> None:
    """Read the messages chunk by chunk and import each chunk, here or (with a pool) in the import
    processes, reading the next chunks meanwhile; each chunk is settled once its commit is done."""
    pending: deque[Future[list[_Imported]]] = deque()
    try:
        for start in range(0, len(uids), CHUNK):
            chunk = uids[start : start + CHUNK]
            # PEEK: reading a message does not mark it read; only the after-import action changes it.
            bodies = client.fetch(chunk, [b"BODY.PEEK[]"])
            items = [
                (uid, bytes(bodies[uid][b"BODY[]"]))
                for uid in chunk
                if uid in bodies and b"BODY[]" in bodies[uid]  # else removed meanwhile by someone else
            ]
            if pool is None:
                settle(_import_messages(mailbox, items))
                continue
            try:
                pending.append(pool.submit(_import_messages, mailbox, items))
            except BrokenProcessPool as exc:
                raise _Stop(_process_stopped(exc)) from None
            if len(pending) > processes:  # one chunk read ahead per process, no more (memory)
                settle(_result(pending.popleft()))
        while pending:
            settle(_result(pending.popleft()))
    except _Stop:
        # The chunks already handed over may commit: settle them too, so their action is not left over.
        for future in pending:
            with contextlib.suppress(_Stop):
                settle(_result(future))
        raise


def _result(future: Future[list[_Imported]]) -> list[_Imported]:
    try:
        return future.result()
    except Exception as exc:  # the import process died (killed, out of memory): nothing is acted on
        raise _Stop(_process_stopped(exc)) from None


def _process_stopped(exc: Exception) -> str:
    return (
        f"An import process stopped ({type(exc).__name__}: {exc}); the messages stay on the server for the "
        "next fetch."
    )
