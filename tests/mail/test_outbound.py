"""Agents' replies go out by e-mail through a real SMTP server (aiosmtpd on loopback): queued with the
reply, sent by the worker after commit, threaded by Message-ID, failures shown and retried, never twice."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest

from socdesk.accounts.services import department_set_auto_response
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.mail.models import OutboundMessage
from socdesk.mail.outbound import outbound_retry
from socdesk.mail.sending import outbound_send
from socdesk.mail.tasks import outbound_sweep
from socdesk.tickets import services
from socdesk.tickets.models import Ticket
from tests.console_helpers import client_for
from tests.core.processes import free_port
from tests.mailserver import Inbox


@pytest.fixture(autouse=True)
def replies_only(people):
    """These tests are about replies: the SOC department sends no auto-response to new tickets
    (tests/mail/test_autoresponse.py covers those)."""
    department_set_auto_response(actor=Actor.system("test"), department=people.soc, enabled=False)


def parsed(inbox: Inbox):
    """What the server received: (recipients, message) with headers decoded."""
    return [(rcpt, message_from_bytes(raw, policy=policy.default)) for rcpt, raw in inbox.messages]


@pytest.fixture
def smtp(smtp, huey_immediate):
    """The shared SMTP server (tests/conftest.py) with the worker's tasks run at once."""
    return smtp


def reply(people, ticket, body, agent=None):
    """An agent's reply through the console, its after-commit work run; returns the page's text."""
    ticket = Ticket.objects.get(pk=ticket.pk)
    client = client_for(agent or people.alice)
    return client.post(
        f"/tickets/{ticket.number}/compose",
        {"version": ticket.version, "body": body, "kind": "reply"},
        HTTP_HX_REQUEST="true",
    ).content.decode()


def test_a_reply_is_mailed_to_the_requester_with_the_ticket_token(
    people, soc_ticket, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = reply(people, soc_ticket, "We blocked the sender.\nPlease reboot WS-042.")
    # The page is rendered before the worker runs: it says the truth of that moment.
    assert "Reply queued for e-mail to dana@example.test." in page
    [(recipients, message)] = parsed(smtp)
    stored = OutboundMessage.objects.get()
    assert recipients == ["dana@example.test"]
    assert message["To"] == "dana@example.test"
    assert message["From"] == "soc@example.test"  # the department's address
    number = soc_ticket.number
    assert message["Subject"] == f"Re: Suspicious PowerShell on WS-042 [#{number}]"
    assert message["Message-ID"] == stored.message_id and stored.message_id.endswith("@example.test>")
    assert message["In-Reply-To"] is None
    assert message["Auto-Submitted"] is None  # a person wrote it: the requester's autoresponder may answer
    assert message.get_content_type() == "multipart/alternative"
    body = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    # The reader cuts a requester's answer at the marker (socdesk.mail.text.reply_part).
    assert body.startswith("-- reply above this line --\n\nWe blocked the sender.\nPlease reboot WS-042.\n")
    assert f"Ticket {number} · reply to this message to add to the ticket." in body
    assert "Alice" in body  # the agent's name in the signature
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "We blocked the sender.<br>Please reboot WS-042." in html
    assert stored.kind == "reply" and stored.html == html.replace("\r\n", "\n")
    assert stored.status == "sent" and stored.attempts == 1 and stored.sent_at is not None
    assert stored.entry.body.startswith("We blocked the sender.")

    ticket_page = client_for(people.bob).get(f"/tickets/{number}/").content.decode()
    assert "E-mailed to dana@example.test" in ticket_page


def test_the_second_reply_answers_the_first(people, soc_ticket, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply(people, soc_ticket, "First answer.")
    with django_capture_on_commit_callbacks(execute=True):
        reply(people, soc_ticket, "Second answer.")
    (_, first), (_, second) = parsed(smtp)
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"] == first["Message-ID"]
    assert first["Message-ID"] != second["Message-ID"]


def test_without_a_department_address_the_default_sender_is_used(
    people, soc_ticket, smtp, settings, django_capture_on_commit_callbacks
):
    settings.DEFAULT_FROM_EMAIL = "desk@socdesk.example.test"
    type(people.soc).objects.filter(pk=people.soc.pk).update(email="")
    with django_capture_on_commit_callbacks(execute=True):
        reply(people, soc_ticket, "Looking into it.")
    [(_, message)] = parsed(smtp)
    assert message["From"] == "desk@socdesk.example.test"
    assert message["Message-ID"].endswith("@socdesk.example.test>")


def test_an_internal_note_is_never_mailed(people, soc_ticket, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        page = (
            client_for(people.alice)
            .post(
                f"/tickets/{soc_ticket.number}/compose",
                {"version": soc_ticket.version, "body": "Hash is on the blocklist.", "kind": "note"},
                HTTP_HX_REQUEST="true",
            )
            .content.decode()
        )
    assert "Internal note added." in page
    assert smtp.messages == [] and not OutboundMessage.objects.exists()


def test_without_outbound_mail_the_console_says_so_and_nothing_is_queued(
    people, soc_ticket, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        page = reply(people, soc_ticket, "Looking into it.")
    assert "Reply saved. E-mail is not configured, so the requester was not sent it" in page
    assert "docs/email.md" in page
    assert not OutboundMessage.objects.exists()
    assert soc_ticket.entries.filter(kind="reply").count() == 1  # the reply itself is kept


def test_a_requester_without_an_address_is_not_mailed(people, smtp, django_capture_on_commit_callbacks):
    ticket = services.ticket_create(
        actor=people.actor(people.alice), subject="Phone call: VPN down", department=people.soc
    )
    with django_capture_on_commit_callbacks(execute=True):
        page = reply(people, ticket, "Restarted the gateway.")
    assert "Reply saved; the requester has no e-mail address" in page
    assert smtp.messages == [] and not OutboundMessage.objects.exists()


def test_a_down_server_fails_visibly_then_a_retry_sends_once(
    people, soc_ticket, smtp, settings, django_capture_on_commit_callbacks
):
    good_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        reply(people, soc_ticket, "Please reset your password.")
    message = OutboundMessage.objects.get()
    assert message.status == "failed" and message.attempts == 1
    refused = f"the mail server at 127.0.0.1:{settings.EMAIL_PORT} refused the connection"
    assert message.last_error == refused
    page = client_for(people.bob).get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert f"E-mail to dana@example.test not sent: {refused}." in page
    assert f'action="/mail/outbound/{message.pk}/retry"' in page

    settings.EMAIL_PORT = good_port
    bob = client_for(people.bob)
    with django_capture_on_commit_callbacks(execute=True):
        answer = bob.post(f"/mail/outbound/{message.pk}/retry")
    assert answer.status_code == 302 and answer["Location"] == f"/tickets/{soc_ticket.number}/"
    shown = bob.get(answer["Location"]).content.decode()
    assert "E-mail to dana@example.test queued again." in shown  # the worker ran after the answer
    assert "retried the e-mail to dana@example.test" in shown  # the ticket's history
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2 and message.last_error == ""
    assert len(smtp.messages) == 1
    event = AuditEvent.objects.get(action="email.retry_requested")
    assert event.actor_label == "bob" and event.after["to"] == ["dana@example.test"]

    # Sending it again, by a late task or the sweep, sends nothing.
    assert outbound_send([message.pk]) == 0
    assert len(smtp.messages) == 1
    page = client_for(people.bob).get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert "E-mailed to dana@example.test" in page and "not sent" not in page


def test_retrying_what_is_not_failed_is_refused_and_changes_nothing(
    people, soc_ticket, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply(people, soc_ticket, "Done.")
    message = OutboundMessage.objects.get()
    refusal = "This e-mail was already sent; there is nothing to retry."
    with pytest.raises(ServiceError, match=re.escape(refusal)):
        outbound_retry(actor=people.actor(people.alice), message=message)
    answer = client_for(people.alice).post(f"/mail/outbound/{message.pk}/retry", follow=True)
    assert refusal in answer.content.decode()
    assert not AuditEvent.objects.filter(action="email.retry_requested").exists()
    assert len(smtp.messages) == 1


def test_another_departments_agent_cannot_retry(
    people, soc_ticket, smtp, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_PORT = free_port()
    with django_capture_on_commit_callbacks(execute=True):
        reply(people, soc_ticket, "Please reset your password.")
    message = OutboundMessage.objects.get()
    assert client_for(people.carol).post(f"/mail/outbound/{message.pk}/retry").status_code == 404
    assert client_for(people.carol).post("/mail/outbound/999999/retry").status_code == 404
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == 1
    assert not AuditEvent.objects.filter(action="email.retry_requested").exists()


def test_a_claimed_message_is_not_sent_by_a_second_worker(
    people, soc_ticket, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        reply(people, soc_ticket, "One e-mail only.")
    message = OutboundMessage.objects.get()
    assert message.status == "queued"
    # Another worker claimed it and is sending it: this one leaves it alone.
    OutboundMessage.objects.filter(pk=message.pk).update(status="sending")
    assert outbound_send([message.pk]) == 0 and smtp.messages == []
    OutboundMessage.objects.filter(pk=message.pk).update(status="queued")
    # The task and the sweep both get to it: it goes out once.
    assert outbound_send([message.pk, message.pk]) == 1
    assert outbound_send([message.pk]) == 0
    assert len(smtp.messages) == 1


def test_the_sweep_sends_what_waited_too_long(people, soc_ticket, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        reply(people, soc_ticket, "Lost task.")
    message = OutboundMessage.objects.get()
    assert outbound_sweep.call_local() == 0  # too young: its own task still has it
    OutboundMessage.objects.filter(pk=message.pk).update(created_at=message.created_at.replace(year=2020))
    assert outbound_sweep.call_local() == 1
    message.refresh_from_db()
    assert message.status == "sent" and len(smtp.messages) == 1


def test_the_thread_reads_the_emails_in_one_query(people, soc_ticket, smtp, django_assert_num_queries):
    from socdesk.mail.outbound import outbound_by_entry

    for i in range(3):
        reply(people, soc_ticket, f"Reply {i}")
    with django_assert_num_queries(1):
        emails = outbound_by_entry(soc_ticket)
    assert len(emails) == 3


def test_a_subject_with_a_line_break_goes_out_on_one_line(
    people, soc_ticket, smtp, django_capture_on_commit_callbacks
):
    Ticket.objects.filter(pk=soc_ticket.pk).update(subject="Beacon to\n203.0.113.9\r\nBcc: x@evil.test")
    with django_capture_on_commit_callbacks(execute=True):
        reply(people, soc_ticket, "Blocked.")
    [(recipients, message)] = parsed(smtp)
    assert recipients == ["dana@example.test"]  # nothing smuggled in as a header
    assert message["Subject"] == f"Re: Beacon to 203.0.113.9 Bcc: x@evil.test [#{soc_ticket.number}]"
    assert message["Bcc"] is None


def test_a_message_the_mail_library_refuses_fails_with_its_reason(
    people, soc_ticket, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        reply(people, soc_ticket, "Blocked.")
    message = OutboundMessage.objects.get()
    OutboundMessage.objects.filter(pk=message.pk).update(in_reply_to="<a@b>\nBcc: x@evil.test")
    with pytest.raises(ServiceError, match="could not be sent"):
        outbound_send([message.pk])
    message.refresh_from_db()
    assert message.status == "failed" and "newlines" in message.last_error
    assert smtp.messages == []


def test_a_reply_is_copied_to_the_tickets_collaborators(
    people, soc_ticket, smtp, django_capture_on_commit_callbacks
):
    services.collaborator_add(actor=Actor.for_agent(people.alice), ticket=soc_ticket, email="Mia@Example.com")
    services.collaborator_add(
        actor=Actor.for_agent(people.alice), ticket=soc_ticket, email="boss@example.com"
    )
    with django_capture_on_commit_callbacks(execute=True):
        page = reply(people, soc_ticket, "Contained; details below.")
    assert "Reply queued for e-mail to dana@example.test, mia@example.com, boss@example.com." in page
    [(recipients, message)] = parsed(smtp)
    assert sorted(recipients) == ["boss@example.com", "dana@example.test", "mia@example.com"]
    assert message["To"] == "dana@example.test"
    assert message["Cc"] == "mia@example.com, boss@example.com"
    # An internal note goes to nobody, collaborators included.
    ticket = Ticket.objects.get(pk=soc_ticket.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_note(actor=Actor.for_agent(people.alice), ticket=ticket, body="Internal only.")
    assert len(smtp.messages) == 1
