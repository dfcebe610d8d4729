"""Mail coming in: the people a message was copied to become collaborators, and collaborators may write
to their ticket by the subject token."""

from __future__ import annotations

import pytest

from socdesk.accounts.models import Contact
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.mail.collaborators import copied_addresses
from socdesk.mail.inbound import mail_receive
from socdesk.mail.parse import parse_message
from socdesk.tickets import services
from socdesk.tickets.history import describe_event
from socdesk.tickets.models import Collaborator, Ticket
from socdesk.tickets.selectors import collaborator_addresses
from tests.mail import corpus

PIPE = Actor.system("mail:pipe")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail(settings):
    # Outbound mail counts as configured (agents' replies get queued), delivered nowhere.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "SOCdesk <noreply@soc.example.com>"
    settings.SERVER_EMAIL = "root@localhost"


def receive(raw: bytes):
    return mail_receive(raw, actor=PIPE, channel="pipe")


# The persona SOC department's address is soc@example.test; alice and bob are agents.
COPIED = dict(
    To="SOC <soc@example.test>, Boss <Boss@Example.com>, noreply+SOC-1001@SOC.example.com",
    Cc="Mia Moss <mia@example.com>, alice@example.test, ann.analyst@example.com, SOC@EXAMPLE.TEST, "
    "root@localhost, boss@example.com",
)


def test_a_new_tickets_copied_people_become_collaborators(people):
    receipt = receive(corpus.plain("Is this phishing?\n", **COPIED))
    ticket = receipt.ticket
    assert receipt.outcome == "created"
    # Not SOCdesk's own (the department, the sender address of its mail, plus-tagged or not, any case),
    # not an agent (alice), not the sender (the requester), each once.
    assert collaborator_addresses(ticket) == ["boss@example.com", "mia@example.com"]
    rows = list(Collaborator.objects.filter(ticket=ticket))
    assert {r.source for r in rows} == {"email_cc"}
    assert {r.added_by for r in rows} == {"Ann Analyst <ann.analyst@example.com>"}
    events = AuditEvent.objects.filter(action="ticket.collaborator_added").order_by("id")
    assert [e.after["email"] for e in events] == ["boss@example.com", "mia@example.com"]
    assert {e.actor_label for e in events} == {"Ann Analyst <ann.analyst@example.com>"}
    assert describe_event(events[0]) == "added the collaborator boss@example.com (copied on their e-mail)"
    assert Contact.objects.filter(email="mia@example.com").exists()


def test_a_message_to_an_existing_ticket_adds_whom_it_copies(people, soc_ticket):
    services.collaborator_add(actor=people.actor(people.alice), ticket=soc_ticket, email="mia@example.com")
    raw = corpus.plain(
        "Adding my manager.\n",
        subject=f"Re: [#{soc_ticket.number}]",
        sender="Dana Reyes <dana@example.test>",
        To="soc@example.test",
        Cc="mia@example.com, Dana@example.test, Lee <lee@example.com>",
        Message_ID="<m2@example.com>",
    )
    receipt = receive(raw)
    assert receipt.outcome == "added" and receipt.ticket == soc_ticket
    assert collaborator_addresses(soc_ticket) == ["mia@example.com", "lee@example.com"]
    lee = Collaborator.objects.get(contact__email="lee@example.com")
    assert lee.source == "email_cc" and lee.added_by == "Dana Reyes <dana@example.test>"


def test_an_agents_mail_adds_whom_it_copies_as_that_agent(people, soc_ticket):
    raw = corpus.plain(
        "Looping in the CISO.\n",
        subject=f"Re: [#{soc_ticket.number}]",
        sender="Alice <alice@example.test>",
        To="dana@example.test",
        Cc="ciso@example.com, bob@example.test",
        Message_ID="<a1@example.test>",
    )
    receive(raw)
    assert collaborator_addresses(soc_ticket) == ["ciso@example.com"]
    assert Collaborator.objects.get().added_by == "alice"


def test_with_the_setting_off_nobody_is_added(people, settings):
    settings.SOCDESK_MAIL_CC_COLLABORATORS = False
    receipt = receive(corpus.plain("Is this phishing?\n", **COPIED))
    assert receipt.outcome == "created"
    assert not Collaborator.objects.exists()
    assert not AuditEvent.objects.filter(action="ticket.collaborator_added").exists()


def test_automatic_mail_adds_nobody(people):
    receipt = receive(corpus.plain("I am out of office.\n", Auto_Submitted="auto-replied", **COPIED))
    assert receipt.outcome == "created"  # still a ticket: it may be a tool's alert
    assert not Collaborator.objects.exists()


def test_copied_addresses_drops_own_addresses_and_the_sender():
    parsed = parse_message(corpus.plain("Hi.\n", **COPIED))
    own = ["soc@example.test", "noreply@soc.example.com"]
    assert copied_addresses(parsed, own) == [
        "boss@example.com",
        "mia@example.com",
        "alice@example.test",  # agents are the tickets service's to skip
        "root@localhost",
    ]


def test_at_most_fifty_copied_people_are_taken(people):
    many = ", ".join(f"person{i}@example.com" for i in range(80))
    receipt = receive(corpus.plain("To everyone.\n", To="soc@example.test", Cc=many))
    assert collaborator_addresses(receipt.ticket) == [f"person{i}@example.com" for i in range(50)]


# --- the subject token --------------------------------------------------------------------------------


def test_a_collaborator_may_write_to_the_ticket_by_its_token(people, soc_ticket):
    services.collaborator_add(
        actor=people.actor(people.alice), ticket=soc_ticket, email="mia@example.com", name="Mia Moss"
    )
    raw = corpus.plain(
        "The user clicked the link at 09:14.\n",
        subject=f"Re: hello [#{soc_ticket.number}]",
        sender="Mia M. <MIA@example.com>",
        To="soc@example.test",
        Message_ID="<mia1@example.com>",
    )
    receipt = receive(raw)
    assert receipt.outcome == "added" and receipt.ticket == soc_ticket
    entry = receipt.entry
    # A message from that contact, not from the requester.
    assert entry.kind == "message" and entry.author_contact.email == "mia@example.com"
    assert entry.author_contact != soc_ticket.requester and entry.author_label == "Mia Moss <mia@example.com>"
    event = AuditEvent.objects.filter(action="ticket.message_added").order_by("-id").first()
    assert event.actor_label == "Mia Moss <mia@example.com>"


def test_a_stranger_with_the_token_opens_a_new_ticket(people, soc_ticket):
    services.collaborator_add(actor=people.actor(people.alice), ticket=soc_ticket, email="mia@example.com")
    entries = soc_ticket.entries.count()
    raw = corpus.plain(
        "Let me in.\n",
        subject=f"Re: [#{soc_ticket.number}]",
        sender="eve@evil.example",
        To="soc@example.test",
        Cc="mia@example.com",
        Message_ID="<eve1@evil.example>",
    )
    receipt = receive(raw)
    assert receipt.outcome == "created" and receipt.ticket != soc_ticket
    assert soc_ticket.entries.count() == entries
    # The stranger's Cc lands on the stranger's own new ticket, never on the guessed one.
    assert collaborator_addresses(soc_ticket) == ["mia@example.com"]
    assert collaborator_addresses(receipt.ticket) == ["mia@example.com"]


def test_a_removed_collaborator_can_no_longer_write_by_the_token(people, soc_ticket):
    alice = people.actor(people.alice)
    services.collaborator_add(actor=alice, ticket=soc_ticket, email="mia@example.com")
    services.collaborator_remove(actor=alice, ticket=soc_ticket, email="mia@example.com")
    raw = corpus.plain(
        "Hello?\n",
        subject=f"Re: [#{soc_ticket.number}]",
        sender="mia@example.com",
        Message_ID="<m9@x.example>",
    )
    assert receive(raw).ticket != soc_ticket


def test_a_collaborators_mail_reopens_a_resolved_ticket_in_their_name(people, soc_ticket):
    alice = people.actor(people.alice)
    services.collaborator_add(actor=alice, ticket=soc_ticket, email="mia@example.com")
    services.ticket_change_status(
        actor=alice, ticket=soc_ticket, status="resolved", resolution="false_positive"
    )
    raw = corpus.plain(
        "It happened again.\n",
        subject=f"Re: [#{soc_ticket.number}]",
        sender="mia@example.com",
        Message_ID="<m3@x>",
    )
    receive(raw)
    soc_ticket.refresh_from_db()
    assert soc_ticket.status == "in_progress"
    reopened = AuditEvent.objects.filter(action="ticket.status_changed").order_by("-id").first()
    assert reopened.actor_label == "mia@example.com"
    assert (
        Ticket.objects.get(pk=soc_ticket.pk)
        .entries.filter(body__contains="mia@example.com wrote back")
        .exists()
    )


def test_a_fetched_mailboxs_address_is_never_a_collaborator(people):
    from socdesk.mail.mailboxes import MailboxDefinition, mailbox_create

    mailbox_create(
        actor=Actor.system("test"),
        definition=MailboxDefinition(
            name="phish",
            address="Phish@Reports.example.com",
            host="imap.example.com",
            username="phish",
            password="x",
            department=people.soc,
        ),
    )
    receipt = receive(corpus.plain("Reported.\n", To="phish+SOC-9@reports.example.com", Cc="mia@example.com"))
    assert collaborator_addresses(receipt.ticket) == ["mia@example.com"]
