"""The "reopened by your reply" acknowledgement, sent through a real SMTP server (aiosmtpd): threaded on
the requester's reply, marked automatic, from its editable template; and never when one of the loop
protections holds (each has its own test)."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from socdesk.accounts.services import department_set_mail_replies
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.mail.bans import ban_add
from socdesk.mail.inbound import mail_receive
from socdesk.mail.mail_templates import TemplateSource, mail_template_save
from socdesk.mail.models import OutboundMessage
from socdesk.tickets import services
from socdesk.tickets.history import describe_event
from tests.mail import corpus

PIPE = Actor.system("mail:pipe")
SETUP = Actor.system("test-setup")
pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(smtp, huey_immediate):
    """The shared SMTP server (tests/conftest.py) with the worker's tasks run at once."""
    return smtp


def received(inbox):
    return [(rcpt, message_from_bytes(raw, policy=policy.default)) for rcpt, raw in inbox.messages]


def acks():
    return list(OutboundMessage.objects.filter(kind="reopen_ack"))


def skipped(ticket) -> str:
    event = AuditEvent.objects.get(action="email.reopen_ack_skipped", target_id=str(ticket.pk))
    assert event.actor_label == "auto-response"
    assert describe_event(event).startswith("sent no reopening acknowledgement: ")
    return event.after["reason"]


@pytest.fixture
def answered(people, soc_ticket, smtp, django_capture_on_commit_callbacks):
    """The SOC ticket with alice's reply e-mailed to its requester (dana), then resolved; the SMTP inbox
    emptied."""
    alice = Actor.for_agent(people.alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(actor=alice, ticket=soc_ticket, body="We blocked the sender.")
    services.ticket_change_status(
        actor=alice, ticket=soc_ticket, status="resolved", resolution="true_positive"
    )
    smtp.messages.clear()
    soc_ticket.refresh_from_db()
    return soc_ticket


def reply(ticket, body="It is back.\n", sender="dana@example.test", message_id="<back-1@example.test>", **h):
    sent = OutboundMessage.objects.filter(ticket=ticket, kind="reply").order_by("id").last()
    return corpus.plain(
        body,
        subject=f"Re: {ticket.subject} [#{ticket.number}]",
        sender=sender,
        To=ticket.department.email,
        Message_ID=message_id,
        In_Reply_To=sent.message_id,
        References=sent.message_id,
        **h,
    )


def receive(raw, capture):
    with capture(execute=True):
        return mail_receive(raw, actor=PIPE, channel="pipe")


def test_a_requesters_reopening_reply_is_acknowledged_threaded_and_marked_automatic(
    answered, smtp, django_capture_on_commit_callbacks
):
    ticket = answered
    # The auto-response of its opening and alice's reply, in order.
    earlier = " ".join(OutboundMessage.objects.filter(ticket=ticket).values_list("message_id", flat=True))
    receipt = receive(reply(ticket), django_capture_on_commit_callbacks)
    assert receipt.outcome == "added"
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"

    [(recipients, message)] = received(smtp)
    [stored] = acks()
    assert recipients == ["dana@example.test"] and message["To"] == "dana@example.test"
    assert message["From"] == ticket.department.email
    assert message["Subject"] == f"Re: {ticket.subject} [#{ticket.number}]"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Message-ID"] == stored.message_id
    # Answers the requester's reply; the thread's earlier message before it.
    assert message["In-Reply-To"] == "<back-1@example.test>"
    assert message["References"] == f"{earlier} <back-1@example.test>"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("-- reply above this line --")
    assert f"Your reply reopened ticket {ticket.number}." in text and "Hello Dana Reyes," in text
    assert f"<strong>{ticket.number}</strong>" in html
    assert (stored.status, stored.recipient, stored.entry) == ("sent", "dana@example.test", None)
    assert not AuditEvent.objects.filter(action="email.reopen_ack_skipped").exists()

    # A reply to an open ticket reopens nothing: no acknowledgement.
    receive(reply(ticket, message_id="<back-2@example.test>"), django_capture_on_commit_callbacks)
    assert len(acks()) == 1 and len(smtp.messages) == 1


def test_a_closed_ticket_reopened_by_mail_is_acknowledged_and_a_follow_up_is_not(
    people, answered, smtp, django_capture_on_commit_callbacks
):
    ticket = services.ticket_change_status(
        actor=Actor.for_agent(people.alice), ticket=answered, status="closed"
    )
    receive(reply(ticket), django_capture_on_commit_callbacks)
    assert [a.ticket for a in acks()] == [ticket]

    ticket = services.ticket_change_status(
        actor=Actor.for_agent(people.alice), ticket=ticket, status="resolved", resolution="true_positive"
    )
    ticket = services.ticket_change_status(
        actor=Actor.for_agent(people.alice), ticket=ticket, status="closed"
    )
    department_set_mail_replies(actor=SETUP, department=people.soc, closed_reply="new", reopen_ack=True)
    receipt = receive(reply(ticket, message_id="<back-3@example.test>"), django_capture_on_commit_callbacks)
    assert receipt.outcome == "created"
    assert len(acks()) == 1  # the new ticket's auto-response names its number instead
    assert OutboundMessage.objects.filter(kind="auto_response", ticket=receipt.ticket).exists()


def test_the_template_is_editable(answered, smtp, django_capture_on_commit_callbacks):
    mail_template_save(
        actor=SETUP,
        kind="reopen_ack",
        department=None,
        source=TemplateSource("Back on {{ ticket.number }}", "We saw: {{ message }}", ""),
    )
    receive(reply(answered), django_capture_on_commit_callbacks)
    [(_, message)] = received(smtp)
    assert message["Subject"] == f"Back on {answered.number} [#{answered.number}]"
    assert message.get_content_type() == "text/plain"  # the template has no HTML body
    assert message.get_content().strip() == "We saw: It is back."


def test_not_for_a_collaborators_reopening_mail(people, answered, smtp, django_capture_on_commit_callbacks):
    services.collaborator_add(actor=Actor.for_agent(people.alice), ticket=answered, email="mia@example.com")
    receive(reply(answered, sender="mia@example.com"), django_capture_on_commit_callbacks)
    answered.refresh_from_db()
    assert answered.status == "in_progress" and acks() == [] and smtp.messages == []


def test_not_to_automatic_mail(answered, smtp, django_capture_on_commit_callbacks):
    raw = reply(answered, body="I am out of office.\n", Auto_Submitted="auto-replied")
    receive(raw, django_capture_on_commit_callbacks)
    answered.refresh_from_db()
    assert answered.status == "in_progress"  # automatic mail still reopens (it may be news)
    assert acks() == [] and smtp.messages == []
    assert skipped(answered) == (
        "The e-mail that reopened it is automatic: "
        "It says it was sent automatically (Auto-Submitted: auto-replied)."
    )


def test_not_when_the_department_turned_it_off(people, answered, smtp, django_capture_on_commit_callbacks):
    department_set_mail_replies(actor=SETUP, department=people.soc, closed_reply="", reopen_ack=False)
    receive(reply(answered), django_capture_on_commit_callbacks)
    assert acks() == [] and smtp.messages == []
    assert skipped(answered) == "Reopening acknowledgements are off for the department SOC."


def test_not_past_the_rate_limit_shared_with_auto_responses(
    people, answered, smtp, settings, django_capture_on_commit_callbacks
):
    settings.SOCDESK_MAIL_AUTORESPONSE_LIMIT = 1
    # dana's one automatic e-mail of the hour: the auto-response of a new ticket.
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_create(
            actor=Actor.for_agent(people.alice),
            subject="Another",
            department=people.soc,
            body="x",
            requester_email="dana@example.test",
        )
    assert OutboundMessage.objects.filter(kind="auto_response").count() == 1
    receive(reply(answered), django_capture_on_commit_callbacks)
    assert acks() == []
    assert skipped(answered) == (
        "dana@example.test already got 1 automatic e-mails in the last hour "
        "(SOCDESK_MAIL_AUTORESPONSE_LIMIT)."
    )


def test_not_to_a_banned_requester(answered, smtp, django_capture_on_commit_callbacks):
    # Banned after the ticket was opened: the mail is refused whole, so nothing reopens or answers.
    ban_add(actor=SETUP, entry="dana@example.test")
    receipt = receive(reply(answered), django_capture_on_commit_callbacks)
    answered.refresh_from_db()
    assert receipt.outcome == "banned" and answered.status == "resolved" and acks() == []


def test_nothing_when_outbound_mail_is_not_configured(people, soc_ticket, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    alice = Actor.for_agent(people.alice)
    services.ticket_change_status(
        actor=alice, ticket=soc_ticket, status="resolved", resolution="true_positive"
    )
    raw = corpus.plain(
        "Again.\n", subject=f"Re: [#{soc_ticket.number}]", sender="dana@example.test", To=people.soc.email
    )
    mail_receive(raw, actor=PIPE, channel="pipe")
    soc_ticket.refresh_from_db()
    assert soc_ticket.status == "in_progress" and acks() == []
    assert not AuditEvent.objects.filter(action="email.reopen_ack_skipped").exists()
