"""Notification mail goes out through a real SMTP server (aiosmtpd on loopback), after commit, through
the worker's task: plain text with the ticket's link, per preference, once however often the task runs."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from socdesk.core.errors import ServiceError
from socdesk.notifications.choices import Kind
from socdesk.notifications.models import NotificationEmail
from socdesk.notifications.services import notification_emails_send, notification_preferences_set
from socdesk.notifications.tasks import notification_emails_sweep
from socdesk.tickets import services
from socdesk.tickets.services import TicketDraft
from tests.core.processes import free_port
from tests.mailserver import Inbox


def parsed(inbox: Inbox):
    """What the server received: (recipients, message) with headers decoded."""
    return [(rcpt, message_from_bytes(raw, policy=policy.default)) for rcpt, raw in inbox.messages]


@pytest.fixture
def smtp(smtp, settings, huey_immediate):
    """The shared SMTP server (tests/conftest.py), with the worker's tasks run at once and a base URL."""
    settings.SOCDESK_BASE_URL = "https://socdesk.example.test/"
    return smtp


def test_an_assignment_is_mailed_after_commit_with_the_tickets_link(
    people, soc_ticket, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    assert smtp.messages == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    [(recipients, message)] = parsed(smtp)
    assert recipients == ["bob@example.test"]
    number = soc_ticket.number
    assert message["Subject"].strip() == f"[SOCdesk] {number}: Assigned to you · {soc_ticket.subject}"
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    assert "alice assigned the ticket to you." in body
    assert f"https://socdesk.example.test/tickets/{number}/" in body
    assert "https://socdesk.example.test/notifications/preferences" in body
    email = NotificationEmail.objects.get()
    assert email.sent_at is not None and email.attempts == 1


def test_one_message_per_recipient_for_a_batch(people, smtp, django_capture_on_commit_callbacks):
    notification_preferences_set(actor=people.actor(people.bob), choices={Kind.NEW_TICKET: (True, True)})
    drafts = [
        TicketDraft(actor=people.actor(people.alice), subject=f"Alert {i}", department=people.soc)
        for i in range(25)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_create_many(drafts)
    [(recipients, message)] = parsed(smtp)
    assert recipients == ["bob@example.test"] and message["Subject"].strip() == "[SOCdesk] 25 notifications"
    body = message.get_content()
    assert body.count("New medium ticket in SOC, from alice.") == 20
    assert "... and 5 more in the console's notifications." in body


def test_email_off_in_the_preferences_sends_nothing_but_keeps_the_bell(
    people, soc_ticket, smtp, django_capture_on_commit_callbacks
):
    notification_preferences_set(actor=people.actor(people.bob), choices={Kind.ASSIGNED: (True, False)})
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    assert smtp.messages == [] and not NotificationEmail.objects.exists()
    assert people.bob.notifications.count() == 1


def test_without_outbound_mail_nothing_is_queued(
    people, soc_ticket, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    assert not NotificationEmail.objects.exists() and people.bob.notifications.count() == 1


def test_an_agent_without_an_address_gets_no_mail(
    people, soc_ticket, smtp, django_capture_on_commit_callbacks
):
    people.bob.user.email = ""
    people.bob.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    assert smtp.messages == [] and not NotificationEmail.objects.exists()


def test_running_the_task_twice_sends_once(people, soc_ticket, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    ids = list(NotificationEmail.objects.values_list("id", flat=True))
    assert notification_emails_send(ids) == 0
    assert len(smtp.messages) == 1


def test_a_refusing_mail_server_keeps_the_message_for_a_retry(
    people, soc_ticket, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    with django_capture_on_commit_callbacks(execute=False):
        services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    email = NotificationEmail.objects.get()
    with pytest.raises(ServiceError, match="1 notification message"):
        notification_emails_send([email.pk])
    email.refresh_from_db()
    assert email.sent_at is None and email.attempts == 1 and "refused" in email.last_error.lower()
    assert people.bob.notifications.count() == 1  # the bell does not depend on the mail server


def test_the_sweep_sends_what_the_worker_never_sent(
    people, soc_ticket, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the task is lost: never enqueued
        services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    email = NotificationEmail.objects.get()
    assert notification_emails_sweep.call_local() == 0  # too recent: its own task may still run
    NotificationEmail.objects.filter(pk=email.pk).update(created_at=email.created_at - timedelta(minutes=6))
    assert notification_emails_sweep.call_local() == 1
    assert [rcpt for rcpt, _ in smtp.messages] == [["bob@example.test"]]
    assert notification_emails_sweep.call_local() == 0  # sent once
