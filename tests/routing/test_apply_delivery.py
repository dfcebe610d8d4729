"""What ticket filters send out (mail over real SMTP, signed webhooks to a real HTTP server) and the
filters that run on ticket events."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from socdesk.core.actor import Actor
from socdesk.routing.models import FilterRule, FilterWebhookDelivery
from socdesk.routing.webhooks import SIGNATURE_HEADER, webhook_deliver, webhooks_retry_due
from socdesk.tickets.choices import EntryKind
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import (
    ticket_add_message,
    ticket_change_severity,
    ticket_change_status,
    ticket_reply,
)
from tests.core.processes import free_port

from .test_apply import make_filter, open_ticket
from .test_apply import responders as responders  # a fixture

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server on loopback that records the POSTs and answers with the next status given."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def immediate():
    old = HUEY.immediate
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = old


def test_notify_mails_the_address_after_commit(people, smtp, django_capture_on_commit_callbacks):
    make_filter("Tell the CISO", [("subject", "contains", "phishing")], [("notify", "ciso@example.test")])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = open_ticket(people)
    assert smtp.messages == []  # nothing leaves before the ticket is committed
    for callback in callbacks:
        callback()
    [(recipients, raw)] = smtp.messages
    message = message_from_bytes(raw)
    assert recipients == ["ciso@example.test"]
    assert message["Subject"] == f"[{ticket.number}] Phishing mail reported by finance"
    body = message.get_payload(decode=True).decode()
    assert f"Ticket {ticket.number} was opened and matched the ticket filter 'Tell the CISO'." in body


def test_a_refusing_mail_server_does_not_break_the_ticket(people, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    make_filter("Tell the CISO", [("subject", "contains", "phishing")], [("notify", "ciso@example.test")])
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        ticket = open_ticket(people)
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert "could not e-mail ciso@example.test" in caplog.text


def test_webhook_is_signed_sent_by_a_worker_and_logged(
    people, receiver, immediate, settings, django_capture_on_commit_callbacks
):
    settings.SOCDESK_FILTER_WEBHOOK_SECRET = "global-secret"
    rule = make_filter(
        "SOAR", [("subject", "contains", "phishing")], [("webhook", receiver.url)], webhook_secret="s3cret"
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(people)
    [(headers, body)] = receiver.requests
    assert (
        headers[SIGNATURE_HEADER.lower()] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    )
    payload = json.loads(body)
    assert payload["event"] == "ticket.created" and payload["filter"] == {"id": rule.pk, "name": "SOAR"}
    assert payload["ticket"]["number"] == ticket.number and payload["ticket"]["department"] == "SOC"
    delivery = FilterWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)
    assert headers["x-socdesk-delivery"] == str(delivery.pk)
    # Sent: running the task again sends nothing twice.
    assert webhook_deliver(delivery.pk) == "delivered" and len(receiver.requests) == 1


def test_the_global_secret_signs_when_the_filter_has_none(people, receiver, immediate, settings):
    settings.SOCDESK_FILTER_WEBHOOK_SECRET = "global-secret"
    make_filter("SOAR", [("subject", "contains", "phishing")], [("webhook", receiver.url)])
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        open_ticket(people)
    [(headers, body)] = receiver.requests
    assert headers[SIGNATURE_HEADER.lower()] == (
        "sha256=" + hmac.new(b"global-secret", body, hashlib.sha256).hexdigest()
    )


def test_a_failing_receiver_is_retried_with_backoff_then_given_up(people, receiver, settings):
    settings.SOCDESK_FILTER_WEBHOOK_ATTEMPTS, settings.SOCDESK_FILTER_WEBHOOK_BACKOFF = 3, 30
    make_filter("SOAR", [("subject", "contains", "phishing")], [("webhook", receiver.url)])
    open_ticket(people)  # not committed in this test: the worker task is not run, the periodic job is
    receiver.statuses = [500, 503, 500]
    assert webhooks_retry_due() == 1
    delivery = FilterWebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert delivery.last_error == "The receiver answered HTTP 500 Internal Server Error."
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)
    assert webhooks_retry_due() == 0  # not due yet
    FilterWebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhooks_retry_due() == 1
    delivery.refresh_from_db()
    wait = delivery.next_attempt_at - timezone.now()
    assert delivery.attempts == 2 and timedelta(seconds=55) < wait <= timedelta(seconds=60)  # doubled
    FilterWebhookDelivery.objects.update(next_attempt_at=timezone.now())
    webhooks_retry_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3) and len(receiver.requests) == 3
    assert webhooks_retry_due() == 0


def test_an_unreachable_receiver_is_a_pending_retry_with_a_sentence(people):
    make_filter(
        "SOAR", [("subject", "contains", "phishing")], [("webhook", f"http://127.0.0.1:{free_port()}/")]
    )
    open_ticket(people)
    webhooks_retry_due()
    delivery = FilterWebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.response_code is None
    assert delivery.last_error.startswith(f"Could not reach {delivery.url}: ")


# ---- events ----------------------------------------------------------------------------------------------


def test_reply_received_runs_event_filters(people):
    make_filter(
        "Requester replied",
        [("body", "contains", "urgent")],
        [("add_tags", "customer-waiting"), ("add_note", "The requester says it is urgent.")],
        on_events=["reply_received"],
    )
    ticket = open_ticket(people)
    assert not ticket.tags.filter(name="customer-waiting").exists()  # the opening body does not match
    requester = Actor(kind="user", label="pat@finance.example.test")
    ticket_add_message(actor=requester, ticket=ticket, body="This is urgent, please!")
    assert ticket.tags.filter(name="customer-waiting").exists()
    assert ThreadEntry.objects.filter(
        ticket=ticket,
        kind=EntryKind.NOTE,
        author_label="ticket-filters",
        body="The requester says it is urgent.",
    ).exists()
    ticket_reply(actor=Actor.for_agent(people.alice), ticket=ticket, body="urgent? on it")  # not an event
    assert FilterRule.objects.get().hit_count == 0  # counted after commit, which this test never reaches


def test_severity_raised_runs_event_filters_and_never_loops(people, responders):
    make_filter(
        "Critical to IR",
        [("severity", "equals", "critical")],
        [("set_team", responders.pk), ("set_severity", "high")],
        on_events=["severity_raised"],
    )
    ticket = open_ticket(people, severity="low")
    assert ticket.team is None  # at creation it is low
    ticket_change_severity(actor=Actor.for_agent(people.alice), ticket=ticket, severity="critical")
    ticket.refresh_from_db()
    # The filter assigned and lowered it again; its own severity change was no event for it.
    assert ticket.team == responders and ticket.severity == "high"


def test_a_severity_lowered_is_not_raised(people, responders):
    make_filter(
        "Raised",
        [("severity", "equals", "low")],
        [("set_team", responders.pk)],
        on_events=["severity_raised"],
    )
    ticket = open_ticket(people, severity="high")
    ticket_change_severity(actor=Actor.for_agent(people.alice), ticket=ticket, severity="low")
    ticket.refresh_from_db()
    assert ticket.team is None


def test_reopened_runs_event_filters(people):
    make_filter(
        "Reopened", [("severity", "equals", "critical")], [("add_tags", "reopened")], on_events=["reopened"]
    )
    alice = Actor.for_agent(people.alice)
    ticket = open_ticket(people, severity="high")  # filters with events run at creation too: no match here
    ticket = ticket_change_severity(actor=alice, ticket=ticket, severity="critical")  # not its event
    assert not ticket.tags.filter(name="reopened").exists()
    ticket = ticket_change_status(actor=alice, ticket=ticket, status="in_progress")
    ticket = ticket_change_status(actor=alice, ticket=ticket, status="resolved", resolution="false_positive")
    assert not ticket.tags.filter(name="reopened").exists()
    ticket_change_status(actor=alice, ticket=ticket, status="in_progress")
    assert ticket.tags.filter(name="reopened").exists()


def test_an_event_action_that_changes_nothing_is_skipped(people):
    make_filter(
        "Raise", [("subject", "contains", "phishing")], [("set_severity", "critical")], on_events=["reopened"]
    )
    alice = Actor.for_agent(people.alice)
    ticket = open_ticket(people, severity="critical")
    ticket = ticket_change_status(actor=alice, ticket=ticket, status="in_progress")
    ticket = ticket_change_status(actor=alice, ticket=ticket, status="resolved", resolution="false_positive")
    ticket = ticket_change_status(actor=alice, ticket=ticket, status="in_progress")  # already critical
    assert ticket.status == "in_progress"
    assert not ThreadEntry.objects.filter(ticket=ticket, author_label="ticket-filters").exists()


def test_a_refused_event_action_leaves_a_note_and_the_change_stands(people):
    make_filter(
        "To carol",
        [("subject", "contains", "phishing")],
        [("set_agent", people.carol.pk)],
        on_events=["reopened"],
    )
    alice = Actor.for_agent(people.alice)
    ticket = open_ticket(people)
    ticket = ticket_change_status(actor=alice, ticket=ticket, status="in_progress")
    ticket = ticket_change_status(actor=alice, ticket=ticket, status="resolved", resolution="false_positive")
    ticket = ticket_change_status(actor=alice, ticket=ticket, status="in_progress")
    ticket.refresh_from_db()
    assert ticket.status == "in_progress" and ticket.assignee is None
    note = ThreadEntry.objects.filter(ticket=ticket, author_label="ticket-filters").latest("id")
    assert note.body == (
        "The ticket filter 'To carol' could not set agent: Carol holds no role in SOC, so cannot be given "
        "its tickets; choose another agent, grant them a role there, or transfer the ticket first."
    )


def test_a_long_webhook_url_is_kept_whole(people):
    url = "https://soar.example.test/hook?token=" + "t" * 2100
    make_filter("Long", [("subject", "contains", "phishing")], [("webhook", url)])
    ticket = open_ticket(people)
    delivery = FilterWebhookDelivery.objects.get()
    assert delivery.url == url and delivery.ticket_number == ticket.number
