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


def _ticket(people, subject: str, requester: str) -> Ticket:
    return services.ticket_create(
        actor=people.actor(people.alice),
        subject=subject,
        department=people.soc,
        body="Opened by hand.",
        requester_email=requester,
    )


def _by_token(number: str, sender: str, message_id: str) -> bytes:
    return corpus.plain(
        "More about it.\n", subject=f"Re: Phishing? [#{number}]", sender=sender, Message_ID=f"<{message_id}>"
    )


def test_mail_naming_the_duplicate_by_its_token_lands_on_the_survivor(people):
    survivor = _ticket(people, "Phishing campaign", "lead@example.com")
    duplicate = _ticket(people, "Is this login page real?", "ann.analyst@example.com")
    services.ticket_merge(actor=people.actor(people.alice), source=duplicate, target=survivor)

    # The duplicate's requester is a collaborator of the survivor now: their mail lands there.
    receipt = receive(_by_token(duplicate.number, "Ann <ann.analyst@example.com>", "t1@example.com"))
    assert (receipt.outcome, receipt.ticket) == ("added", survivor)
    assert ThreadEntry.objects.get(pk=receipt.entry.pk).ticket_id == survivor.pk
    assert Ticket.objects.get(pk=duplicate.pk).status == "closed"  # the duplicate is not reopened
    # The survivor's own requester may use the duplicate's number too (checked against the survivor).
    assert receive(_by_token(duplicate.number, "lead@example.com", "t2@example.com")).ticket == survivor


def test_a_stranger_naming_the_duplicate_opens_a_new_ticket(people):
    survivor = _ticket(people, "Phishing campaign", "lead@example.com")
    duplicate = _ticket(people, "Is this login page real?", "ann.analyst@example.com")
    services.ticket_merge(actor=people.actor(people.alice), source=duplicate, target=survivor)
    entries = ThreadEntry.objects.filter(ticket=survivor).count()

    receipt = receive(_by_token(duplicate.number, "mallory@elsewhere.example", "t3@example.com"))
    assert receipt.outcome == "created"
    assert receipt.ticket not in (survivor, duplicate)
    assert ThreadEntry.objects.filter(ticket=survivor).count() == entries


def test_mail_follows_a_chain_of_merges_and_each_undo_takes_it_back(people):
    first = _ticket(people, "Report one", "ann.analyst@example.com")
    middle = _ticket(people, "Report two", "lead@example.com")
    last = _ticket(people, "Campaign", "owner@example.com")
    alice = people.actor(people.alice)
    services.ticket_merge(actor=alice, source=first, target=middle)
    services.ticket_merge(actor=alice, source=middle, target=last)
    sender = "ann.analyst@example.com"

    assert receive(_by_token(first.number, sender, "c1@example.com")).ticket == last
    services.ticket_merge_undo(actor=alice, source=middle)
    assert receive(_by_token(first.number, sender, "c2@example.com")).ticket == middle
    services.ticket_merge_undo(actor=alice, source=first)
    receipt = receive(_by_token(first.number, sender, "c3@example.com"))
    assert receipt.ticket == first
    # The reply reopened the ticket that is its own again.
    assert Ticket.objects.get(pk=first.pk).status != "closed"


def test_a_reply_to_mail_sent_on_the_duplicate_after_the_merge_lands_on_the_survivor(people):
    survivor = _ticket(people, "Phishing campaign", "lead@example.com")
    duplicate = _ticket(people, "Is this login page real?", "ann.analyst@example.com")
    services.ticket_merge(actor=people.actor(people.alice), source=duplicate, target=survivor)
    # An agent answers on the closed duplicate after the merge moved its mail: that message stays with
    # the duplicate, and the requester's reply to it still belongs to the survivor.
    services.ticket_reply(actor=people.actor(people.alice), ticket=duplicate, body="We merged your report.")
    late = OutboundMessage.objects.get(ticket=duplicate)
    reply = corpus.plain(
        "Thanks.\n",
        subject="Re: merged",
        sender="ann.analyst@example.com",
        Message_ID="<r1@example.com>",
        In_Reply_To=late.message_id,
    )
    assert receive(reply).ticket == survivor
