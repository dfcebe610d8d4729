"""Fetching mailboxes from a real Dovecot: messages delivered by IMAP APPEND become tickets, the after-import
action is applied only once the import committed, a refetch imports nothing twice, and every failure (the
server, the login, the database) leaves the mail on the server and a sentence on the mailbox."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.mail import fetching, inbound
from socdesk.mail.fetching import LEASE, mailbox_claim, mailbox_fetch, mailbox_test
from socdesk.mail.mailboxes import MailboxDefinition, mailbox_create, mailbox_definition, mailbox_update
from socdesk.mail.models import InboundMessage, Mailbox
from socdesk.tickets.models import Ticket
from tests.mail import corpus

SEEN = (b"\\Seen",)


def message(n: int, subject: str = "", **headers: str) -> bytes:
    return corpus.plain(
        f"Message {n}: a suspicious login from 198.51.100.{n % 250}.\n",
        subject=subject or f"Alert {n}",
        Message_ID=f"<fetch-{n}@example.test>",
        **headers,
    )


@pytest.fixture
def make_mailbox(people, dovecot, imap_user):
    def make(**changes) -> Mailbox:
        values = dict(
            name="soc-inbox",
            address="help@soc.example.test",
            host=dovecot.host,
            port=dovecot.port,
            security="none",
            username=imap_user[0],
            password=imap_user[1],
            department=people.soc,
        )
        return mailbox_create(actor=Actor.system("test"), definition=MailboxDefinition(**(values | changes)))

    return make


def fetch(*args: str) -> str:
    out = io.StringIO()
    call_command("mail", "fetch", *args, stdout=out)
    return out.getvalue()


def test_appended_mail_becomes_tickets_and_is_marked_read_after_import(make_mailbox, dovecot, imap_user):
    mailbox = make_mailbox()
    dovecot.append(imap_user, [message(1), message(2)])
    assert mailbox_test(mailbox) == "OK: 2 messages in INBOX, 2 unseen."

    out = fetch("soc-inbox")
    assert "soc-inbox: 2 created, 0 added, 0 duplicate, 0 bounces, 0 rejected, 0 failed" in out
    tickets = Ticket.objects.order_by("id")
    assert [t.subject for t in tickets] == ["Alert 1", "Alert 2"]
    assert {t.department for t in tickets} == {mailbox.department}
    assert set(InboundMessage.objects.values_list("channel", flat=True)) == {"mailbox:soc-inbox"}
    received = AuditEvent.objects.filter(action="email.received")
    assert {e.actor_label for e in received} == {"mail:soc-inbox"}
    assert dovecot.flags(imap_user) == [SEEN, SEEN]
    mailbox.refresh_from_db()
    assert (mailbox.last_count, mailbox.last_error, mailbox.fetching_since) == (2, "", None)
    assert mailbox.last_fetch_at is not None

    # Nothing unread is left: the next fetch finds nothing.
    assert "0 created" in fetch("soc-inbox") and Ticket.objects.count() == 2


def test_move_takes_imported_mail_to_its_folder_and_delete_removes_it(make_mailbox, dovecot, imap_user):
    mailbox = make_mailbox(after_import="move", move_to="Imported")
    dovecot.append(imap_user, [message(1), message(2)])
    assert "will be created" in mailbox_test(mailbox)
    summary = mailbox_fetch(mailbox)
    assert (summary.created, summary.error) == (2, "")
    assert dovecot.flags(imap_user) == [] and len(dovecot.flags(imap_user, "Imported")) == 2

    mailbox_update(
        actor=Actor.system("test"),
        mailbox=mailbox,
        definition=mailbox_definition(mailbox, after_import="delete"),
    )
    mailbox.refresh_from_db()
    dovecot.append(imap_user, [message(3)])
    assert mailbox_fetch(mailbox).created == 1
    assert dovecot.flags(imap_user) == [] and len(dovecot.flags(imap_user, "Imported")) == 2


def test_with_move_mail_already_read_in_a_mail_client_is_still_fetched(make_mailbox, dovecot, imap_user):
    mailbox = make_mailbox(after_import="move", move_to="Done")
    dovecot.append(imap_user, [message(1)])
    client = dovecot.client(imap_user)
    client.select_folder("INBOX")
    client.add_flags(client.search(["ALL"]), [b"\\Seen"])
    client.logout()
    assert mailbox_fetch(mailbox).created == 1 and dovecot.flags(imap_user) == []


def test_a_refetch_imports_nothing_twice(make_mailbox, dovecot, imap_user):
    mailbox = make_mailbox()
    dovecot.append(imap_user, [message(1)])
    mailbox_fetch(mailbox)
    # Someone marks it unread again: it is fetched again, recognised, and marked read again.
    client = dovecot.client(imap_user)
    client.select_folder("INBOX")
    client.remove_flags(client.search(["ALL"]), [b"\\Seen"])
    client.logout()
    summary = mailbox_fetch(mailbox)
    assert (summary.created, summary.duplicate) == (0, 1)
    assert Ticket.objects.count() == 1 and dovecot.flags(imap_user) == [SEEN]


class Crash(BaseException):
    """Stands for the process dying (a kill, a power cut): nothing in the fetch may catch it."""


def test_a_fetch_stopped_between_the_commit_and_the_action_is_completed_by_the_next(
    make_mailbox, dovecot, imap_user
):
    mailbox = make_mailbox(after_import="move", move_to="Imported")
    dovecot.append(imap_user, [message(1), message(2)])

    def crash(receipt):
        raise Crash

    with pytest.raises(Crash):
        mailbox_fetch(mailbox, on_imported=crash)
    # The chunk's messages are imported (one commit), but the server still has both, untouched.
    assert Ticket.objects.count() == 2
    assert dovecot.flags(imap_user) == [(), ()] and dovecot.flags(imap_user, "Imported") == []

    summary = mailbox_fetch(mailbox)
    assert (summary.created, summary.duplicate, summary.error) == (0, 2, "")
    assert Ticket.objects.count() == 2
    assert dovecot.flags(imap_user) == [] and len(dovecot.flags(imap_user, "Imported")) == 2


def test_with_the_database_down_the_cycle_stops_and_the_mail_stays_on_the_server(
    make_mailbox, dovecot, imap_user, monkeypatch
):
    mailbox = make_mailbox()
    dovecot.append(imap_user, [message(1), message(2)])

    real = inbound._receive

    def database_down_after_the_first(raw, *args):
        if b"fetch-1@" in raw:
            return real(raw, *args)
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(inbound, "_receive", database_down_after_the_first)
    with pytest.raises(CommandError, match="ended with an error"):
        fetch("soc-inbox")
    # The chunk's one commit never happened: the first message is undone with the second, and both stay
    # on the server as they were.
    assert dovecot.flags(imap_user) == [(), ()] and Ticket.objects.count() == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("The database could not be reached (could not connect to server")
    assert "stay on the server" in mailbox.last_error and mailbox.fetching_since is None

    monkeypatch.undo()
    assert mailbox_fetch(mailbox).created == 2 and dovecot.flags(imap_user) == [SEEN, SEEN]
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_a_message_that_fails_stays_on_the_server_and_the_others_are_imported(
    make_mailbox, dovecot, imap_user, monkeypatch
):
    mailbox = make_mailbox()
    dovecot.append(imap_user, [message(1), message(2, subject="Breaks")])
    real = inbound._receive

    def faulty(raw, *args):
        if b"Breaks" in raw:
            raise RuntimeError("a fault")
        return real(raw, *args)

    monkeypatch.setattr(inbound, "_receive", faulty)
    summary = mailbox_fetch(mailbox)
    assert (summary.created, summary.failed) == (1, 1)
    assert dovecot.flags(imap_user) == [SEEN, ()]
    mailbox.refresh_from_db()
    assert "<fetch-2@example.test>" in mailbox.last_error and "RuntimeError: a fault" in mailbox.last_error
    # The command exits 1 for a failed message, naming it.
    with pytest.raises(CommandError, match="failed message"):
        fetch("soc-inbox")


def test_mail_a_ticket_filter_refuses_is_not_fetched_forever(make_mailbox, dovecot, imap_user):
    from tests.routing.test_apply import make_filter

    mailbox = make_mailbox()
    make_filter("No newsletters", [("subject", "contains", "newsletter")], ["reject"])
    dovecot.append(imap_user, [message(1, subject="Weekly newsletter"), message(2)])
    summary = mailbox_fetch(mailbox)
    assert (summary.created, summary.rejected) == (1, 1)
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["Alert 2"]
    assert dovecot.flags(imap_user) == [SEEN, SEEN]
    assert summary.error == ""  # the fetch itself went well
    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("A ticket filter refused <fetch-1@example.test>")
    assert mailbox_fetch(mailbox).rejected == 0
    # Refused by the filter's decision: the command says so and exits 0.
    dovecot.append(imap_user, [message(3, subject="Monthly newsletter")])
    out = fetch("soc-inbox")
    assert "1 rejected" in out and "  A ticket filter refused <fetch-3@example.test>" in out


def test_a_wrong_password_is_a_sentence_on_the_mailbox_and_the_command_fails(
    make_mailbox, dovecot, imap_user
):
    mailbox = make_mailbox(password="wrong")
    dovecot.append(imap_user, [message(1)])
    expected = f"Could not log in to {dovecot.host}:{dovecot.port} as {imap_user[0]}: the server said"
    with pytest.raises(ServiceError, match=expected):
        mailbox_test(mailbox)
    with pytest.raises(CommandError):
        fetch("soc-inbox")
    mailbox.refresh_from_db()
    assert (
        mailbox.last_error.startswith(expected) and "Check the user name and password" in mailbox.last_error
    )
    assert dovecot.flags(imap_user) == [()] and not Ticket.objects.exists()
    with pytest.raises(CommandError, match="Could not log in"):
        call_command("mailbox", "test", "soc-inbox", stdout=io.StringIO())


def test_a_server_that_does_not_answer_and_a_missing_folder_are_sentences(make_mailbox, dovecot):
    from tests.core.processes import free_port

    closed = make_mailbox(port=free_port())
    with pytest.raises(
        ServiceError, match=r"Could not connect to the imap server .*: the connection was refused"
    ):
        mailbox_test(closed)
    missing = make_mailbox(name="missing", folder="Nope")
    with pytest.raises(ServiceError, match="Could not open the folder 'Nope'"):
        mailbox_test(missing)
    assert "Could not open the folder 'Nope'" in mailbox_fetch(missing).error


def test_the_command_drains_a_big_mailbox_with_progress_and_once_takes_one_batch(
    make_mailbox, dovecot, imap_user
):
    make_mailbox(max_messages=40)
    dovecot.append(imap_user, [message(n) for n in range(1, 211)])
    out = fetch("soc-inbox", "--once")
    assert "40 created" in out and Ticket.objects.count() == 40
    out = fetch()
    assert "soc-inbox: fetched 100/170 ..." in out and "soc-inbox: fetched 100/170 ..." in out.splitlines()[0]
    assert "170 created" in out and Ticket.objects.count() == 210
    assert set(dovecot.flags(imap_user)) == {SEEN}


def test_two_fetches_never_hold_one_mailbox_and_a_lapsed_claim_is_taken_over(make_mailbox):
    mailbox = make_mailbox()
    now = timezone.now()
    assert mailbox_claim(mailbox, now) == now
    assert mailbox_claim(mailbox, now + timedelta(seconds=5)) is None
    with pytest.raises(ServiceError, match="being fetched by another process"):
        mailbox_fetch(mailbox)
    later = now + LEASE + timedelta(seconds=1)
    assert mailbox_claim(mailbox, later) == later


def test_a_ticket_filter_restricted_to_one_mailbox_applies_to_its_mail_only(make_mailbox, dovecot, imap_user):
    from tests.routing.test_apply import make_filter

    soc = make_mailbox()
    other_user = dovecot.user()
    other = make_mailbox(
        name="other", address="other@soc.example.test", username=other_user[0], password=other_user[1]
    )
    make_filter(
        "SOC inbox is critical",
        [("subject", "contains", "Alert")],
        [("set_severity", "critical")],
        channel="email",
        channel_id=soc.pk,
    )
    dovecot.append(imap_user, [message(1)])
    dovecot.append(other_user, [message(2)])
    mailbox_fetch(soc)
    mailbox_fetch(other)
    assert dict(Ticket.objects.values_list("subject", "severity")) == {
        "Alert 1": "critical",
        "Alert 2": "medium",
    }


def test_an_empty_message_is_refused_once_and_no_department_keeps_the_mail_waiting(
    make_mailbox, dovecot, imap_user
):
    from socdesk.accounts.models import Department

    mailbox = make_mailbox(department=None)
    dovecot.append(imap_user, [b"\r\n", message(1)])
    summary = mailbox_fetch(mailbox)
    assert (summary.rejected, summary.created) == (1, 1) and dovecot.flags(imap_user) == [SEEN, SEEN]
    assert summary.error == "" and "was refused: The message is empty" in summary.problems[0]

    # Without any department, new tickets have nowhere to go: the fetch stops and the mail waits.
    Ticket.objects.all().delete()
    Mailbox.objects.filter(pk=mailbox.pk).update(department=None)
    Department.objects.all().delete()
    dovecot.append(imap_user, [message(2)])
    summary = mailbox_fetch(mailbox)
    assert summary.created == 0 and "stay on the server" in summary.error
    assert dovecot.flags(imap_user) == [SEEN, SEEN, ()]


def test_an_unreadable_password_file_is_a_sentence_on_the_mailbox(make_mailbox, dovecot, imap_user, tmp_path):
    secret = tmp_path / "imap-password"
    secret.write_text(imap_user[1])
    mailbox = make_mailbox(password_file=str(secret))
    dovecot.append(imap_user, [message(1)])
    assert mailbox_test(mailbox) == "OK: 1 message in INBOX, 1 unseen."
    secret.unlink()
    summary = mailbox_fetch(mailbox)
    assert summary.error.startswith(f"The password file {secret} of mailbox soc-inbox cannot be read")
    mailbox.refresh_from_db()
    assert mailbox.last_error == summary.error and mailbox.fetching_since is None
    assert dovecot.flags(imap_user) == [()]


def test_a_long_fetch_renews_its_claim_after_each_chunk(make_mailbox, dovecot, imap_user):
    mailbox = make_mailbox()
    dovecot.append(imap_user, [message(n) for n in range(1, fetching.CHUNK + 3)])
    seen = []
    mailbox_fetch(mailbox, on_imported=lambda r: seen.append(Mailbox.objects.get().fetching_since))
    assert len(set(seen[: fetching.CHUNK])) == 1  # the first chunk under the first claim
    assert seen[fetching.CHUNK] > seen[0]  # renewed before the second
    assert Mailbox.objects.get().fetching_since is None
