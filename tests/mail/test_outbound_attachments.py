"""A reply's attachments go with its e-mail (a real SMTP server, aiosmtpd), up to the attachment size limit
for all of them together; what is left out is said in the message and on the ticket."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from socdesk.accounts.services import department_set_auto_response
from socdesk.core.actor import Actor
from socdesk.mail.models import OutboundMessage
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.services import ticket_reply

SETUP = Actor.system("test-setup")
CSV = b"host,ip\nws-042,203.0.113.7\n" * 2  # 54 bytes
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 52  # 60 bytes


@pytest.fixture
def smtp(smtp, huey_immediate, people):
    department_set_auto_response(actor=SETUP, department=people.soc, enabled=False)  # replies only here
    return smtp


def sent(inbox):
    [(_, raw)] = inbox.messages
    return message_from_bytes(raw, policy=policy.default)


def test_a_replys_attachments_are_attached(people, soc_ticket, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entry = ticket_reply(
            actor=Actor.for_agent(people.alice),
            ticket=soc_ticket,
            body="The hosts are attached.",
            attachments=[IncomingFile("hosts.csv", CSV), IncomingFile("screen.png", PNG)],
        )
    message = sent(smtp)
    assert message.get_content_type() == "multipart/mixed"
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/plain",  # the type sniffed from the bytes when the file was stored
        "image/png",
    ]
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    # A text part travels with CRLF line ends, as SMTP has it.
    assert files == {"hosts.csv": CSV.decode().replace("\n", "\r\n"), "screen.png": PNG}
    assert "The hosts are attached." in message.get_body(preferencelist=("plain",)).get_content()
    stored = OutboundMessage.objects.get(entry=entry)
    assert stored.status == "sent" and len(stored.attachment_ids) == 2


def test_attachments_over_the_cap_are_left_out_and_said_so(
    people, soc_ticket, smtp, settings, django_capture_on_commit_callbacks
):
    settings.ATTACHMENT_MAX_BYTES = 100  # each file fits, both together do not
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(
            actor=Actor.for_agent(people.alice),
            ticket=soc_ticket,
            body="Two files.",
            attachments=[IncomingFile("hosts.csv", CSV), IncomingFile("screen.png", PNG)],
        )
    message = sent(smtp)
    assert [part.get_filename() for part in message.iter_attachments()] == ["hosts.csv"]
    sentence = "Not attached, as the attachments together are over the 100 byte limit: screen.png (60 bytes)."
    assert sentence in message.get_body(preferencelist=("plain",)).get_content()
    assert sentence in message.get_body(preferencelist=("html",)).get_content()
    note = soc_ticket.entries.filter(kind="note").order_by("id").last()
    assert note.body == (
        "The e-mail of this reply to dana@example.test went without attachments over the 100 byte limit: "
        "screen.png (60 bytes)."
    )
