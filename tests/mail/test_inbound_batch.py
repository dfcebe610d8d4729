"""Several messages imported with one commit (socdesk.mail.inbound.mail_receive_many), each as
`mail_receive` imports it: a refused or faulty one is undone alone, a database failure undoes the batch."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError, connection, transaction

from socdesk.accounts.models import Contact
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.mail import inbound
from socdesk.mail.inbound import Receipt, mail_receive_many
from socdesk.mail.models import InboundMessage
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket
from tests.mail import corpus

PIPE = Actor.system("mail:pipe")


def message(n: int, subject: str = "") -> bytes:
    return corpus.plain(
        f"Phish {n} from 203.0.113.{n}.\n",
        subject=subject or f"Phish {n}",
        From=f"Reporter {n} <reporter{n}@example.org>",
        Message_ID=f"<batch-{n}@example.org>",
    )


def counts() -> tuple[int, ...]:
    return (
        Ticket.objects.count(),
        ThreadEntry.objects.count(),
        Attachment.objects.count(),
        Contact.objects.count(),
        InboundMessage.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_one_commit_and_each_message_is_imported_as_alone(people, monkeypatch):
    commits: list[int] = []
    real_commit = connection.commit
    monkeypatch.setattr(connection, "commit", lambda: (commits.append(1), real_commit())[1])

    results = mail_receive_many([message(1), b"  \n", message(2), message(1)], actor=PIPE, channel="pipe")
    assert len(commits) == 1
    first, empty, second, again = results
    assert isinstance(first, Receipt) and first.outcome == "created"
    assert isinstance(second, Receipt) and second.outcome == "created"
    # The same Message-ID later in the batch is a duplicate of the first, as a second delivery is.
    assert isinstance(again, Receipt) and again.outcome == "duplicate" and again.ticket == first.ticket
    assert isinstance(empty, ServiceError) and empty.fields == {"message": "empty"}
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Phish 1", "Phish 2"]
    assert InboundMessage.objects.count() == 2


@pytest.mark.django_db
def test_a_fault_on_one_message_undoes_that_message_only(people, monkeypatch):
    real = inbound.collaborators_from_message

    def breaks_on_the_second(parsed, ticket, author):
        if parsed.subject == "Breaks":
            raise RuntimeError("a fault after its ticket was written")
        return real(parsed, ticket, author)

    monkeypatch.setattr(inbound, "collaborators_from_message", breaks_on_the_second)
    first, broken, third = mail_receive_many(
        [message(1), message(2, subject="Breaks"), message(3)], actor=PIPE, channel="pipe"
    )
    assert first.outcome == "created" and third.outcome == "created"
    assert isinstance(broken, RuntimeError)
    # Its ticket, contact, row and audit events are gone with its savepoint; the others are whole.
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Phish 1", "Phish 3"]
    assert not InboundMessage.objects.filter(message_id="batch-2@example.org").exists()
    assert not Contact.objects.filter(email="reporter2@example.org").exists()
    assert inbound.mail_receive(message(2), actor=PIPE, channel="pipe").outcome == "created"


@pytest.mark.django_db(transaction=True)
def test_a_database_failure_undoes_the_whole_batch(people, monkeypatch):
    before = counts()
    real = inbound.ticket_create_many

    def database_gone_on_the_second(drafts, **kwargs):
        if "Phish 2" in [draft.subject for draft in drafts]:
            raise OperationalError("server closed the connection unexpectedly")
        return real(drafts, **kwargs)

    monkeypatch.setattr(inbound, "ticket_create_many", database_gone_on_the_second)
    with pytest.raises(OperationalError):
        mail_receive_many([message(1), message(2), message(3)], actor=PIPE, channel="pipe")
    assert counts() == before  # nothing half-written: the first message's ticket is undone too


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_with_another_importer_is_retried_a_message_at_a_time(people, monkeypatch):
    real, calls = inbound.ticket_create_many, []

    def deadlocks_once(drafts, **kwargs):
        calls.append([draft.subject for draft in drafts])
        if len(calls) == 1:
            try:
                raise psycopg.errors.DeadlockDetected("deadlock detected")
            except psycopg.errors.DeadlockDetected as cause:
                raise OperationalError("deadlock detected") from cause
        return real(drafts, **kwargs)

    monkeypatch.setattr(inbound, "ticket_create_many", deadlocks_once)
    results = mail_receive_many([message(1), message(2), message(3)], actor=PIPE, channel="pipe")
    assert [r.outcome for r in results] == ["created", "created", "created"]
    assert Ticket.objects.count() == 3 and InboundMessage.objects.count() == 3
    # The batch's new tickets are opened together; after the deadlock, one message at a time.
    assert calls == [["Phish 1", "Phish 2", "Phish 3"], ["Phish 1"], ["Phish 2"], ["Phish 3"]]


@pytest.mark.django_db
def test_a_batch_reads_socdesks_own_addresses_once_and_still_copies_the_right_people(people):
    from django.test.utils import CaptureQueriesContext

    raws = [
        corpus.plain(
            f"Phish {n}.\n",
            subject=f"Phish {n}",
            From=f"reporter{n}@example.org",
            To="SOC Desk <soc@example.com>",
            Cc=f"colleague{n}@example.org",
            Message_ID=f"<own-{n}@example.org>",
        )
        for n in range(4)
    ]
    people.soc.email = "soc@example.com"
    people.soc.save(update_fields=["email"])
    with CaptureQueriesContext(connection) as queries:
        results = mail_receive_many(raws, actor=PIPE, channel="pipe")
    assert [r.outcome for r in results] == ["created"] * 4
    assert sum('FROM "mail_mailbox"' in q["sql"] for q in queries.captured_queries) == 1
    for n, receipt in enumerate(results):
        # SOCdesk's own address is never a collaborator; the colleague copied is.
        copied = [c.contact.email for c in receipt.ticket.collaborators.select_related("contact")]
        assert copied == [f"colleague{n}@example.org"]


def test_a_batch_asks_once_for_known_message_ids_and_bans_and_never_for_agents_of_new_mail(people):
    from django.test.utils import CaptureQueriesContext

    mail_receive_many([message(1)], actor=PIPE, channel="pipe")
    with CaptureQueriesContext(connection) as queries:
        results = mail_receive_many([message(n) for n in range(1, 5)], actor=PIPE, channel="pipe")
    assert [r.outcome for r in results] == ["duplicate", "created", "created", "created"]
    sqls = [q["sql"] for q in queries.captured_queries]
    # One read for the batch's senders; each new ticket's auto-response asks again for its address.
    assert sum('FROM "mail_bannedsender"' in sql for sql in sqls) == 1 + 3
    # The batch's Message-IDs are read at once: no message asks on its own whether it was imported.
    assert not any(' 1 AS "a" FROM "mail_inboundmessage"' in sql for sql in sqls)
    # New tickets: no message names a ticket, so whether the sender is an agent is never asked.
    assert not any('FROM "accounts_agent"' in sql and "reporter" in sql for sql in sqls)


def test_a_batch_refuses_banned_senders_read_beforehand_and_one_a_filter_bans_on_the_way(people):
    from socdesk.mail.bans import ban_add
    from socdesk.mail.models import BannedSender
    from tests.routing.test_apply import make_filter

    ban_add(actor=Actor.system("test-setup"), entry="spam.example.org")
    make_filter("Crypto spam", [("subject", "contains", "bitcoin")], ["ban_sender"])

    def mail(n: int, sender: str, subject: str) -> bytes:
        return corpus.plain(
            "Hello.\n", subject=subject, From=sender, Message_ID=f"<ban-batch-{n}@example.org>"
        )

    before = counts()
    results = mail_receive_many(
        [
            mail(1, "a@spam.example.org", "Hello"),  # its domain was banned before the batch
            mail(2, "miner@example.org", "Free bitcoin"),  # a filter bans the sender
            mail(3, "miner@example.org", "Question"),  # later in the same batch: refused by that ban
            mail(4, "someone@example.org", "Question"),
        ],
        actor=PIPE,
        channel="pipe",
    )
    assert [r.outcome for r in results] == ["banned", "banned", "banned", "created"]
    assert set(BannedSender.objects.values_list("value", flat=True)) == {
        "spam.example.org",
        "miner@example.org",
    }
    assert Ticket.objects.count() == before[0] + 1
    assert InboundMessage.objects.filter(outcome="banned").count() == 3


def test_a_batch_follows_one_routing_configuration_and_one_reading_of_who_watches_new_tickets(people):
    from django.test.utils import CaptureQueriesContext

    from socdesk.notifications.choices import Kind
    from socdesk.notifications.models import Notification
    from socdesk.notifications.services import notification_preferences_set

    notification_preferences_set(actor=Actor.for_agent(people.bob), choices={Kind.NEW_TICKET: (True, False)})
    with CaptureQueriesContext(connection) as queries:
        results = mail_receive_many(
            [message(n) for n in range(1, 4)], actor=PIPE, channel="pipe", department=people.soc
        )
    assert [r.outcome for r in results] == ["created"] * 3
    sqls = [q["sql"] for q in queries.captured_queries]
    assert sum("FROM routing_rulesetversion" in sql for sql in sqls) == 1
    # Who watches new tickets is asked once (each ticket's watchers' own preferences are read with it).
    asking = [sql for sql in sqls if '"notifications_notificationpreference"' in sql and "new_ticket" in sql]
    assert len(asking) == 1
    # The claim of each Message-ID has no savepoint of its own (the message's serves it).
    claims = [i for i, sql in enumerate(sqls) if sql.startswith('INSERT INTO "mail_inboundmessage"')]
    assert len(claims) == 3
    assert not any(sqls[i + 1].startswith("RELEASE SAVEPOINT") for i in claims)
    # The first entry comes from the writer: it is not read back.
    assert not any('FROM "tickets_threadentry"' in sql for sql in sqls)
    for receipt in results:
        assert receipt.entry == receipt.ticket.entries.order_by("id").first()
        assert receipt.entry.kind == "message" and receipt.entry.body.startswith("Phish")
        assert InboundMessage.objects.get(message_id=receipt.message_id).entry == receipt.entry
    told = Notification.objects.filter(recipient=people.bob, kind=Kind.NEW_TICKET)
    assert sorted(told.values_list("ticket_id", flat=True)) == sorted(r.ticket.pk for r in results)


@pytest.mark.django_db(transaction=True)
def test_a_message_claimed_meanwhile_by_another_delivery_is_a_duplicate_and_the_batch_goes_on(people):
    # Known neither before the batch nor to its read of Message-IDs: only the unique row stops it, and
    # the failed insert must not break the rest of the batch (on PostgreSQL it aborts the transaction
    # up to the message's savepoint).
    first = inbound.mail_receive(message(2), actor=PIPE, channel="pipe")
    facts = inbound._BatchFacts(known_ids=set(), bans={})
    parsed = [inbound._read(message(n)) for n in (1, 2, 3)]
    with transaction.atomic():
        results = [
            inbound._receive_or_refusal(message(n), p, PIPE, "pipe", None, None, "", facts)
            for n, p in zip((1, 2, 3), parsed, strict=True)
        ]
    assert [r.outcome for r in results] == ["created", "duplicate", "created"]
    assert results[1].ticket == first.ticket
    assert InboundMessage.objects.count() == 3 and Ticket.objects.count() == 3


def side_by_side_mail(tag: str) -> list[bytes]:
    """New mail, a reply to one of it, mail from someone copied, a repeat, a banned sender."""

    def mail(n: int, sender: str, **headers) -> bytes:
        return corpus.plain(
            f"Message {n} from 203.0.113.{n}.\n",
            subject=headers.pop("subject", f"Report {n}"),
            From=sender,
            To="soc@example.com",
            Message_ID=f"<{tag}-{n}@example.org>",
            **headers,
        )

    return [
        mail(1, f"Ann <ann-{tag}@example.org>", Cc=f"Cid <cid-{tag}@example.org>"),
        mail(2, f"Bo <bo-{tag}@example.org>"),
        mail(3, f"ann-{tag}@example.org", In_Reply_To=f"<{tag}-1@example.org>", subject="Re: Report 1"),
        mail(4, f"Cid Again <cid-{tag}@example.org>"),
        mail(2, f"Bo <bo-{tag}@example.org>"),
        mail(6, f"Spammer <eve@spam-{tag}.example.org>"),
        mail(7, f"Fay <fay-{tag}@example.org>"),
        mail(8, f"Gus <gus-{tag}@example.org>"),
    ]


def stored(results: list, tag: str) -> list:
    """What the import stored, with the run's tag taken out: each outcome with its ticket's requester,
    entries, collaborators, files, and its audit trail."""
    from socdesk.audit.models import AuditEvent

    def untagged(value: object) -> str:
        return str(value).replace(tag, "TAG")

    found = []
    for result in results:
        ticket = result.ticket
        if ticket is None:
            found.append((result.outcome,))
            continue
        entries = [
            (
                e.kind,
                untagged(e.author_label),
                untagged(e.body),
                sorted(a.filename for a in e.attachments.all()),
            )
            for e in ticket.entries.order_by("id")
        ]
        copied = sorted(untagged(c.contact.email) for c in ticket.collaborators.select_related("contact"))
        trail = list(
            AuditEvent.objects.filter(target_type="ticket", target_id=str(ticket.pk))
            .order_by("id")
            .values_list("action", flat=True)
        )
        row = InboundMessage.objects.get(message_id=result.message_id)
        found.append(
            (
                result.outcome,
                untagged(ticket.subject),
                untagged(ticket.requester.email),
                untagged(ticket.requester.name),
                entries,
                copied,
                trail,
                row.entry_id == (result.entry.pk if result.entry else None),
                row.outcome,
            )
        )
    return found


@pytest.mark.django_db(transaction=True)
def test_a_batch_stores_what_importing_its_messages_one_at_a_time_stores(people, monkeypatch):
    from socdesk.mail.bans import ban_add

    for tag in ("alone", "batch"):
        ban_add(actor=Actor.system("test-setup"), entry=f"spam-{tag}.example.org")
    alone = [inbound.mail_receive(raw, actor=PIPE, channel="pipe") for raw in side_by_side_mail("alone")]

    real, opened = inbound.ticket_create_many, []

    def counted(drafts, **kwargs):
        opened.append(len(drafts))
        return real(drafts, **kwargs)

    monkeypatch.setattr(inbound, "ticket_create_many", counted)
    together = mail_receive_many(side_by_side_mail("batch"), actor=PIPE, channel="pipe")
    assert [r.outcome for r in together] == [
        "created", "created", "added", "created", "duplicate", "banned", "created", "created"
    ]  # fmt: skip
    assert stored(together, "batch") == stored(alone, "alone")
    # 1 and 2 together; 3 names 1's ticket; 4 is from someone 1 copied; 5 repeats 2; 6 is refused, 7 and
    # 8 together.
    assert opened == [2, 1, 2]
