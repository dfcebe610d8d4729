"""POST /api/tickets.email (osTicket's endpoint) goes through the same inbound service as the pipe."""

from __future__ import annotations

import pytest
from django.test import Client

from socdesk.accounts.services import apikey_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.mail.models import InboundMessage
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket
from tests.mail import corpus

SETUP = Actor.system("test-setup")
pytestmark = pytest.mark.django_db


@pytest.fixture
def key(people):
    return apikey_create(actor=SETUP, name="mail-relay", scopes=["tickets:create"])[1]


def post(raw: bytes, key: str = ""):
    headers = {"X-API-Key": key} if key else {}
    return Client().post(
        "/api/tickets.email",
        data=raw,
        content_type="message/rfc822",
        REMOTE_ADDR="127.0.0.1",
        headers=headers,
    )


def counts():
    return (
        Ticket.objects.count(),
        ThreadEntry.objects.count(),
        Attachment.objects.count(),
        InboundMessage.objects.count(),
        AuditEvent.objects.exclude(action="apikey.created").count(),
    )


def test_a_new_message_is_201_with_the_number_and_a_reply_is_200_with_the_same(key):
    created = post(corpus.plain("Phish?\n"), key)
    assert created.status_code == 201 and created["Content-Type"].startswith("text/plain")
    ticket = Ticket.objects.get(number=created.content.decode())
    assert ticket.source == "email"
    assert AuditEvent.objects.get(action="email.received").actor_label == "key:mail-relay"
    assert InboundMessage.objects.get().channel == "api key:mail-relay"

    reply = corpus.plain("More.\n", Message_ID="<m2@example.com>", In_Reply_To="<m1@example.com>")
    added = post(reply, key)
    assert (added.status_code, added.content.decode()) == (200, ticket.number)
    assert Ticket.objects.count() == 1 and ticket.entries.count() == 2

    again = post(reply, key)  # delivered twice: nothing new, the ticket named
    assert (again.status_code, again.content.decode()) == (200, ticket.number)
    assert ticket.entries.count() == 2


@pytest.mark.parametrize(
    ("sent_key", "status", "message"),
    [
        ("", 401, "Valid API key required"),
        ("sdk_000000000000_wrong", 401, "Valid API key required"),
        ("ingest", 403, "This API key lacks the tickets:create scope."),
    ],
)
def test_a_wrong_key_is_refused_and_nothing_is_written(people, sent_key, status, message):
    if sent_key == "ingest":
        sent_key = apikey_create(actor=SETUP, name="ingest-only", scopes=["alerts:ingest"])[1]
    before = counts()
    response = post(corpus.plain(), sent_key)
    assert (response.status_code, response.content.decode()) == (status, message)
    assert counts() == before


@pytest.mark.parametrize("raw", [b"", b"\r\n  \r\n"])
def test_an_empty_body_is_400_and_nothing_is_written(key, raw):
    before = counts()
    response = post(raw, key)
    assert response.status_code == 400
    assert response.content.decode() == "The body is empty; send a raw RFC 822 email message."
    assert counts() == before


def test_an_oversize_body_is_refused_and_nothing_is_written(key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = counts()
    response = post(corpus.plain("x" * 2000 + "\n"), key)
    assert response.status_code == 413
    assert response.content.decode() == "The request body is larger than the 1,000 byte limit."
    assert counts() == before
