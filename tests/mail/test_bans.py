"""The ban list: entries checked and audited, mail from a banned sender refused with nothing written but its
row (the pipe exits 0: no bounce to a spammer), the "ban sender" filter action, the admin page."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from socdesk.accounts.models import Contact
from socdesk.accounts.services import apikey_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.mail.bans import ban_add, ban_for, ban_normalise, ban_remove
from socdesk.mail.inbound import mail_receive
from socdesk.mail.models import BannedSender, InboundMessage, OutboundMessage
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket
from socdesk.tickets.services import ticket_create
from tests.console_helpers import client_for
from tests.mail import corpus
from tests.routing.test_apply import make_filter

SETUP = Actor.system("test-setup")
PIPE = Actor.system("mail:pipe")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail_delivers(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def counts():
    """Everything a received message could write, but its own row."""
    return (
        Ticket.objects.count(),
        ThreadEntry.objects.count(),
        Attachment.objects.count(),
        Contact.objects.count(),
        OutboundMessage.objects.count(),
        AuditEvent.objects.exclude(action__startswith="mail.sender_").count(),
    )


@pytest.mark.parametrize(
    "entry, stored",
    [
        ("Spam@Example.COM", "spam@example.com"),
        ("<spam@example.com>", "spam@example.com"),
        ("*@Example.com", "example.com"),
        ("@example.com", "example.com"),
        ("mail.example.com.", "mail.example.com"),
    ],
)
def test_an_entry_is_an_address_or_a_domain(entry, stored):
    assert ban_normalise(entry) == stored


@pytest.mark.parametrize(
    "entry", ["", "example", "a b@example.com", "*@", "spam@", "x@-bad-.com", "http://x.com"]
)
def test_anything_else_is_refused_with_what_to_write(entry):
    with pytest.raises(ServiceError, match=re.escape("write spam@example.com for one address")):
        ban_normalise(entry)


def test_adding_and_removing_are_audited_and_a_second_ban_is_refused(people):
    ban = ban_add(actor=SETUP, entry="*@spam.example.test", note="Invoice spam")
    assert (ban.value, ban.is_domain, ban.note, ban.created_by) == (
        "spam.example.test",
        True,
        "Invoice spam",
        "test-setup",
    )
    with pytest.raises(ServiceError, match=re.escape("spam.example.test is already banned")):
        ban_add(actor=SETUP, entry="spam.example.test")
    assert BannedSender.objects.count() == 1
    assert ban_for("anyone@SPAM.example.test") == ban and ban_for("anyone@example.test") is None
    assert ban_for("anyone@sub.spam.example.test") is None  # a domain covers itself, not its subdomains
    ban_remove(actor=SETUP, ban_id=ban.pk)
    assert not BannedSender.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="mail.").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["mail.sender_banned", "mail.sender_unbanned"]
    with pytest.raises(NotFound):
        ban_remove(actor=SETUP, ban_id=ban.pk)


def test_mail_from_a_banned_sender_is_refused_and_nothing_is_written(people):
    ban_add(actor=SETUP, entry="ann.analyst@example.com")
    before = counts()
    raw = corpus.plain("Buy now.\n", Message_ID="<spam-1@example.com>")
    receipt = mail_receive(raw, actor=PIPE, channel="pipe")
    assert (receipt.outcome, receipt.ticket, receipt.line()) == (
        "banned",
        None,
        "refused (the sender is banned)",
    )
    assert counts() == before
    row = InboundMessage.objects.get()
    assert (row.message_id, row.outcome, row.ticket, row.from_address) == (
        "spam-1@example.com",
        "banned",
        None,
        "ann.analyst@example.com",
    )
    # Delivered again (a mail server retrying): a duplicate, still nothing written.
    assert mail_receive(raw, actor=PIPE, channel="pipe").outcome == "duplicate"
    assert counts() == before and InboundMessage.objects.count() == 1


def test_a_banned_domain_refuses_a_reply_to_an_existing_ticket_too(people):
    first = mail_receive(corpus.plain("Hello.\n"), actor=PIPE, channel="pipe")
    ban_add(actor=SETUP, entry="example.com")
    reply = corpus.plain("More.\n", Message_ID="<m2@example.com>", In_Reply_To="<m1@example.com>")
    assert mail_receive(reply, actor=PIPE, channel="pipe").outcome == "banned"
    assert first.ticket.entries.count() == 1


def test_the_pipe_exits_0_for_a_banned_sender(people, monkeypatch):
    ban_add(actor=SETUP, entry="example.com")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(corpus.plain("Spam.\n"))))
    out = io.StringIO()
    call_command("mail", "pipe", stdout=out)  # no CommandError: exit code 0, the mail server drops it
    assert out.getvalue().strip() == "refused (the sender is banned)"
    assert not Ticket.objects.exists()


def test_the_email_api_answers_200_for_a_banned_sender(people):
    key = apikey_create(actor=SETUP, name="mail-relay", scopes=["tickets:create"])[1]
    ban_add(actor=SETUP, entry="example.com")
    answer = Client().post(
        "/api/tickets.email",
        data=corpus.plain("Spam.\n"),
        content_type="message/rfc822",
        headers={"X-API-Key": key},
    )
    assert (answer.status_code, answer.content.decode()) == (200, "refused (the sender is banned)")
    assert not Ticket.objects.exists()


# --- the "ban sender" filter action -------------------------------------------------------------------


def test_a_ban_sender_filter_bans_the_address_and_refuses_the_mail(people):
    make_filter("Crypto spam", [("subject", "contains", "bitcoin")], ["ban_sender"])
    before = counts()
    raw = corpus.plain("Double your bitcoin.\n", Subject="Free bitcoin", Message_ID="<btc-1@example.com>")
    receipt = mail_receive(raw, actor=PIPE, channel="pipe")
    assert receipt.outcome == "banned" and receipt.ticket is None
    ban = BannedSender.objects.get()
    assert (ban.value, ban.note, ban.created_by) == (
        "ann.analyst@example.com",
        "Ticket filter 'Crypto spam'",
        "ticket-filters",
    )
    assert counts() == before  # no ticket, contact, entry or mail; only the ban's own audit event
    assert AuditEvent.objects.get(action="mail.sender_banned").actor_label == "ticket-filters"
    # The next message from the address is refused by the ban list itself, whatever its subject.
    later = corpus.plain("Hello again.\n", Subject="Question", Message_ID="<btc-2@example.com>")
    assert mail_receive(later, actor=PIPE, channel="pipe").outcome == "banned"


def test_a_ban_sender_filter_refuses_a_ticket_from_another_channel_like_reject(people):
    make_filter("Crypto spam", [("subject", "contains", "bitcoin")], ["ban_sender"])
    with pytest.raises(PermissionDenied, match="Crypto spam"):
        ticket_create(
            actor=Actor.for_agent(people.alice),
            subject="Free bitcoin",
            department=people.soc,
            requester_email="pat@example.test",
        )
    assert not Ticket.objects.exists() and not BannedSender.objects.exists()


# --- the admin page -----------------------------------------------------------------------------------


def test_the_admin_adds_lists_and_removes_bans(people):
    admin = client_for(people.admin)
    added = admin.post(
        "/admin-area/banned-senders", {"entry": "*@spam.example.test", "note": "spam"}, follow=True
    )
    page = added.content.decode()
    assert "spam.example.test is banned" in page and "*@spam.example.test" in page
    ban = BannedSender.objects.get()
    assert AuditEvent.objects.get(action="mail.sender_banned").actor_label == "admin"

    refused = admin.post("/admin-area/banned-senders", {"entry": "not an address"})
    assert refused.status_code == 400 and "neither an e-mail address nor a domain" in refused.content.decode()
    assert BannedSender.objects.count() == 1

    removed = admin.post(f"/admin-area/banned-senders/{ban.pk}/delete", follow=True)
    assert "Removed from the ban list." in removed.content.decode() and not BannedSender.objects.exists()
    assert admin.post(f"/admin-area/banned-senders/{ban.pk}/delete").status_code == 404


def test_the_ban_list_is_a_404_for_agents(people):
    ban = ban_add(actor=SETUP, entry="spam.example.test")
    alice = client_for(people.alice)
    assert alice.get("/admin-area/banned-senders").status_code == 404
    assert alice.post("/admin-area/banned-senders", {"entry": "x@example.test"}).status_code == 404
    assert alice.post(f"/admin-area/banned-senders/{ban.pk}/delete").status_code == 404
    assert list(BannedSender.objects.values_list("value", flat=True)) == ["spam.example.test"]
