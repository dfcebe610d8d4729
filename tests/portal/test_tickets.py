"""Requesters see and answer their own tickets only: status and public replies, never notes; another's
ticket, or a note's file, is a 404; writing back reopens a resolved ticket, through the ticket services."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.models import ThreadEntry
from socdesk.tickets.services import collaborator_add, ticket_change_status, ticket_create, ticket_note
from tests.portal.conftest import sign_in


@pytest.fixture
def dana(client, dana_ticket):
    sign_in(client, "dana@example.test")
    return client


def test_the_requester_sees_status_and_public_replies_but_no_note(dana, dana_ticket, people):
    ticket_note(
        actor=Actor.for_agent(people.alice),
        ticket=dana_ticket,
        body="note with a file",
        attachments=[IncomingFile("INTERNAL-ONLY.txt", b"secret")],
    )
    home = dana.get("/portal/")
    page = dana.get(f"/portal/tickets/{dana_ticket.number}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Odd login prompt" in html and "In progress" in html
    assert "It asked again." in html and "we are looking at it" in html
    # The agent's description of a ticket they opened is their note: not shown either.
    assert "A page asked for my password twice." not in html
    for shown in (home.content.decode(), html):
        assert "INTERNAL-ONLY" not in shown and "WS-042" not in shown and "9f86d081" not in shown
    assert page["Cache-Control"] == "no-store"


def test_another_requester_gets_404_on_the_ticket_and_its_files(client, dana_ticket, people):
    other = ticket_create(
        actor=Actor.for_agent(people.alice),
        subject="Erin's laptop",
        department=people.soc,
        body="Mine.",
        requester_email="erin@example.test",
        attachments=[IncomingFile("erin.txt", b"erin's file")],
    )
    sign_in(client, "dana@example.test")
    assert client.get(f"/portal/tickets/{other.number}").status_code == 404
    assert client.get("/portal/tickets/SOC-999999").status_code == 404
    file_id = other.entries.get().attachments.get().pk
    assert client.get(f"/portal/tickets/{other.number}/files/{file_id}").status_code == 404
    assert client.get(f"/portal/tickets/{dana_ticket.number}/files/{file_id}").status_code == 404
    response = client.post(f"/portal/tickets/{other.number}", {"body": "let me in"})
    assert response.status_code == 404 and other.entries.count() == 1
    assert "Erin" not in client.get("/portal/").content.decode()


def test_files_of_public_entries_download_and_of_notes_do_not(dana, dana_ticket, people):
    alice = Actor.for_agent(people.alice)
    from socdesk.tickets.services import ticket_reply

    reply = ticket_reply(
        actor=alice, ticket=dana_ticket, body="Here", attachments=[IncomingFile("steps.txt", b"do this")]
    )
    note = ticket_note(
        actor=alice, ticket=dana_ticket, body="Hidden", attachments=[IncomingFile("hidden.txt", b"no")]
    )
    public = reply.attachments.get()
    download = dana.get(f"/portal/tickets/{dana_ticket.number}/files/{public.pk}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"do this"
    assert download["Content-Disposition"].startswith("attachment")
    hidden = note.attachments.get()
    assert dana.get(f"/portal/tickets/{dana_ticket.number}/files/{hidden.pk}").status_code == 404


def test_a_collaborator_sees_the_ticket_and_writes_back(client, dana_ticket, people):
    alice = Actor.for_agent(people.alice)
    collaborator_add(actor=alice, ticket=dana_ticket, email="manager@example.test")
    ticket_change_status(actor=alice, ticket=dana_ticket, status="resolved", resolution="benign_positive")
    sign_in(client, "manager@example.test")
    page = client.get(f"/portal/tickets/{dana_ticket.number}")
    assert page.status_code == 200 and "INTERNAL-ONLY" not in page.content.decode()
    assert dana_ticket.number in client.get("/portal/").content.decode()
    assert (
        client.post(f"/portal/tickets/{dana_ticket.number}", {"body": "Still seeing it."}).status_code == 302
    )
    entry = dana_ticket.entries.order_by("-id").first()
    assert entry.author_contact.email == "manager@example.test" and entry.kind == "message"
    change = AuditEvent.objects.filter(
        action="ticket.status_changed", target_id=str(dana_ticket.pk)
    ).order_by("-id")[0]
    assert "manager@example.test wrote back in the portal" in str(change.after)


def test_a_reply_reopens_a_resolved_ticket_like_an_e_mail(dana, dana_ticket, people):
    ticket_change_status(
        actor=Actor.for_agent(people.alice),
        ticket=dana_ticket,
        status="resolved",
        resolution="false_positive",
    )
    response = dana.post(
        f"/portal/tickets/{dana_ticket.number}",
        {
            "body": "It happened again this morning.",
            "attachments": [SimpleUploadedFile("shot.png", b"\x89PNG...")],
        },
    )
    assert response.status_code == 302
    dana_ticket.refresh_from_db()
    assert dana_ticket.status == "in_progress" and dana_ticket.resolution == ""
    entry = dana_ticket.entries.order_by("-id").first()
    assert entry.kind == "message" and entry.author_contact == dana_ticket.requester
    assert entry.body == "It happened again this morning." and entry.attachments.get().filename == "shot.png"
    change = AuditEvent.objects.filter(
        action="ticket.status_changed", target_id=str(dana_ticket.pk)
    ).order_by("-id")[0]
    assert change.actor_type == "user" and change.after["status"] == "in_progress"
    assert "portal" in str(change.after)
    page = dana.get(f"/portal/tickets/{dana_ticket.number}")
    assert "Your message was added." in page.content.decode()


def test_a_refused_reply_writes_nothing_and_says_why(dana, dana_ticket, people, settings):
    ticket_change_status(
        actor=Actor.for_agent(people.alice),
        ticket=dana_ticket,
        status="resolved",
        resolution="false_positive",
    )
    settings.ATTACHMENT_MAX_BYTES = 10
    entries = ThreadEntry.objects.count()
    response = dana.post(
        f"/portal/tickets/{dana_ticket.number}",
        {"body": "big file", "attachments": [SimpleUploadedFile("big.bin", b"x" * 50)]},
    )
    assert response.status_code == 400 and b"limit" in response.content
    dana_ticket.refresh_from_db()
    assert dana_ticket.status == "resolved" and ThreadEntry.objects.count() == entries
    empty = dana.post(f"/portal/tickets/{dana_ticket.number}", {"body": "  "})
    assert empty.status_code == 400 and b"Write a message or attach a file." in empty.content
    assert ThreadEntry.objects.count() == entries


def test_people_on_one_ticket_see_the_replies_and_their_own_messages_not_each_others(
    client, dana_ticket, people
):
    """A colleague copied on the ticket, or the reporter of a duplicate merged into it, wrote to the SOC:
    neither sees the other's messages (nor their files) in the portal; both see the agents' replies."""
    collaborator_add(actor=Actor.for_agent(people.alice), ticket=dana_ticket, email="erin@example.test")
    sign_in(client, "erin@example.test")
    upload = SimpleUploadedFile("erin-evidence.txt", b"erin's file")
    assert (
        client.post(
            f"/portal/tickets/{dana_ticket.number}",
            {"body": "ERIN-WROTE: the same mail reached me.", "attachments": upload},
        ).status_code
        == 302
    )
    erin_page = client.get(f"/portal/tickets/{dana_ticket.number}").content.decode()
    assert "ERIN-WROTE" in erin_page and "we are looking at it" in erin_page
    assert "It asked again." not in erin_page  # Dana's message
    erin_file = ThreadEntry.objects.get(body__startswith="ERIN-WROTE").attachments.get()
    dana_message = ThreadEntry.objects.get(body="It asked again.")

    client.post("/portal/sign-out")
    sign_in(client, "dana@example.test")
    dana_page = client.get(f"/portal/tickets/{dana_ticket.number}").content.decode()
    assert "It asked again." in dana_page and "we are looking at it" in dana_page
    assert "ERIN-WROTE" not in dana_page and "erin-evidence" not in dana_page
    assert client.get(f"/portal/tickets/{dana_ticket.number}/files/{erin_file.pk}").status_code == 404
    assert dana_message.author_contact.email == "dana@example.test"
