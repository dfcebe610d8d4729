"""Mail coming in: `mail_receive` opens tickets, threads replies, notes bounces, keeps the raw message."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command

from socdesk.accounts.models import Contact
from socdesk.alerts.models import TicketObservable
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.mail.inbound import mail_receive
from socdesk.mail.models import InboundMessage, OutboundMessage
from socdesk.tickets import services
from socdesk.tickets.history import describe_event
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket
from tests.mail import corpus

PIPE = Actor.system("mail:pipe")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail_delivers(settings):
    # Outbound mail counts as configured (agents' replies get queued), delivered nowhere.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def receive(raw: bytes, **kwargs):
    return mail_receive(raw, actor=PIPE, channel="pipe", **kwargs)


def counts():
    return (
        Ticket.objects.count(),
        ThreadEntry.objects.count(),
        Attachment.objects.count(),
        Contact.objects.count(),
        InboundMessage.objects.count(),
        AuditEvent.objects.count(),
    )


def agent_reply(people, ticket, body="We blocked the sender."):
    """alice replies on the ticket; its e-mail is queued with a Message-ID the requester answers."""
    entry = services.ticket_reply(actor=Actor.for_agent(people.alice), ticket=ticket, body=body)
    return OutboundMessage.objects.get(entry=entry)


PHISH = (
    "I got this mail asking me to log in at hxxps://login-micros0ft[.]com/reset from 203.0.113.7.\n"
    "Is it real?\n"
)


def test_a_plain_message_opens_a_ticket_with_its_requester_observables_and_raw_message(people):
    raw = corpus.plain(PHISH)
    receipt = receive(raw)
    assert receipt.outcome == "created" and receipt.line() == f"created {receipt.ticket.number}"
    ticket = Ticket.objects.get()
    assert (ticket.source, ticket.subject, ticket.department) == ("email", "Phishing?", people.soc)
    assert ticket.requester.email == "ann.analyst@example.com" and ticket.requester.name == "Ann Analyst"
    assert ticket.extra["message-id"] == "<m1@example.com>"
    entry = ticket.entries.get()
    assert entry.kind == "message" and entry.author_contact == ticket.requester
    assert "login-micros0ft" in entry.body
    original = entry.attachments.get(filename="original.eml")
    assert original.file.read() == raw and original.sha256 == hashlib.sha256(raw).hexdigest()
    linked = set(TicketObservable.objects.filter(ticket=ticket).values_list("observable__value", flat=True))
    assert {"https://login-micros0ft.com/reset", "203.0.113.7"} <= linked
    actions = set(AuditEvent.objects.filter(actor_label="mail:pipe").values_list("action", flat=True))
    assert {"ticket.created", "contact.created", "email.received"} <= actions
    received = AuditEvent.objects.get(action="email.received")
    assert describe_event(received) == "received the e-mail from ann.analyst@example.com"
    row = InboundMessage.objects.get()
    assert (row.message_id, row.ticket, row.entry, row.outcome) == (
        "m1@example.com",
        ticket,
        entry,
        "created",
    )


def test_the_department_argument_chooses_where_a_new_ticket_opens(people):
    ticket = receive(corpus.plain(), department=people.it).ticket
    assert ticket.department == people.it


def test_attachments_are_stored_with_their_sha256(people):
    ticket = receive(corpus.rfc2231_attachment()).ticket
    pdf = Attachment.objects.get(entry__ticket=ticket, filename="Fäktura 2026 €.pdf")
    assert pdf.sha256 == hashlib.sha256(b"%PDF-1.4 invoice").hexdigest()


def test_a_reply_to_an_outgoing_message_lands_on_its_ticket(people, soc_ticket):
    sent = agent_reply(people, soc_ticket)
    raw = corpus.plain(
        "Thanks, rebooting now.\n\nOn Mon, 30 Nov 2026, SOC wrote:\n> We blocked the sender.\n",
        subject="Re: something else entirely",
        sender="Dana Reyes <dana@example.test>",
        Message_ID="<r1@example.test>",
        In_Reply_To=sent.message_id,
        References=sent.message_id,
    )
    receipt = receive(raw)
    assert receipt.outcome == "added" and receipt.ticket == soc_ticket
    assert receipt.line() == f"added to {soc_ticket.number}"
    entry = soc_ticket.entries.order_by("-id").first()
    assert entry.kind == "message" and entry.body == "Thanks, rebooting now."
    assert entry.author_contact.email == "dana@example.test"
    assert entry.attachments.get().filename == "original.eml"  # the whole text is kept there
    assert Ticket.objects.count() == 1


def test_a_reply_to_an_imported_message_lands_on_its_ticket(people):
    first = receive(corpus.plain(PHISH)).ticket
    again = corpus.plain(
        "One more thing.\n",
        subject="Re: Phishing?",
        Message_ID="<m2@example.com>",
        References="<m1@example.com>",
    )
    assert receive(again).ticket == first
    assert Ticket.objects.count() == 1


def test_the_subject_token_from_the_requester_lands_on_the_ticket(people, soc_ticket):
    raw = corpus.plain(
        "Any news?\n", subject=f"Re: hello [#{soc_ticket.number}]", sender="Dana Reyes <DANA@example.test>"
    )
    receipt = receive(raw)
    assert receipt.outcome == "added" and receipt.ticket == soc_ticket


def test_the_subject_token_from_a_stranger_opens_a_new_ticket(people, soc_ticket):
    entries = soc_ticket.entries.count()
    raw = corpus.plain(
        "Let me in.\n", subject=f"Re: [#{soc_ticket.number}] please", sender="eve@evil.example"
    )
    receipt = receive(raw)
    assert receipt.outcome == "created" and receipt.ticket != soc_ticket
    assert soc_ticket.entries.count() == entries


def test_an_agent_without_access_to_the_ticket_cannot_post_by_token(people, soc_ticket):
    raw = corpus.plain("Hi.\n", subject=f"Re: [#{soc_ticket.number}]", sender="carol@example.test")
    assert receive(raw).ticket != soc_ticket


def test_a_duplicate_message_id_is_ignored_and_writes_nothing(people):
    raw = corpus.plain(PHISH)
    receive(raw)
    before = counts()
    receipt = receive(raw)
    assert receipt.outcome == "duplicate" and receipt.line() == "duplicate"
    assert receipt.ticket == Ticket.objects.get()  # named, not written again
    assert counts() == before


def test_a_reply_to_a_closed_ticket_reopens_it_through_the_status_service(people, soc_ticket):
    alice = Actor.for_agent(people.alice)
    services.ticket_change_status(
        actor=alice, ticket=soc_ticket, status="resolved", resolution="false_positive"
    )
    services.ticket_change_status(actor=alice, ticket=soc_ticket, status="closed")
    raw = corpus.plain(
        "It happened again.\n", subject=f"Re: [#{soc_ticket.number}]", sender="dana@example.test"
    )
    receive(raw)
    soc_ticket.refresh_from_db()
    assert soc_ticket.status == "in_progress" and soc_ticket.resolution == ""
    reopened = AuditEvent.objects.filter(action="ticket.status_changed").order_by("-id").first()
    assert reopened.before["status"] == "closed" and reopened.after["status"] == "in_progress"
    assert "dana@example.test" in reopened.actor_label  # the requester did it, by writing back


def test_a_bounce_is_noted_on_the_ticket_of_the_returned_message(people, soc_ticket):
    sent = agent_reply(people, soc_ticket)
    raw = corpus.dsn_bounce().replace(b"<notify-42@soc.example.com>", sent.message_id.encode())
    tickets = Ticket.objects.count()
    receipt = receive(raw)
    assert receipt.outcome == "bounce_noted" and receipt.ticket == soc_ticket
    assert receipt.line() == f"bounce noted on {soc_ticket.number}"
    assert Ticket.objects.count() == tickets
    note = soc_ticket.entries.order_by("-id").first()
    assert note.kind == "note" and "gone@example.com" in note.body and "5.1.1" in note.body
    assert note.attachments.get().filename == "original.eml"
    received = AuditEvent.objects.get(action="email.received")
    assert describe_event(received) == "received a bounce of the ticket's e-mail"


def test_a_bounce_of_an_unknown_message_is_dropped_and_counted(people):
    receipt = receive(corpus.dsn_bounce())
    assert receipt.outcome == "bounce_dropped" and receipt.ticket is None
    assert not Ticket.objects.exists()
    assert InboundMessage.objects.get().outcome == "bounce_dropped"


def test_mail_from_an_agent_is_their_reply_and_is_mailed_to_the_requester(people, soc_ticket):
    raw = corpus.plain(
        "Please reboot WS-042.\n", subject=f"Re: [#{soc_ticket.number}]", sender="Alice <ALICE@Example.test>"
    )
    receipt = receive(raw)
    assert receipt.outcome == "added" and receipt.ticket == soc_ticket
    entry = receipt.entry
    assert entry.kind == "reply" and entry.author_agent == people.alice
    assert OutboundMessage.objects.get(entry=entry).to == ["dana@example.test"]


def test_automated_mail_still_opens_a_ticket_marked_automatic(people):
    receipt = receive(corpus.auto_reply())
    assert receipt.outcome == "created"
    assert "Auto-Submitted" in InboundMessage.objects.get().automated
    received = AuditEvent.objects.get(action="email.received")
    assert describe_event(received) == "received the e-mail from ann.analyst@example.com (automatic mail)"


def test_bytes_that_are_not_a_message_still_open_a_ticket_with_the_raw_and_the_problems(people):
    raw = b"\x00\xff\xfe garbage that is not a message at all"
    ticket = receive(raw).ticket
    assert ticket.extra["parse_incomplete"] is True
    original = Attachment.objects.get(entry__ticket=ticket, filename="original.eml")
    assert original.file.read() == raw
    note = ticket.entries.get(kind="note")
    assert note.body.startswith("This e-mail could not be fully read:")
    assert "original.eml" in note.body


def test_an_attachment_over_the_limit_is_named_in_a_note(people, settings):
    settings.ATTACHMENT_MAX_BYTES = 4000
    ticket = receive(corpus.big_attachment(5000)).ticket
    assert not Attachment.objects.filter(filename="big.zip").exists()
    note = ticket.entries.get(kind="note")
    digest = hashlib.sha256(b"A" * 5000).hexdigest()
    assert f"The attachment 'big.zip' (5,000 bytes, SHA-256 {digest}) was not stored" in note.body
    assert "over the 4,000 byte limit" in note.body
    # The raw message carries the attachment, so it is over the limit too: said, not silently dropped.
    assert "The original message" in note.body and "was not stored" in note.body


@pytest.mark.parametrize("raw", [b"", b"  \r\n\r\n"])
def test_an_empty_message_is_refused_and_nothing_is_written(people, raw):
    before = counts()
    with pytest.raises(ServiceError, match="The message is empty"):
        receive(raw)
    assert counts() == before


def test_a_new_ticket_without_a_department_is_refused_whole(db):
    with pytest.raises(ServiceError, match="no department"):
        receive(corpus.plain())
    assert not InboundMessage.objects.exists() and not Ticket.objects.exists()


def test_a_ticket_filter_that_rejects_the_mail_refuses_it_whole(people):
    from tests.routing.test_apply import make_filter

    make_filter("No newsletters", [("subject", "contains", "newsletter")], ["reject"])
    before = counts()
    with pytest.raises(PermissionDenied, match="ticket filter"):
        receive(corpus.plain("Buy now.\n", subject="Weekly newsletter"))
    assert counts()[:5] == before[:5]  # no ticket, entry, file, contact or imported row


def test_a_pipe_refused_by_a_ticket_filter_is_bounced(people, monkeypatch):
    from tests.routing.test_apply import make_filter

    make_filter("No newsletters", [("subject", "contains", "newsletter")], ["reject"])
    stdin = io.TextIOWrapper(io.BytesIO(corpus.plain("Buy now.\n", subject="Weekly newsletter")))
    monkeypatch.setattr("sys.stdin", stdin)
    with pytest.raises(CommandError, match="ticket filter") as caught:
        call_command("mail", "pipe")
    assert caught.value.returncode == 65
