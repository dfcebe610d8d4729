"""REST v1: a reply's response says what became of its e-mail (the console's sentence, as data)."""

from __future__ import annotations

import pytest

from socdesk.accounts.services import department_set_auto_response
from socdesk.core.actor import Actor
from socdesk.mail.models import OutboundMessage
from socdesk.tickets import services
from tests.api.conftest import ApiClient, make_key

SCOPES = ["tickets:read", "tickets:write"]


@pytest.fixture(autouse=True)
def replies_only(people):
    """These tests are about replies: the SOC department sends no auto-response to new tickets
    (tests/mail/test_autoresponse.py covers those)."""
    department_set_auto_response(actor=Actor.system("test"), department=people.soc, enabled=False)


@pytest.fixture
def api(people):
    return ApiClient(make_key(SCOPES, agent=people.alice))


def test_a_reply_reports_its_queued_email(api, soc_ticket, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        answer = api.post(f"tickets/{soc_ticket.number}/thread", {"kind": "reply", "body": "Blocked."})
    assert answer.status_code == 201
    body = answer.json()
    assert body["email"] == {"status": "queued", "to": ["dana@example.test"], "error": ""}
    # The entry's fields are still there, as before.
    assert body["kind"] == "reply" and body["body"] == "Blocked." and body["attachments"] == []
    assert OutboundMessage.objects.get().status == "queued"


def test_a_note_has_no_email(api, soc_ticket, smtp):
    answer = api.post(f"tickets/{soc_ticket.number}/thread", {"kind": "note", "body": "Internal."})
    assert answer.status_code == 201 and answer.json()["email"] is None
    assert not OutboundMessage.objects.exists()


def test_without_outbound_mail_the_reply_says_not_configured(api, soc_ticket, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    answer = api.post(f"tickets/{soc_ticket.number}/thread", {"kind": "reply", "body": "Blocked."})
    assert answer.status_code == 201
    assert answer.json()["email"] == {"status": "not_configured", "to": [], "error": ""}
    assert not OutboundMessage.objects.exists()


def test_a_requester_without_an_address_says_no_address(api, people, smtp):
    ticket = services.ticket_create(
        actor=people.actor(people.alice), subject="Phone call: VPN down", department=people.soc
    )
    answer = api.post(f"tickets/{ticket.number}/thread", {"kind": "reply", "body": "Fixed."})
    assert answer.json()["email"] == {"status": "no_address", "to": [], "error": ""}
    assert not OutboundMessage.objects.exists()


def test_a_refused_reply_queues_nothing(api, soc_ticket, smtp):
    answer = api.post(f"tickets/{soc_ticket.number}/thread", {"kind": "reply", "body": "  "})
    assert answer.status_code == 400 and "The message is empty." in answer.content.decode()
    assert not OutboundMessage.objects.exists()


def test_a_tools_reply_is_mailed_too(
    people, soc_ticket, smtp, huey_immediate, django_capture_on_commit_callbacks
):
    api = ApiClient(make_key(SCOPES, name="soar"))  # a tool's key, no agent behind it
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(f"tickets/{soc_ticket.number}/thread", {"kind": "reply", "body": "Auto-contained."})
    assert answer.json()["email"] == {"status": "queued", "to": ["dana@example.test"], "error": ""}
    assert len(smtp.messages) == 1 and OutboundMessage.objects.get().status == "sent"
