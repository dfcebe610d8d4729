"""Mail coming into SOCdesk: one raw message becomes a ticket, a message on its ticket, or a bounce note.

`mail_receive` is the one way in, whatever the channel (`socdesk mail pipe` from a mail server,
`POST /api/tickets.email`, later the mailbox fetcher). See docs/email.md ("Receiving").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from socdesk.accounts.choices import ClosedReply, Perm
from socdesk.accounts.models import Agent, Contact, Department
from socdesk.accounts.selectors import agent_can, api_department
from socdesk.accounts.services import contact_get_or_create
from socdesk.audit.models import AuditEvent
from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.mail.bans import ban_add, ban_for, ban_matching, bans_for
from socdesk.mail.collaborators import collaborators_from_message
from socdesk.mail.loops import HINT_AUTOMATED
from socdesk.mail.models import BannedSender, InboundMessage, InboundOutcome, OutboundMessage
from socdesk.mail.observables import message_observables
from socdesk.mail.own import own_addresses_remembered
from socdesk.mail.parse import MailAttachment, ParsedMessage, parse_message
from socdesk.notifications.selectors import preferences_remembered
from socdesk.routing import snapshot
from socdesk.routing.apply import FILTERS_ACTOR, SenderBanRequested
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.choices import Source, Status
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.selectors import collaborator_of, ticket_collaborators, ticket_merge_survivor
from socdesk.tickets.services import (
    TicketDraft,
    collaborator_add,
    ticket_add_message,
    ticket_change_status,
    ticket_create_many,
    ticket_link,
    ticket_note,
    ticket_reply,
)

logger = logging.getLogger(__name__)

# The token SOCdesk's own subjects carry (`Re: ... [#SOC-1042]`, socdesk.mail.mail_templates.mail_render).
SUBJECT_TOKEN = re.compile(r"\[#\s*([A-Za-z][A-Za-z0-9]{0,15}-\d{1,12})\s*\]")
RAW_NAME = "original.eml"
MAIL_ACTOR = Actor.system("mail")
# "Re: Fwd: " and the like: a subject of nothing else says nothing of its own.
REPLY_PREFIXES = re.compile(r"^(?:\s*(?:re|fwd?|aw|sv|wg)\s*:)*\s*", re.IGNORECASE)
MAX_THREAD_IDS = 100  # a hostile References header may name thousands of ids


@dataclass(frozen=True)
class Receipt:
    """What became of one received message: created, added, duplicate, bounce_noted, bounce_dropped or
    banned."""

    outcome: str
    message_id: str
    ticket: Ticket | None = None
    entry: ThreadEntry | None = None

    def line(self) -> str:
        """One line for a mail server's log or a script (`created SOC-1042`, `duplicate`...)."""
        number = self.ticket.number if self.ticket is not None else ""
        return {
            "created": f"created {number}",
            "added": f"added to {number}",
            "duplicate": "duplicate",
            "bounce_noted": f"bounce noted on {number}",
            "bounce_dropped": "bounce dropped (it returns no message SOCdesk knows)",
            "banned": "refused (the sender is banned)",
        }[self.outcome]


def mail_receive(
    raw: bytes,
    *,
    actor: Actor,
    channel: str,
    department: Department | None = None,
    help_topic: int | None = None,
    origin: str = "",
) -> Receipt:
    """Import one raw RFC 822 message, in one transaction (the message is read before it begins).

    A Message-ID already imported is a `duplicate` and nothing is written (a unique row per Message-ID
    makes that hold for two deliveries at the same moment too). Mail from a banned sender
    (socdesk.mail.bans), or refused by a ticket filter's "ban sender", is `banned`: only its row is kept.
    A bounce is noted on the ticket of the message it returns, or dropped (logged). Otherwise the
    message threads onto its ticket (In-Reply-To or References naming a message SOCdesk sent or
    imported; else a `[#SOC-1042]` subject token, only from the ticket's requester, one of its
    collaborators or an agent who may reply on it), where the requester's (or a collaborator's) mail is a
    message from them (reopening a resolved or closed ticket through the status service, the requester
    then acknowledged by socdesk.mail.reopen_ack; or, where the department says `new`, opening a new
    ticket linked to the closed one, `created`) and an agent's
    mail is that agent's reply (e-mailed to the requester like any reply); or it opens a ticket in
    `department` (default: the API default department, SOCDESK_DEFAULT_DEPARTMENT else the first). The
    people it was copied to become collaborators (socdesk.mail.collaborators). The raw message is
    attached as original.eml, the attachments with their SHA-256, the observables linked; what could not
    be read or stored is said in an internal note. `actor` is the channel (an API key, the pipe);
    `channel` names it on the stored row; `origin` (`mailbox:7`) is what ticket filters restricted to one
    mailbox match. Raises ServiceError for an empty message or no department.
    """
    parsed = _read(raw)
    with snapshot.pinned():  # its filters, form, SLA and assignment follow one routing configuration
        try:
            return _receive(raw, parsed, actor, channel, department, help_topic, origin)
        except _AlreadyClaimed:
            return _duplicate(parsed.message_id[:255])


def mail_receive_many(
    raws: Sequence[bytes],
    *,
    actor: Actor,
    channel: str,
    department: Department | None = None,
    help_topic: int | None = None,
    origin: str = "",
) -> list[Receipt | Exception]:
    """Import several raw messages with one commit, each exactly as `mail_receive` imports it.

    The messages are read first, outside any transaction (on SQLite a transaction holds the one write
    lock); then each is written in its own savepoint of one transaction, so one commit serves the batch,
    and its tickets follow one routing configuration and one reading of who watches new tickets
    (socdesk.routing.snapshot.pinned, preferences_remembered), as tickets opened together do.
    Consecutive messages that name no ticket open their tickets together, with one
    `ticket_create_many` in one savepoint, unless one repeats a Message-ID or reads what another writes
    (`_depends_on`); should any of them be refused or fail, that savepoint is undone and each is
    imported alone, to its own outcome. The result, in order, is each message's Receipt, or the exception
    that refused it (ServiceError for an empty message or no department, PermissionDenied from a ticket
    filter, any fault), that message's writes undone and the others kept. When the database fails
    (OperationalError, InterfaceError) nothing of the batch is kept: a deadlock with another importer is
    retried once a message per transaction, anything else is raised for the caller to try again later.
    """
    read: list[ParsedMessage | Exception] = []
    for raw in raws:
        try:
            read.append(_read(raw))
        except ServiceError as exc:
            read.append(exc)
    facts = _BatchFacts.read([parsed for parsed in read if not isinstance(parsed, Exception)])

    def one(n: int, parsed: ParsedMessage) -> Receipt | Exception:
        return _receive_or_refusal(raws[n], parsed, actor, channel, department, help_topic, origin, facts)

    def write_all() -> list[Receipt | Exception]:
        results: dict[int, Receipt | Exception] = {}
        group: dict[int, ParsedMessage] = {}

        def flush() -> None:
            if len(group) > 1:
                try:
                    items = [(raws[n], parsed) for n, parsed in group.items()]
                    opened = _receive_new_together(
                        items, actor, channel, department, help_topic, origin, facts
                    )
                    results.update(zip(group, opened, strict=True))
                    group.clear()
                except (OperationalError, InterfaceError):
                    raise
                except Exception:  # undone whole: each is imported alone below, to its own outcome
                    pass
            results.update((n, one(n, parsed)) for n, parsed in group.items())
            group.clear()

        seen: set[str] = set()
        for n, parsed in enumerate(read):
            if isinstance(parsed, Exception):
                results[n] = parsed
                continue
            message_id = parsed.message_id[:255]
            if _names_a_ticket(parsed) or message_id in seen:
                flush()  # it may name a ticket, or repeat a message, of the ones before it
                results[n] = one(n, parsed)
            else:
                if _depends_on(parsed, group.values()):
                    flush()
                group[n] = parsed
            seen.add(message_id)
        flush()
        return [results[n] for n in range(len(read))]

    try:
        # The batch's tickets follow one routing configuration and one reading of the notification
        # preferences, as if opened together.
        with snapshot.pinned(), transaction.atomic(), own_addresses_remembered(), preferences_remembered():
            return write_all()
    except OperationalError as exc:
        if len(raws) < 2 or not _is_deadlock(exc):
            raise
    logger.warning("A batch of %d e-mails met another importer's; importing them one by one.", len(raws))
    results: list[Receipt | Exception] = []
    for raw, parsed in zip(raws, read, strict=True):
        if isinstance(parsed, Exception):
            results.append(parsed)
        else:
            with snapshot.pinned(), transaction.atomic():
                results.append(
                    _receive_or_refusal(raw, parsed, actor, channel, department, help_topic, origin, facts)
                )
    return results


@dataclass
class _BatchFacts:
    """What a batch's messages need to know before writing, read in two queries for the whole batch: the
    Message-IDs imported before it, and the ban entries of its senders.

    Read before the batch's transaction: a message imported or a ban added meanwhile is caught as for a
    single message (a second import of a Message-ID fails on its unique row and is a duplicate; a ban
    added a moment later applies to the next message). A ban a ticket filter adds during the batch
    (`forget_bans`) makes the rest of the batch ask the database again.
    """

    known_ids: set[str]
    bans: dict[str, BannedSender] | None

    @classmethod
    def read(cls, parsed: Sequence[ParsedMessage]) -> _BatchFacts:
        ids = [p.message_id[:255] for p in parsed]
        known = set(InboundMessage.objects.filter(message_id__in=ids).values_list("message_id", flat=True))
        return cls(known, bans_for([p.from_address for p in parsed]))

    def is_known(self, message_id: str) -> bool:
        return message_id in self.known_ids

    def ban_for(self, address: str) -> BannedSender | None:
        if self.bans is None:
            return ban_for(address)
        return ban_matching(self.bans, address)

    def forget_bans(self) -> None:
        self.bans = None


def _is_deadlock(exc: OperationalError) -> bool:
    """Two batches waiting on each other's rows (PostgreSQL ends one of them)."""
    return type(exc.__cause__).__name__ in ("DeadlockDetected", "SerializationFailure")


def _read(raw: bytes) -> ParsedMessage:
    if not raw.strip():
        raise ServiceError(
            "The message is empty; send one whole RFC 822 message (headers, a blank line, the body).",
            fields={"message": "empty"},
        )
    return parse_message(raw, max_attachment_bytes=settings.ATTACHMENT_MAX_BYTES)


def _receive_or_refusal(
    raw: bytes,
    parsed: ParsedMessage,
    actor: Actor,
    channel: str,
    department: Department | None,
    help_topic: int | None,
    origin: str,
    facts: _BatchFacts | None = None,
) -> Receipt | Exception:
    try:
        return _receive(raw, parsed, actor, channel, department, help_topic, origin, facts)
    except (OperationalError, InterfaceError):
        raise  # the connection is gone or the transaction aborted: the whole batch is undone
    except _AlreadyClaimed:
        return _duplicate(parsed.message_id[:255])
    except Exception as exc:  # only this message's savepoint is rolled back; the batch goes on
        return exc


@transaction.atomic
def _receive(
    raw: bytes,
    parsed: ParsedMessage,
    actor: Actor,
    channel: str,
    department: Department | None,
    help_topic: int | None,
    origin: str,
    facts: _BatchFacts | None = None,
) -> Receipt:
    admitted = _admit(raw, parsed, actor, channel, facts)
    if isinstance(admitted, Receipt):
        return admitted
    row = admitted
    opening = _Opening.of(raw, parsed, row)
    ticket, agent = _thread_target(parsed)
    if ticket is None:
        try:
            [receipt] = _open_many([opening], actor, department, help_topic, origin)
        except SenderBanRequested as refusal:
            if facts is not None:
                facts.forget_bans()
            return _ban_sender(refusal, parsed, row)
        return receipt
    files, observables = opening.files, opening.observables
    follow_up_of = ""
    entry: ThreadEntry | None
    if agent is not None:
        # An agent answering by mail expects the requester to get it: recorded as their reply, which the
        # after-change hook e-mails like a reply written in the console (SOCdesk's own address is never
        # an agent's, so this cannot loop).
        author = Actor.for_agent(agent)
        entry = ticket_reply(
            actor=author,
            ticket=ticket,
            body=_reply_body(parsed),
            attachments=files,
            observables=observables,
        )
        outcome = InboundOutcome.ADDED
    elif ticket.status == Status.CLOSED and closed_reply_policy(ticket.department) == ClosedReply.NEW:
        author = _sender(parsed, actor)
        closed = ticket
        try:
            with transaction.atomic():  # a refusal undoes the ticket, not the message's row
                ticket, entry = _follow_up(parsed, closed, files, observables, actor, author, origin)
        except SenderBanRequested as refusal:
            if facts is not None:
                facts.forget_bans()
            return _ban_sender(refusal, parsed, row)
        follow_up_of = closed.number
        outcome = InboundOutcome.CREATED
    else:
        author = _sender(parsed, actor)
        entry, reopened = _requester_message(parsed, ticket, files, observables, author)
        if reopened and _is_requester(parsed, ticket):
            # Imported here: the sending side imports the worker's tasks, which import this module.
            from socdesk.mail.reopen_ack import reopen_ack_queue

            reopen_ack_queue(
                ticket=ticket,
                address=parsed.from_address,
                automated=parsed.automated,
                answers=f"<{parsed.message_id}>",
                message=_reply_body(parsed),
            )
        outcome = InboundOutcome.ADDED
    return _finish(opening, actor, ticket, entry, author, outcome, follow_up_of)


def _names_a_ticket(parsed: ParsedMessage) -> bool:
    """Whether the message may belong to a ticket (a reply, a subject token, a bounce): else it opens one."""
    return bool(
        parsed.in_reply_to
        or parsed.references
        or parsed.bounce is not None
        or SUBJECT_TOKEN.search(parsed.subject)
    )


def _depends_on(parsed: ParsedMessage, before: Iterable[ParsedMessage]) -> bool:
    """Whether the message's import reads what one of `before` writes: the same sender (their contact,
    their auto-responses in the last hour), or a sender they copied (the contact their collaborators
    make)."""
    sender = parsed.from_address.lower()
    return any(sender in {a.lower() for a in (other.from_address, *other.to, *other.cc)} for other in before)


def _receive_new_together(
    items: list[tuple[bytes, ParsedMessage]],
    actor: Actor,
    channel: str,
    department: Department | None,
    help_topic: int | None,
    origin: str,
    facts: _BatchFacts,
) -> list[Receipt]:
    """Messages that name no ticket, each imported as `_receive` imports it, their tickets opened by one
    `ticket_create_many`, in one savepoint. Raises what any of them raises (that savepoint undone): the
    caller then imports them one at a time, each to its own outcome."""
    with transaction.atomic():
        receipts: list[Receipt | None] = []
        openings: list[_Opening] = []
        for raw, parsed in items:
            admitted = _admit(raw, parsed, actor, channel, facts)
            if isinstance(admitted, Receipt):
                receipts.append(admitted)
            else:
                openings.append(_Opening.of(raw, parsed, admitted))
                receipts.append(None)
        opened = iter(_open_many(openings, actor, department, help_topic, origin))
        return [receipt if receipt is not None else next(opened) for receipt in receipts]


def _admit(
    raw: bytes, parsed: ParsedMessage, actor: Actor, channel: str, facts: _BatchFacts | None
) -> Receipt | InboundMessage:
    """The message's claimed row, or what became of it already: a duplicate, a banned sender, a bounce."""
    message_id = parsed.message_id[:255]
    if facts is not None:
        # Not known before the batch: the claim below is what decides (a unique row per Message-ID).
        if facts.is_known(message_id):
            return _duplicate(message_id)
    elif InboundMessage.objects.filter(message_id=message_id).exists():
        return _duplicate(message_id)
    row = _claim(parsed, message_id, channel)
    ban = facts.ban_for(parsed.from_address) if facts is not None else ban_for(parsed.from_address)
    if ban is not None:
        # Refused before anything else is written; the row stays, so a redelivery is a duplicate.
        logger.warning("Refused e-mail %s from %s: banned (%s).", message_id, parsed.from_address, ban.value)
        InboundMessage.objects.filter(pk=row.pk).update(outcome=InboundOutcome.BANNED)
        return Receipt("banned", message_id)
    if parsed.bounce is not None:
        return _bounce(raw, parsed, row, actor)
    return row


@dataclass(frozen=True)
class _Opening:
    """A message admitted for import, with what it brings: files to store, those too large, observables."""

    raw: bytes
    parsed: ParsedMessage
    row: InboundMessage
    files: list[IncomingFile]
    not_stored: list[MailAttachment]
    observables: list[tuple[str, str]]

    @classmethod
    def of(cls, raw: bytes, parsed: ParsedMessage, row: InboundMessage) -> _Opening:
        files, not_stored = _files(raw, parsed.attachments, settings.ATTACHMENT_MAX_BYTES)
        return cls(raw, parsed, row, files, not_stored, message_observables(parsed))


def _finish(
    opening: _Opening,
    actor: Actor,
    ticket: Ticket,
    entry: ThreadEntry | None,
    author: Actor,
    outcome: str,
    follow_up_of: str = "",
) -> Receipt:
    """What follows every message on its ticket: the people copied, a note of what could not be read or
    stored, the message's row completed, and its `email.received` event."""
    parsed, row = opening.parsed, opening.row
    collaborators_from_message(parsed, ticket, author)
    _note_problems(ticket, parsed, opening.not_stored, len(opening.raw) > settings.ATTACHMENT_MAX_BYTES)
    InboundMessage.objects.filter(pk=row.pk).update(
        ticket=ticket, entry=entry, outcome=outcome, html=parsed.html, inline_images=_inline_images(parsed)
    )
    record(
        actor=actor,
        action="email.received",
        target=ticket,
        after={
            "message_id": row.message_id,
            "from": parsed.from_address,
            "outcome": str(outcome),
            "entry": entry.pk if entry is not None else None,
        }
        | ({"automated": parsed.automated} if parsed.automated else {})
        | ({"follow_up_of": follow_up_of} if follow_up_of else {}),
    )
    return Receipt(str(outcome), row.message_id, ticket, entry)


def _ban_sender(refusal: SenderBanRequested, parsed: ParsedMessage, row: InboundMessage) -> Receipt:
    """A ticket filter's "ban sender": the address goes on the ban list and the message is refused like a
    banned sender's (nothing but its row is kept; no bounce to a spammer)."""
    address = (refusal.address or parsed.from_address).lower()
    if address and ban_for(address) is None:
        ban_add(actor=FILTERS_ACTOR, entry=address, note=f"Ticket filter {refusal.filter_name!r}")
    logger.warning(
        "Refused e-mail %s from %s: the filter %r banned the sender.",
        row.message_id,
        address,
        refusal.filter_name,
    )
    InboundMessage.objects.filter(pk=row.pk).update(outcome=InboundOutcome.BANNED)
    return Receipt("banned", row.message_id)


def _inline_images(parsed: ParsedMessage) -> dict[str, str]:
    """Content-ID -> SHA-256 of the inline parts the HTML may draw: those stored (not over the limit)."""
    if not parsed.html:
        return {}
    limit = settings.ATTACHMENT_MAX_BYTES
    return {
        a.content_id: a.sha256
        for a in parsed.attachments
        if a.inline and a.content_id and a.content is not None and len(a.content) <= limit
    }


def _duplicate(message_id: str) -> Receipt:
    """A message imported before: nothing is written; the ticket it went to, if any, is named."""
    first = InboundMessage.objects.select_related("ticket").filter(message_id=message_id).first()
    return Receipt("duplicate", message_id, first.ticket if first is not None else None)


class _AlreadyClaimed(Exception):
    """Another delivery of the message holds its row: this one is a duplicate."""


def _claim(parsed: ParsedMessage, message_id: str, channel: str) -> InboundMessage:
    """The message's row, written first: a second delivery of it waits here and then finds it taken.

    Raises _AlreadyClaimed, which undoes the message's own savepoint (`_receive`), the one the failed
    insert aborted on PostgreSQL; nothing was written before it, so no savepoint of its own is needed.
    """
    try:
        return InboundMessage.objects.create(
            message_id=message_id,
            from_address=parsed.from_address[:254],
            subject=parsed.subject[:255],
            automated=parsed.automated[:300],
            channel=channel[:100],
            received_at=timezone.now(),
        )
    except IntegrityError as exc:
        raise _AlreadyClaimed from exc


def _files(
    raw: bytes, attachments: tuple[MailAttachment, ...], limit: int
) -> tuple[list[IncomingFile], list[MailAttachment]]:
    """The files to store (the raw message last) and the attachments too large to store."""
    files, not_stored = [], []
    for attachment in attachments:
        if attachment.content is None or len(attachment.content) > limit:
            not_stored.append(attachment)
        else:
            files.append(IncomingFile(attachment.filename or "attachment", attachment.content))
    if len(raw) <= limit:
        files.append(IncomingFile(RAW_NAME, raw))
    return files, not_stored


def _agent_for(address: str) -> Agent | None:
    if not address:
        return None
    return (
        Agent.objects.select_related("user").filter(user__email__iexact=address, user__is_active=True).first()
    )


def _ticket_by_ids(ids: list[str]) -> Ticket | None:
    """The ticket of the first id (in the given order) that SOCdesk sent or imported."""
    ids = [i for i in dict.fromkeys(ids) if i][:MAX_THREAD_IDS]
    if not ids:
        return None
    # Outgoing ids are stored as the header carries them (with <>); the reader gives them without.
    sent = dict(
        OutboundMessage.objects.filter(message_id__in=[f"<{i}>" for i in ids]).values_list(
            "message_id", "ticket_id"
        )
    )
    received = dict(
        InboundMessage.objects.filter(message_id__in=ids, ticket__isnull=False).values_list(
            "message_id", "ticket_id"
        )
    )
    for i in ids:
        ticket_id = sent.get(f"<{i}>") or received.get(i)
        if ticket_id is not None:
            return Ticket.objects.select_related("requester", "department").get(pk=ticket_id)
    return None


def _thread_target(parsed: ParsedMessage) -> tuple[Ticket | None, Agent | None]:
    """The ticket the message belongs to (None: a new one), and the agent who sent it if one may reply.
    A ticket merged into another hands its mail to the survivor (along a chain of merges; an undone
    merge no longer counts), and the sender is checked against the survivor."""
    # The sender's agent is looked up only once the message names a ticket: most mail opens a new one.
    ticket = _ticket_by_ids([*parsed.in_reply_to, *reversed(parsed.references)])
    if ticket is not None:
        ticket = ticket_merge_survivor(ticket)
        agent = _agent_for(parsed.from_address)
    else:
        token = SUBJECT_TOKEN.search(parsed.subject)
        if token is None:
            return None, None
        named = (
            Ticket.objects.select_related("requester", "department").filter(number=token[1].upper()).first()
        )
        if named is None:
            return None, None
        agent = _agent_for(parsed.from_address)
        found = ticket_merge_survivor(named)
        is_requester = found.requester is not None and found.requester.email == parsed.from_address
        # A number is easy to guess: only its requester, someone copied on it or an agent who works it
        # may post by the token.
        may_post = (
            is_requester
            or (agent is not None and agent_can(agent, Perm.REPLY, found))
            or (bool(parsed.from_address) and collaborator_of(found, parsed.from_address))
        )
        if not may_post:
            return None, None
        ticket = found
    if agent is not None and not agent_can(agent, Perm.REPLY, ticket):
        agent = None
    return ticket, agent


def _reply_body(parsed: ParsedMessage) -> str:
    return parsed.reply_text.strip() or parsed.text


def _open_many(
    openings: list[_Opening],
    actor: Actor,
    department: Department | None,
    help_topic: int | None,
    origin: str,
) -> list[Receipt]:
    """Each message's new ticket, opened together by one `ticket_create_many` in a savepoint (a refusal
    undoes the tickets, not the messages' rows), then each message finished on its ticket."""
    if not openings:
        return []
    drafts = [_draft(o, actor, department, help_topic, origin) for o in openings]
    firsts: list[ThreadEntry | None] = []
    with transaction.atomic():
        tickets = ticket_create_many(drafts, first_entries=firsts)
    return [
        _finish(
            opening,
            actor,
            ticket,
            # A ticket opened without a message of its own: its first entry any hook wrote.
            first if first is not None else ticket.entries.order_by("id").first(),
            _sender(opening.parsed, actor, known=ticket.requester),
            InboundOutcome.CREATED,
        )
        for opening, ticket, first in zip(openings, tickets, firsts, strict=True)
    ]


def _draft(
    opening: _Opening, actor: Actor, department: Department | None, help_topic: int | None, origin: str
) -> TicketDraft:
    parsed = opening.parsed
    extra: dict[str, object] = {"message-id": f"<{parsed.message_id}>"}
    if parsed.problems:
        extra["parse_incomplete"] = True
    return TicketDraft(
        # The channel opens it, but the first entry is the requester's message even through an agent's
        # personal token: the mail is theirs.
        actor=replace(actor, agent=None),
        subject=parsed.subject or "(no subject)",
        department=department or api_department(None),
        body=parsed.text,
        requester_email=parsed.from_address,
        requester_name=parsed.from_name,
        source=Source.EMAIL,
        extra=extra,
        attachments=opening.files,
        observables=opening.observables,
        help_topic=help_topic,
        origin=origin,
        # Automatic mail gets no auto-response (socdesk.mail.autoresponse reads this).
        hints={HINT_AUTOMATED: parsed.automated} if parsed.automated else {},
    )


def _sender(parsed: ParsedMessage, channel_actor: Actor, known: Contact | None = None) -> Actor:
    """Who wrote a message that is not an agent's: its sender's contact (created on first sight; the
    requester's, a collaborator's or anybody's), else the channel. `known`: a contact already at hand
    (the new ticket's requester), used when it is the sender's."""
    if not parsed.from_address:
        return replace(channel_actor, agent=None)
    if known is not None and known.email == parsed.from_address.lower():
        contact = known
    else:
        contact = contact_get_or_create(actor=channel_actor, email=parsed.from_address, name=parsed.from_name)
    return Actor(kind="user", label=str(contact), ident=str(contact.pk), obj=contact, ip=channel_actor.ip)


def _is_requester(parsed: ParsedMessage, ticket: Ticket) -> bool:
    return ticket.requester is not None and ticket.requester.email == parsed.from_address


def closed_reply_policy(department: Department) -> str:
    """What mail to a closed ticket of the department does: `reopen` or `new` (the department's setting,
    else SOCDESK_MAIL_CLOSED_REPLY). Read from the database: the caller's object may predate a change."""
    chosen = Department.objects.filter(pk=department.pk).values_list("closed_reply", flat=True).first()
    return chosen or settings.SOCDESK_MAIL_CLOSED_REPLY


def _requester_message(
    parsed: ParsedMessage,
    ticket: Ticket,
    files: list[IncomingFile],
    observables: list[tuple[str, str]],
    author: Actor,
) -> tuple[ThreadEntry, bool]:
    """The requester's (or a collaborator's) message on the ticket, reopening it first when it is
    resolved or closed; and whether it reopened it."""
    reopened = ticket.status in (Status.RESOLVED, Status.CLOSED)
    if reopened:
        requester = not parsed.from_address or _is_requester(parsed, ticket)
        ticket = ticket_change_status(
            actor=author,
            ticket=ticket,
            status=Status.IN_PROGRESS,
            # Anyone else is a collaborator or someone answering SOCdesk's mail: named by address.
            comment=f"{'the requester' if requester else parsed.from_address} wrote back by e-mail",
        )
    entry = ticket_add_message(
        actor=author, ticket=ticket, body=_reply_body(parsed), attachments=files, observables=observables
    )
    return entry, reopened


def _follow_up(
    parsed: ParsedMessage,
    closed: Ticket,
    files: list[IncomingFile],
    observables: list[tuple[str, str]],
    channel_actor: Actor,
    author: Actor,
    origin: str,
) -> tuple[Ticket, ThreadEntry | None]:
    """A new ticket for mail to a closed one (its department says `new`): in the closed ticket's
    department, with its requester and collaborators, linked to it as related, the closed one left as it
    was. The requester's mail is its first message; a collaborator's is a message from them."""
    requester = closed.requester
    from_requester = requester is None or _is_requester(parsed, closed)
    # The closed ticket's token would send replies by subject back to it: the new ticket has its own.
    subject = " ".join(SUBJECT_TOKEN.sub(" ", parsed.subject).split())
    if not REPLY_PREFIXES.sub("", subject):
        subject = f"Re: {closed.subject}"
    body = _reply_body(parsed)
    draft = TicketDraft(
        actor=replace(channel_actor, agent=None),
        subject=subject,
        department=closed.department,
        body=body if from_requester else "",
        requester_email=requester.email if requester is not None else parsed.from_address,
        requester_name=requester.name if requester is not None else parsed.from_name,
        source=Source.EMAIL,
        extra={"message-id": f"<{parsed.message_id}>", "follow_up_of": closed.number},
        attachments=files if from_requester else None,
        observables=observables if from_requester else (),
        origin=origin,
        hints={HINT_AUTOMATED: parsed.automated} if parsed.automated else {},
    )
    firsts: list[ThreadEntry | None] = []
    [ticket] = ticket_create_many([draft], first_entries=firsts)
    entry = firsts[0] if firsts[0] is not None else ticket.entries.order_by("id").first()
    if not from_requester:
        entry = ticket_add_message(
            actor=author, ticket=ticket, body=body, attachments=files, observables=observables
        )
    for collaborator in ticket_collaborators(closed):
        try:
            contact = collaborator.contact
            collaborator_add(actor=MAIL_ACTOR, ticket=ticket, email=contact.email, name=contact.name)
        except ServiceError:
            continue  # since become an agent, or the new ticket's requester: they follow it another way
    ticket_link(actor=MAIL_ACTOR, ticket=ticket, other=closed, kind="related")
    record(
        actor=author,
        action="email.follow_up_opened",
        target=closed,
        after={"ticket": ticket.number, "message_id": parsed.message_id, "from": parsed.from_address},
    )
    return ticket, entry


def _note_problems(
    ticket: Ticket, parsed: ParsedMessage, not_stored: list[MailAttachment], raw_too_big: bool
) -> None:
    """One internal note saying what of the message could not be read or stored, if anything."""
    limit = settings.ATTACHMENT_MAX_BYTES
    lines = []
    if parsed.problems:
        lines.append(
            "This e-mail could not be fully read: "
            + " ".join(parsed.problems)
            + (f" The original message is attached as {RAW_NAME}." if not raw_too_big else "")
        )
    for attachment in not_stored:
        lines.append(
            f"The attachment {attachment.filename or '(no name)'!r} ({attachment.size:,} bytes, SHA-256 "
            f"{attachment.sha256}) was not stored: it is over the {limit:,} byte limit."
        )
    if raw_too_big:
        lines.append(
            f"The original message ({parsed.raw_size:,} bytes) is over the {limit:,} byte limit and was "
            "not stored."
        )
    if lines:
        ticket_note(actor=MAIL_ACTOR, ticket=ticket, body="\n\n".join(lines))


def _bounce(raw: bytes, parsed: ParsedMessage, row: InboundMessage, actor: Actor) -> Receipt:
    """A delivery failure is never a ticket: a note on the ticket of the returned message, else dropped."""
    bounce = parsed.bounce
    assert bounce is not None
    ticket = _ticket_by_ids([bounce.original_message_id])
    if ticket is None:
        logger.warning(
            "Dropped a bounce (%s) returning %r, a message SOCdesk does not know.",
            row.message_id,
            bounce.original_message_id,
        )
        InboundMessage.objects.filter(pk=row.pk).update(outcome=InboundOutcome.BOUNCE_DROPPED)
        return Receipt("bounce_dropped", row.message_id)
    detail = ", ".join(part for part in (bounce.status, bounce.action) if part)
    body = f"E-mail to {bounce.recipient or 'the requester'} bounced" + (f" ({detail})" if detail else "")
    body += f": {bounce.diagnostic}" if bounce.diagnostic else "."
    files = [IncomingFile(RAW_NAME, raw)] if len(raw) <= settings.ATTACHMENT_MAX_BYTES else []
    entry = ticket_note(actor=MAIL_ACTOR, ticket=ticket, body=body, attachments=files)
    InboundMessage.objects.filter(pk=row.pk).update(
        ticket=ticket, entry=entry, outcome=InboundOutcome.BOUNCE_NOTED
    )
    record(
        actor=actor,
        action="email.received",
        target=ticket,
        after={
            "message_id": row.message_id,
            "from": parsed.from_address,
            "outcome": "bounce_noted",
            "entry": entry.pk,
        },
    )
    return Receipt("bounce_noted", row.message_id, ticket, entry)


def describe_follow_up(event: AuditEvent) -> str:
    """The closed ticket's history's words for `email.follow_up_opened`."""
    after = event.after or {}
    return f"wrote back by e-mail to the closed ticket: opened {after.get('ticket', 'a new ticket')} for it"


def describe_received(event: AuditEvent) -> str:
    """The ticket history's words for `email.received`."""
    after = event.after or {}
    sender = after.get("from") or "an unknown sender"
    if after.get("outcome") == "bounce_noted":
        return "received a bounce of the ticket's e-mail"
    automatic = " (automatic mail)" if after.get("automated") else ""
    follow_up = f" (a reply to the closed {after['follow_up_of']})" if after.get("follow_up_of") else ""
    return f"received the e-mail from {sender}{automatic}{follow_up}"
