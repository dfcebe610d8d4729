"""E-mail end to end, with a real Dovecot and a real SMTP server: a requester's message delivered to the
IMAP mailbox becomes a ticket, the requester receives the auto-response with the ticket's number, their
answer to it (In-Reply-To only, no token) lands in the same ticket, and an agent's reply from the console
reaches them, threaded."""

from __future__ import annotations

import io
from email import message_from_bytes, policy

import pytest
from django.core.management import call_command

from socdesk.core.actor import Actor
from socdesk.mail.mailboxes import MailboxDefinition, mailbox_create
from socdesk.mail.models import InboundMessage, OutboundMessage
from socdesk.tickets.models import Ticket
from tests.console_helpers import client_for
from tests.mail import corpus

SEEN = (b"\\Seen",)


@pytest.fixture
def smtp(smtp, huey_immediate):
    """The SMTP server with the worker's tasks run as soon as they are queued."""
    return smtp


def fetch() -> str:
    out = io.StringIO()
    call_command("mail", "fetch", "soc-inbox", stdout=out)
    return out.getvalue()


def received(smtp):
    return [(rcpt, message_from_bytes(raw, policy=policy.default)) for rcpt, raw in smtp.messages]


def test_mail_in_auto_response_out_answer_threaded_and_agent_reply_delivered(
    people, dovecot, imap_user, smtp, django_capture_on_commit_callbacks
):
    mailbox_create(
        actor=Actor.system("test"),
        definition=MailboxDefinition(
            name="soc-inbox",
            address="help@soc.example.test",
            host=dovecot.host,
            port=dovecot.port,
            security="none",
            username=imap_user[0],
            password=imap_user[1],
            department=people.soc,
        ),
    )
    first = corpus.plain(
        "I got an invoice from a supplier we never use.\nThe link goes to hxxps://pay-invoice[.]example/login\n",
        subject="Strange invoice",
        sender="Dana Reyes <dana@example.com>",
        To="help@soc.example.test",
        Message_ID="<first@example.com>",
    )
    dovecot.append(imap_user, [first])

    # 1. The message becomes a ticket; the requester gets the auto-response, threaded on their message.
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 created" in fetch()
    ticket = Ticket.objects.get()
    assert ticket.subject == "Strange invoice" and ticket.requester.email == "dana@example.com"
    [(rcpt, auto)] = received(smtp)
    assert rcpt == ["dana@example.com"]
    assert f"[#{ticket.number}]" in auto["Subject"]
    assert auto["Auto-Submitted"] == "auto-replied"
    assert auto["In-Reply-To"] == "<first@example.com>"
    assert dovecot.flags(imap_user) == [SEEN]

    # 2. The requester answers the auto-response: no token in the subject, only In-Reply-To.
    answer = corpus.plain(
        "The sender was billing@pay-invoice.example.\n\nOn Mon, SOC wrote:\n> Thank you\n",
        subject="Re: your message",
        sender="Dana Reyes <dana@example.com>",
        To="help@soc.example.test",
        Message_ID="<answer@example.com>",
        In_Reply_To=auto["Message-ID"],
    )
    dovecot.append(imap_user, [answer])
    with django_capture_on_commit_callbacks(execute=True):
        assert "0 created, 1 added" in fetch()
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.get(message_id="answer@example.com").ticket_id == ticket.pk
    entry = ticket.entries.order_by("-id").first()
    assert (
        entry.body.startswith("The sender was billing@pay-invoice.example.")
        and "> Thank you" not in entry.body
    )
    assert len(smtp.messages) == 1  # an answer to a ticket gets no second auto-response
    assert dovecot.flags(imap_user) == [SEEN, SEEN]

    # 3. An agent replies from the console: the requester receives it, threaded after the earlier mail.
    ticket.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        page = client_for(people.alice).post(
            f"/tickets/{ticket.number}/compose",
            {"version": ticket.version, "body": "Thanks, we blocked that domain.", "kind": "reply"},
            HTTP_HX_REQUEST="true",
        )
    assert page.status_code == 200
    rcpt, reply = received(smtp)[1]
    assert rcpt == ["dana@example.com"]
    assert f"[#{ticket.number}]" in reply["Subject"] and reply["Auto-Submitted"] is None
    assert auto["Message-ID"] in reply["References"]
    assert "Thanks, we blocked that domain." in reply.get_body(preferencelist=("plain",)).get_content()
    assert OutboundMessage.objects.filter(ticket=ticket, status="sent").count() == 2
