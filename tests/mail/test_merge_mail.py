"""Merging a ticket opened by e-mail: its messages follow its thread, so a reply to the duplicate's mail
lands on the survivor (and not on the closed duplicate); an undo takes them back."""

from __future__ import annotations

import pytest

from socdesk.core.actor import Actor
from socdesk.mail.inbound import mail_receive
from socdesk.mail.models import InboundMessage, OutboundMessage
from socdesk.tickets import services
from socdesk.tickets.models import ThreadEntry, Ticket
from tests.mail import corpus

pytestmark = pytest.mark.django_db
PIPE = Actor.system("mail:pipe")


def receive(raw: bytes):
    return mail_receive(raw, actor=PIPE, channel="pipe")


def test_a_reply_to_the_duplicates_mail_lands_on_the_survivor_and_goes_back_on_undo(people):
    survivor = services.ticket_create(
        actor=people.actor(people.alice),
        subject="Phishing campaign",
        department=people.soc,
        body="Tracking it.",
    )
    duplicate = receive(corpus.plain("Is this login page real?\n")).ticket
    autoresponse = OutboundMessage.objects.get(ticket=duplicate)
    merge = services.ticket_merge(actor=people.actor(people.alice), source=duplicate, target=survivor)
    assert InboundMessage.objects.get().ticket_id == survivor.pk
    assert merge.moved["mail"] == {"sent": [autoresponse.pk], "received": [InboundMessage.objects.get().pk]}
    assert "2 e-mails" in ThreadEntry.objects.get(pk=merge.target_entry_id).body
    reply = corpus.plain(
        "I also clicked it, sorry.\n",
        subject="Re: Phishing?",
        Message_ID="<m2@example.com>",
        References="<m1@example.com>",
    )
    assert receive(reply).ticket == survivor
    assert Ticket.objects.get(pk=duplicate.pk).status == "closed"  # not reopened by the reply
    services.ticket_merge_undo(actor=people.actor(people.alice), source=duplicate)
    first = InboundMessage.objects.get(message_id="m1@example.com")
    assert first.ticket_id == duplicate.pk
    assert OutboundMessage.objects.get(pk=autoresponse.pk).ticket_id == duplicate.pk
    # The reply that arrived after the merge belongs to the survivor and stays there.
    assert InboundMessage.objects.get(message_id="m2@example.com").ticket_id == survivor.pk
