"""Mail to a closed ticket, through the real `mail_receive` path: it reopens the ticket, or (the
department's or the installation's choice) opens a new ticket linked to it; a resolved ticket always
reopens. The setting is kept through an audited service, the admin area and configuration as code."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

from socdesk.accounts.models import Department
from socdesk.accounts.services import department_set_mail_replies
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.mail.inbound import mail_receive
from socdesk.mail.models import InboundMessage, OutboundMessage
from socdesk.ops.config.document import ConfigInvalid
from socdesk.ops.config.engine import config_apply, config_export
from socdesk.tickets import services
from socdesk.tickets.history import describe_event
from socdesk.tickets.models import Ticket, TicketLink
from socdesk.tickets.selectors import collaborator_addresses
from tests.core.processes import REPO, socdesk_env
from tests.mail import corpus

PIPE = Actor.system("mail:pipe")
SETUP = Actor.system("test-setup")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail_delivers(settings):
    # Outbound mail counts as configured (replies and auto-responses queued), delivered nowhere.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def close(people, ticket, status="closed") -> Ticket:
    alice = Actor.for_agent(people.alice)
    ticket = services.ticket_change_status(
        actor=alice, ticket=ticket, status="resolved", resolution="false_positive"
    )
    if status == "closed":
        ticket = services.ticket_change_status(actor=alice, ticket=ticket, status="closed")
    return ticket


def agent_reply(people, ticket) -> OutboundMessage:
    entry = services.ticket_reply(actor=Actor.for_agent(people.alice), ticket=ticket, body="Blocked it.")
    return OutboundMessage.objects.get(entry=entry)


def answer(sent: OutboundMessage, ticket, body="It happened again.\n", sender="dana@example.test", **h):
    """The requester's mail client answering SOCdesk's message: threaded by In-Reply-To."""
    h.setdefault("Message_ID", "<again-1@example.test>")
    h.setdefault("To", ticket.department.email)  # SOCdesk's own address: nobody else copied
    return corpus.plain(
        body,
        subject=f"Re: {ticket.subject} [#{ticket.number}]",
        sender=sender,
        In_Reply_To=sent.message_id,
        **h,
    )


def new_policy(people, department=None, value="new"):
    department_set_mail_replies(
        actor=SETUP, department=department or people.soc, closed_reply=value, reopen_ack=True
    )


def test_with_new_a_reply_to_a_closed_ticket_opens_a_linked_ticket(people, soc_ticket):
    services.collaborator_add(actor=Actor.for_agent(people.alice), ticket=soc_ticket, email="mia@example.com")
    sent = agent_reply(people, soc_ticket)
    closed = close(people, soc_ticket)
    new_policy(people)

    receipt = mail_receive(answer(sent, closed), actor=PIPE, channel="pipe")

    assert receipt.outcome == "created" and receipt.line() == f"created {receipt.ticket.number}"
    follow_up = receipt.ticket
    assert follow_up != closed
    closed.refresh_from_db()
    assert closed.status == "closed"  # left as evidence, untouched
    assert not closed.entries.filter(body="It happened again.").exists()
    # Its department, requester and collaborators; the subject without the closed ticket's token.
    assert follow_up.department == people.soc and follow_up.source == "email"
    assert follow_up.requester == closed.requester
    assert follow_up.subject == "Re: Suspicious PowerShell on WS-042"
    assert collaborator_addresses(follow_up) == ["mia@example.com"]
    assert follow_up.extra["follow_up_of"] == closed.number
    [first] = follow_up.entries.filter(kind="message")
    assert first.body == "It happened again." and first.author_contact == closed.requester
    assert first.attachments.filter(filename="original.eml").exists()
    [link] = TicketLink.objects.all()
    assert {link.from_ticket, link.to_ticket} == {follow_up, closed} and link.kind == "related"
    # Audited: the link on both, the follow-up on the closed one, the receipt on the new one.
    linked = AuditEvent.objects.filter(action="ticket.linked")
    assert sorted(e.after["ticket"] for e in linked) == sorted([closed.number, follow_up.number])
    opened = AuditEvent.objects.get(action="email.follow_up_opened")
    assert opened.target_id == str(closed.pk) and opened.after["ticket"] == follow_up.number
    assert "dana@example.test" in opened.actor_label
    assert describe_event(opened) == (
        f"wrote back by e-mail to the closed ticket: opened {follow_up.number} for it"
    )
    received = AuditEvent.objects.get(action="email.received")
    assert received.target_id == str(follow_up.pk)
    assert describe_event(received).endswith(f"(a reply to the closed {closed.number})")
    assert InboundMessage.objects.get().ticket == follow_up

    # The follow-up's own mail threads onto it, not onto the closed ticket.
    again = corpus.plain("More.\n", Message_ID="<again-2@example.test>", In_Reply_To="<again-1@example.test>")
    assert mail_receive(again, actor=PIPE, channel="pipe").ticket == follow_up
    assert Ticket.objects.count() == 2


def test_with_new_a_resolved_ticket_still_reopens(people, soc_ticket):
    sent = agent_reply(people, soc_ticket)
    resolved = close(people, soc_ticket, status="resolved")
    new_policy(people)
    receipt = mail_receive(answer(sent, resolved), actor=PIPE, channel="pipe")
    assert receipt.outcome == "added" and receipt.ticket == resolved
    resolved.refresh_from_db()
    assert resolved.status == "in_progress" and Ticket.objects.count() == 1
    assert not TicketLink.objects.exists()


def test_reopen_is_the_default_and_a_department_overrides_the_installation(people, soc_ticket, settings):
    sent = agent_reply(people, soc_ticket)
    closed = close(people, soc_ticket)
    # Nothing set anywhere: reopen, as before.
    assert mail_receive(answer(sent, closed), actor=PIPE, channel="pipe").outcome == "added"
    closed.refresh_from_db()
    assert closed.status == "in_progress"

    # The installation says new; the department (empty) follows it.
    closed = close(people, closed)
    settings.SOCDESK_MAIL_CLOSED_REPLY = "new"
    raw = answer(sent, closed, Message_ID="<again-3@example.test>")
    assert mail_receive(raw, actor=PIPE, channel="pipe").outcome == "created"

    # The department says reopen: it wins over the installation's new.
    new_policy(people, value="reopen")
    raw = answer(sent, closed, Message_ID="<again-4@example.test>")
    receipt = mail_receive(raw, actor=PIPE, channel="pipe")
    assert (receipt.outcome, receipt.ticket) == ("added", closed)


def test_a_collaborators_reply_opens_the_ticket_for_the_requester_as_their_message(people, soc_ticket):
    services.collaborator_add(actor=Actor.for_agent(people.alice), ticket=soc_ticket, email="mia@example.com")
    closed = close(people, soc_ticket)
    new_policy(people)
    raw = corpus.plain(
        "Me too.\n",
        subject=f"Re: [#{closed.number}]",
        sender="mia@example.com",
        Message_ID="<mia@example.com>",
        To=closed.department.email,
    )
    follow_up = mail_receive(raw, actor=PIPE, channel="pipe").ticket
    assert follow_up != closed and follow_up.requester == closed.requester
    assert follow_up.subject == "Re: Suspicious PowerShell on WS-042"  # nothing but the token: the old one
    [message] = follow_up.entries.filter(kind="message")
    assert message.body == "Me too." and message.author_contact.email == "mia@example.com"
    assert collaborator_addresses(follow_up) == ["mia@example.com"]


def test_the_pipe_says_created_for_a_follow_up(people, soc_ticket, monkeypatch):
    sent = agent_reply(people, soc_ticket)
    closed = close(people, soc_ticket)
    new_policy(people)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(answer(sent, closed))))
    out = io.StringIO()
    call_command("mail", "pipe", stdout=out)
    follow_up = Ticket.objects.exclude(pk=closed.pk).get()
    assert out.getvalue().strip() == f"created {follow_up.number}"


def test_a_follow_up_a_ticket_filter_rejects_is_refused_whole(people, soc_ticket):
    from tests.routing.test_apply import make_filter

    services.collaborator_add(actor=Actor.for_agent(people.alice), ticket=soc_ticket, email="mia@example.com")
    sent = agent_reply(people, soc_ticket)
    closed = close(people, soc_ticket)
    new_policy(people)
    make_filter("No repeats", [("body", "contains", "happened again")], ["reject"])
    before = (Ticket.objects.count(), TicketLink.objects.count(), InboundMessage.objects.count())
    events = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied, match="ticket filter"):
        mail_receive(answer(sent, closed), actor=PIPE, channel="pipe")
    # No ticket, link, collaborator copy, imported row or audit event; the closed ticket as it was.
    assert (Ticket.objects.count(), TicketLink.objects.count(), InboundMessage.objects.count()) == before
    assert AuditEvent.objects.count() == events
    closed.refresh_from_db()
    assert closed.status == "closed"


# --- the setting ---------------------------------------------------------------------------------------


def test_the_setting_is_audited_and_a_bad_value_refused_with_nothing_written(people):
    department_set_mail_replies(actor=SETUP, department=people.soc, closed_reply="new", reopen_ack=False)
    event = AuditEvent.objects.get(action="department.mail_replies_changed")
    assert (event.before, event.after) == (
        {"closed_reply": "", "reopen_ack": True},
        {"closed_reply": "new", "reopen_ack": False},
    )
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError, match="Unknown closed-ticket reply handling 'archive'"):
        department_set_mail_replies(
            actor=SETUP, department=people.soc, closed_reply="archive", reopen_ack=True
        )
    soc = Department.objects.get(pk=people.soc.pk)
    assert (soc.closed_reply, soc.reopen_ack) == ("new", False)
    assert AuditEvent.objects.count() == events
    # The same values again: nothing changes, no event.
    department_set_mail_replies(actor=SETUP, department=people.soc, closed_reply="new", reopen_ack=False)
    assert AuditEvent.objects.count() == events


def test_the_admin_sets_it_on_the_department_page_and_an_agent_cannot(people, password):
    admin = Client()
    assert admin.login(username="admin", password=password)
    page = admin.get(f"/admin-area/departments/{people.soc.pk}")
    assert page.status_code == 200
    assert b"e-mail to a closed ticket" in page.content and b"Acknowledge reopening replies" in page.content
    form = {
        "name": "SOC",
        "email": people.soc.email,
        "description": "",
        "auto_response": "on",
        "closed_reply": "new",
    }
    response = admin.post(f"/admin-area/departments/{people.soc.pk}", form)
    assert response.status_code == 302
    soc = Department.objects.get(pk=people.soc.pk)
    assert (soc.closed_reply, soc.reopen_ack) == ("new", False)
    assert AuditEvent.objects.get(action="department.mail_replies_changed").actor_label == "admin"

    refused = admin.post(f"/admin-area/departments/{people.soc.pk}", {**form, "closed_reply": "archive"})
    assert refused.status_code == 400 and b"archive is not one of the available choices" in refused.content
    assert Department.objects.get(pk=people.soc.pk).closed_reply == "new"

    alice = Client()
    assert alice.login(username="alice", password=password)
    assert alice.post(
        f"/admin-area/departments/{people.soc.pk}", {**form, "closed_reply": ""}
    ).status_code in (
        403,
        404,
    )
    assert Department.objects.get(pk=people.soc.pk).closed_reply == "new"


def test_configuration_as_code_exports_and_applies_it(people):
    data = yaml.safe_load(config_export())
    soc = next(d for d in data["departments"] if d["name"] == "SOC")
    assert (soc["closed_reply"], soc["reopen_ack"]) == ("", True)
    soc["closed_reply"], soc["reopen_ack"] = "new", False
    config_apply(actor=SETUP, text=yaml.safe_dump(data))
    stored = Department.objects.get(name="SOC")
    assert (stored.closed_reply, stored.reopen_ack) == ("new", False)
    assert AuditEvent.objects.filter(action="department.mail_replies_changed").count() == 1

    soc["closed_reply"] = "archive"
    with pytest.raises(ConfigInvalid) as refused:
        config_apply(actor=SETUP, text=yaml.safe_dump(data))
    assert "closed_reply" in str(refused.value) and "must be one of , reopen, new" in str(refused.value)
    assert Department.objects.get(name="SOC").closed_reply == "new"


@pytest.mark.parametrize(("value", "read"), [("NEW", "new"), (" reopen ", "reopen")])
def test_the_installation_default_is_read_from_the_environment(tmp_path, value, read):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SOCDESK_MAIL_CLOSED_REPLY)",
        ],
        env=socdesk_env(tmp_path, SOCDESK_MAIL_CLOSED_REPLY=value),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == read


def test_a_bad_installation_default_stops_the_start_with_a_sentence(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=socdesk_env(tmp_path, SOCDESK_MAIL_CLOSED_REPLY="archive"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "ImproperlyConfigured" in done.stderr
    assert "SOCDESK_MAIL_CLOSED_REPLY is 'archive': use reopen" in done.stderr
