"""A long IMAP fetch imports its chunks in several processes (socdesk.mail.fetching): every message once,
the after-import action only after the commit, and an import process that dies loses nothing."""

from __future__ import annotations

import multiprocessing
import os
import signal

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.audit.services import seal_pending
from socdesk.audit.verify import verify_chain
from socdesk.core.actor import Actor
from socdesk.mail.fetching import CHUNK, POOL_FROM_CHUNKS, mailbox_fetch
from socdesk.mail.mailboxes import MailboxDefinition, mailbox_create
from socdesk.mail.models import InboundMessage, Mailbox
from socdesk.tickets.models import Ticket
from tests.mail import corpus

# Committed by each import process: only a database the other processes can see will do.
pytestmark = pytest.mark.django_db(transaction=True)

SEEN = (b"\\Seen",)
COUNT = POOL_FROM_CHUNKS * CHUNK + 15  # enough chunks for the import processes to start


def messages(count: int) -> list[bytes]:
    return [
        corpus.plain(
            f"Message {n}: a login from 198.51.100.{n % 250} to hxxps://portal-{n}.example[.]com.\n",
            subject=f"Alert {n}",
            Message_ID=f"<parallel-{n}@example.test>",
        )
        for n in range(count)
    ]


def make_mailbox(people, dovecot, user, **changes) -> Mailbox:
    values = dict(
        name="soc-inbox",
        address="help@soc.example.test",
        host=dovecot.host,
        port=dovecot.port,
        security="none",
        username=user[0],
        password=user[1],
        department=people.soc,
    )
    return mailbox_create(actor=Actor.system("test"), definition=MailboxDefinition(**(values | changes)))


def test_a_long_fetch_imports_in_several_processes_each_message_once(people, dovecot, imap_user):
    mailbox = make_mailbox(people, dovecot, imap_user, max_messages=30)
    dovecot.append(imap_user, messages(COUNT))
    helpers: list[int] = []

    def progress(done: int, found: int) -> None:
        helpers.append(len(multiprocessing.active_children()))

    summary = mailbox_fetch(mailbox, drain=True, processes=2, progress=progress)
    assert (summary.created, summary.duplicate, summary.failed, summary.error) == (COUNT, 0, 0, "")
    assert max(helpers) == 2  # the chunks were imported by two other processes
    assert Ticket.objects.count() == COUNT
    assert InboundMessage.objects.values("message_id").distinct().count() == COUNT
    assert set(dovecot.flags(imap_user)) == {SEEN} and len(dovecot.flags(imap_user)) == COUNT
    assert AuditEvent.objects.filter(action="email.received").count() == COUNT
    seal_pending()
    result = verify_chain()
    assert result.broken_event_id is None and result.checked >= COUNT
    mailbox.refresh_from_db()
    assert mailbox.fetching_since is None and mailbox.last_count == COUNT
    assert multiprocessing.active_children() == []  # the processes end with the fetch


def test_an_import_process_that_dies_loses_nothing_and_the_next_fetch_imports_the_rest(
    people, dovecot, imap_user
):
    mailbox = make_mailbox(people, dovecot, imap_user, max_messages=200)
    dovecot.append(imap_user, messages(COUNT))
    killed: list[int] = []

    def kill_one(done: int, found: int) -> None:
        if not killed:
            victim = multiprocessing.active_children()[0]
            killed.append(victim.pid)
            os.kill(victim.pid, signal.SIGKILL)

    summary = mailbox_fetch(mailbox, drain=True, processes=2, progress=kill_one)
    assert killed and "An import process stopped" in summary.error
    assert "stay on the server" in summary.error
    # Whatever the server forgot was committed; the rest is still there, untouched.
    left = sum(1 for flags in dovecot.flags(imap_user) if flags != SEEN)
    assert 0 < left < COUNT and Ticket.objects.count() >= COUNT - left

    again = mailbox_fetch(mailbox, drain=True, processes=1)
    assert again.error == "" and again.created + again.duplicate == left
    assert Ticket.objects.count() == COUNT
    assert InboundMessage.objects.values("message_id").distinct().count() == COUNT
    assert set(dovecot.flags(imap_user)) == {SEEN}


def test_inside_a_transaction_the_fetch_imports_in_its_own_process(people, dovecot, imap_user):
    from django.db import transaction

    mailbox = make_mailbox(people, dovecot, imap_user, max_messages=200)
    dovecot.append(imap_user, messages(COUNT))
    helpers: list[int] = []
    with transaction.atomic():
        summary = mailbox_fetch(
            mailbox,
            drain=True,
            processes=2,
            progress=lambda done, found: helpers.append(len(multiprocessing.active_children())),
        )
    assert summary.created == COUNT and set(helpers) == {0}


def test_a_drained_fetch_reads_ahead_across_max_messages_and_still_acts_only_after_commit(
    people, dovecot, imap_user, monkeypatch
):
    from imapclient import IMAPClient

    # Each `max_messages` is one chunk: the fetch must not wait for one to settle before reading the next.
    mailbox = make_mailbox(
        people, dovecot, imap_user, max_messages=CHUNK, after_import="move", move_to="Imported"
    )
    dovecot.append(imap_user, messages(COUNT))
    events: list[str] = []
    real_fetch, real_move = IMAPClient.fetch, IMAPClient.move
    monkeypatch.setattr(
        IMAPClient, "fetch", lambda self, *a, **k: (events.append("fetch"), real_fetch(self, *a, **k))[1]
    )

    def move(self, uids, folder):
        # Acted on only what has committed: each message moved is stored by then.
        ids = {
            m[b"ENVELOPE"].message_id.decode().strip("<>")
            for m in real_fetch(self, uids, [b"ENVELOPE"]).values()
        }
        assert InboundMessage.objects.filter(message_id__in=ids).count() == len(ids)
        events.append("move")
        return real_move(self, uids, folder)

    monkeypatch.setattr(IMAPClient, "move", move)
    summary = mailbox_fetch(mailbox, drain=True, processes=2)
    assert (summary.created, summary.failed, summary.error) == (COUNT, 0, "")
    # Three chunks read (two importing, one waiting) before the first chunk's commit is acted on.
    assert events.index("move") >= 3
    assert InboundMessage.objects.count() == COUNT == Ticket.objects.count()
