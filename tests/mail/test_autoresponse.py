"""The auto-response: a new ticket's requester is told its number by e-mail (real SMTP server, aiosmtpd),
from every channel, and never when one of the suppression reasons holds (each has its own test)."""

from __future__ import annotations

import io
import json
from email import message_from_bytes, policy

import pytest
from django.core.management import call_command
from django.test import Client

from socdesk.accounts.services import department_set_auto_response
from socdesk.accounts.structure import department_update
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.mail.bans import ban_add
from socdesk.mail.inbound import mail_receive
from socdesk.mail.models import OutboundMessage
from socdesk.routing.services.filters import FilterDefinition, filter_create
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from socdesk.tickets.history import describe_event
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft, ticket_create, ticket_create_many
from tests.api.conftest import ApiClient, make_key
from tests.mail import corpus

SETUP = Actor.system("test-setup")
PIPE = Actor.system("mail:pipe")
pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(smtp, huey_immediate):
    """The shared SMTP server (tests/conftest.py) with the worker's tasks run at once."""
    return smtp


def received(inbox):
    return [(rcpt, message_from_bytes(raw, policy=policy.default)) for rcpt, raw in inbox.messages]


def auto_responses():
    return list(OutboundMessage.objects.filter(kind="auto_response"))


def skipped(ticket) -> str:
    """The reason recorded on the ticket for not sending its auto-response."""
    event = AuditEvent.objects.get(action="email.autoresponse_skipped", target_id=str(ticket.pk))
    assert event.actor_label == "auto-response"
    assert describe_event(event).startswith("sent no auto-response: ")
    return event.after["reason"]


def open_ticket(people, **fields) -> Ticket:
    fields.setdefault("subject", "Odd login prompt")
    fields.setdefault("department", people.soc)
    fields.setdefault("body", "A page asked for my password twice.")
    fields.setdefault("requester_email", "pat@example.test")
    fields.setdefault("requester_name", "Pat Doe")
    return ticket_create(actor=Actor.for_agent(people.alice), **fields)


# --- sent --------------------------------------------------------------------------------------------


def test_mail_opening_a_ticket_is_answered_with_its_number(people, smtp, django_capture_on_commit_callbacks):
    raw = corpus.plain("Is this phishing?\n", Message_ID="<ask-1@example.com>")
    with django_capture_on_commit_callbacks(execute=True):
        receipt = mail_receive(raw, actor=PIPE, channel="pipe")
    ticket = receipt.ticket
    [(recipients, message)] = received(smtp)
    [stored] = auto_responses()
    assert recipients == ["ann.analyst@example.com"] and message["To"] == "ann.analyst@example.com"
    assert message["From"] == "soc@example.test"  # the department's address
    assert message["Subject"] == f"[#{ticket.number}] Phishing?"
    assert message["Auto-Submitted"] == "auto-replied"  # RFC 3834: autoresponders must not answer it
    assert message["Message-ID"] == stored.message_id
    assert message["In-Reply-To"] == "<ask-1@example.com>" == message["References"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("-- reply above this line --")
    assert f"opened ticket {ticket.number}" in text and "Hello Ann Analyst," in text
    assert f"<strong>{ticket.number}</strong>" in html
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    assert (stored.status, stored.recipient, stored.entry) == ("sent", "ann.analyst@example.com", None)
    assert not AuditEvent.objects.filter(action="email.autoresponse_skipped").exists()

    # The requester's answer to the auto-response threads onto the ticket, cut at the marker.
    answer = corpus.plain(
        f"Here is the link.\n\n> {text.splitlines()[0]}\n> Hello\n",
        Message_ID="<ask-2@example.com>",
        In_Reply_To=stored.message_id,
        Subject=f"Re: {message['Subject']}",
    )
    assert mail_receive(answer, actor=PIPE, channel="pipe").ticket == ticket
    assert ticket.entries.order_by("id").last().body == "Here is the link."


def test_the_pipe_answers_a_new_ticket(people, smtp, monkeypatch, django_capture_on_commit_callbacks):
    stdin = io.TextIOWrapper(io.BytesIO(corpus.plain("Help.\n", Message_ID="<pipe-ar@example.com>")))
    monkeypatch.setattr("sys.stdin", stdin)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("mail", "pipe", stdout=out)
    number = Ticket.objects.get().number
    assert out.getvalue().strip() == f"created {number}"
    [(_, message)] = received(smtp)
    assert f"[#{number}]" in message["Subject"]


def test_a_ticket_opened_by_the_rest_api_is_acknowledged(people, smtp, django_capture_on_commit_callbacks):
    tool = ApiClient(make_key(["tickets:create"], name="soar"))
    with django_capture_on_commit_callbacks(execute=True):
        answer = tool.post(
            "tickets",
            {
                "subject": "VPN token lost",
                "department": "soc",
                "body": "Lost it.",
                "requester": {"email": "j@x.test"},
            },
        )
    assert answer.status_code == 201, answer.content
    number = answer.json()["number"]
    [(recipients, message)] = received(smtp)
    assert recipients == ["j@x.test"] and message["Subject"] == f"[#{number}] VPN token lost"
    assert message["In-Reply-To"] is None  # nothing it answers: the ticket came from an API call


def osticket(body: dict, key: str):
    return Client().post(
        "/api/tickets.json",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-API-Key": key},
    )


def test_the_osticket_api_acknowledges_unless_autorespond_is_false(
    people, smtp, django_capture_on_commit_callbacks
):
    key = make_key(["tickets:create"], name="osticket-client")
    body = {"name": "Dana", "email": "dana@example.test", "subject": "Odd page", "message": "Clicked a link"}
    with django_capture_on_commit_callbacks(execute=True):
        first = osticket(body, key)
    assert first.status_code == 201
    [(_, message)] = received(smtp)
    assert message["Subject"] == f"[#{first.content.decode()}] Odd page"

    with django_capture_on_commit_callbacks(execute=True):
        quiet = osticket({**body, "autorespond": False}, key)
    assert quiet.status_code == 201 and len(smtp.messages) == 1
    ticket = Ticket.objects.get(number=quiet.content.decode())
    assert skipped(ticket) == "The API request asked for no auto-response (autorespond: false)."


def test_a_ticket_the_console_opens_for_a_requester_is_acknowledged(people, smtp):
    ticket = open_ticket(people)
    [stored] = auto_responses()
    assert stored.ticket == ticket and stored.to == ["pat@example.test"] and stored.status == "queued"
    assert "Hello Pat Doe," in stored.body


# --- not sent: one test per reason --------------------------------------------------------------------


def test_not_when_the_department_turned_it_off(people, smtp):
    department_set_auto_response(actor=SETUP, department=people.soc, enabled=False)
    ticket = open_ticket(people)
    assert auto_responses() == []
    assert skipped(ticket) == "Auto-responses are off for the department SOC."


def test_not_when_the_help_topic_turned_it_off(people, smtp):
    topic = help_topic_create(
        actor=SETUP, definition=TopicDefinition(name="Password reset", auto_response=False)
    )
    ticket = open_ticket(people, help_topic=topic.pk)
    assert auto_responses() == []
    assert (
        skipped(ticket) == "The help topic or a ticket filter turned the auto-response off for this ticket."
    )


def test_not_when_a_filter_suppresses_it(people, smtp):
    filter_create(
        actor=SETUP,
        definition=FilterDefinition(
            name="Quiet for VIPs",
            conditions=[{"field": "requester_email", "operator": "ends_with", "value": "@example.test"}],
            actions=[{"type": "suppress_autoresponse"}],
        ),
    )
    ticket = open_ticket(people)
    assert auto_responses() == []
    assert "ticket filter" in skipped(ticket)


def test_not_to_automatic_mail(people, smtp):
    raw = corpus.plain("I am out of office.\n", Auto_Submitted="auto-replied")
    ticket = mail_receive(raw, actor=PIPE, channel="pipe").ticket
    assert ticket is not None and auto_responses() == []
    assert skipped(ticket) == (
        "The e-mail that opened it is automatic: "
        "It says it was sent automatically (Auto-Submitted: auto-replied)."
    )


def test_not_to_a_mailer_daemon(people, smtp):
    ticket = open_ticket(people, requester_email="MAILER-DAEMON@mx.example.test")
    assert auto_responses() == []
    assert (
        skipped(ticket)
        == "The requester mailer-daemon@mx.example.test is a mail server's mailer-daemon address."
    )


def test_not_to_socdesks_own_addresses(people, smtp, settings):
    department_update(
        actor=SETUP, department=people.it, name="IT", email="it-desk@example.test", description=""
    )
    ticket = open_ticket(people, requester_email="IT-Desk+soc-1@example.test")
    assert skipped(ticket) == "The requester it-desk+soc-1@example.test is one of SOCdesk's own addresses."
    settings.DEFAULT_FROM_EMAIL = "noreply@example.test"
    ticket = open_ticket(people, requester_email="noreply@example.test")
    assert skipped(ticket) == "The requester noreply@example.test is one of SOCdesk's own addresses."
    assert auto_responses() == []


def test_not_past_the_rate_limit_per_address(people, smtp, settings):
    settings.SOCDESK_MAIL_AUTORESPONSE_LIMIT = 2
    first, second, third = (open_ticket(people, subject=f"Flood {i}") for i in range(3))
    assert [m.ticket for m in auto_responses()] == [first, second]
    assert skipped(third) == (
        "pat@example.test already got 2 automatic e-mails in the last hour (SOCDESK_MAIL_AUTORESPONSE_LIMIT)."
    )
    other = open_ticket(people, requester_email="someone-else@example.test")  # the limit is per address
    assert auto_responses()[-1].ticket == other


def test_not_to_a_banned_requester(people, smtp):
    ban_add(actor=SETUP, entry="*@spam.example.test")
    ticket = open_ticket(people, requester_email="bulk@spam.example.test")
    assert auto_responses() == []
    assert skipped(ticket) == "The requester bulk@spam.example.test is banned (spam.example.test)."


def test_nothing_when_outbound_mail_is_not_configured(people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    open_ticket(people)
    assert auto_responses() == []
    assert not AuditEvent.objects.filter(action="email.autoresponse_skipped").exists()  # logged, not audited


def test_nothing_for_a_ticket_without_a_requester_address(people, smtp):
    open_ticket(people, requester_email="")
    assert OutboundMessage.objects.count() == 0
    assert not AuditEvent.objects.filter(action="email.autoresponse_skipped").exists()


def test_nothing_for_an_alert_ticket(people, smtp):
    # Alert tickets have no requester; even one carrying an address (a tool's field) is never answered.
    draft = TicketDraft(
        actor=SETUP,
        subject="Brute force on vpn-01",
        department=people.soc,
        source="alert",
        requester_email="siem@example.test",
        alert={"title": "Brute force on vpn-01", "source": "alertmanager"},
    )
    ticket_create_many([draft])
    assert OutboundMessage.objects.count() == 0
    assert not AuditEvent.objects.filter(action="email.autoresponse_skipped").exists()
