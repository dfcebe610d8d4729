"""Canned responses: services (audited, refused with the line of a template error, nothing half-written),
who sees which (alice and bob in SOC, carol in IT gets 404), the composer's picker and insert, their files
going with the reply, and a ticket filter's "reply with canned response" mailed like any reply."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.mail.canned import (
    canned_attachment_delete,
    canned_attachments_add,
    canned_render,
    canned_response_create,
    canned_response_delete,
    canned_response_update,
    canned_responses_visible_to,
)
from socdesk.mail.models import CannedAttachment, CannedResponse, OutboundMessage
from socdesk.routing.models import FilterRule
from socdesk.routing.services.filters import FilterDefinition, filter_create
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.models import Attachment, ThreadEntry, Ticket
from socdesk.tickets.services import ticket_create
from tests.adminarea.test_routing_filters import filter_form
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db
SETUP = Actor.system("test-setup")
BODY = "Hello {{ requester.name }},\n\nWe are looking into {{ ticket.number }} ({{ ticket.subject }})."


@pytest.fixture(autouse=True)
def _mail_delivers(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def responses(people):
    """A global response, one of SOC's with a file, one of IT's."""
    admin = Actor.for_agent(people.admin)
    return {
        "global": canned_response_create(actor=admin, title="Acknowledge", body=BODY),
        "soc": canned_response_create(
            actor=admin,
            title="Password reset done",
            body="{{ requester.name }}, your password was reset. See the attached guide.",
            department=people.soc,
            attachments=[IncomingFile("reset-guide.txt", b"1. Sign in\n2. Choose a new password\n")],
        ),
        "it": canned_response_create(
            actor=admin, title="Laptop ready", body="Your laptop is ready.", department=people.it
        ),
    }


def test_create_stores_audits_and_renders_the_ticket_values(people, soc_ticket, responses):
    canned = responses["global"]
    event = AuditEvent.objects.get(action="canned_response.created", target_id=str(canned.pk))
    assert event.after["title"] == "Acknowledge"
    text = canned_render(canned, soc_ticket, agent=people.alice)
    assert text == (
        f"Hello Dana Reyes,\n\nWe are looking into {soc_ticket.number} (Suspicious PowerShell on WS-042)."
    )
    stored = CannedAttachment.objects.get(canned_response=responses["soc"])
    assert (stored.filename, stored.size, stored.content_type) == ("reset-guide.txt", 36, "text/plain")


def test_a_template_error_is_refused_with_its_line_and_nothing_is_written(people):
    with pytest.raises(ServiceError) as refused:
        canned_response_create(
            actor=Actor.for_agent(people.admin),
            title="Broken",
            body="Hello {{ requester.name }},\n\n{% if ticket.number %}never closed",
            attachments=[IncomingFile("a.txt", b"x")],
        )
    assert "line 3" in refused.value.message
    assert "body" in refused.value.fields
    assert not CannedResponse.objects.exists()
    assert not CannedAttachment.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="canned_response.").exists()


@pytest.mark.parametrize(
    ("body", "wanted"),
    [
        ("{% load static %}{% static 'x' %}", "static"),
        ("{% include '/etc/passwd' %}", "/etc/passwd"),
        ("{{ ticket.number|nosuchfilter }}", "nosuchfilter"),
    ],
)
def test_the_sandbox_refuses_loads_includes_and_unknown_filters(people, body, wanted):
    with pytest.raises(ServiceError) as refused:
        canned_response_create(actor=Actor.for_agent(people.admin), title="Sneaky", body=body)
    assert wanted in refused.value.message
    assert not CannedResponse.objects.exists()


def test_empty_title_or_body_and_duplicates_are_refused(people, responses):
    admin = Actor.for_agent(people.admin)
    with pytest.raises(ServiceError) as refused:
        canned_response_create(actor=admin, title="  ", body="  ")
    assert set(refused.value.fields) == {"title", "body"}
    with pytest.raises(ServiceError, match="already a canned response 'Acknowledge'"):
        canned_response_create(actor=admin, title="Acknowledge", body="Other")
    # The same title in a department is another response.
    canned_response_create(actor=admin, title="Acknowledge", body="SOC's own", department=people.soc)
    assert CannedResponse.objects.filter(title="Acknowledge").count() == 2


def test_only_admins_manage_them(people, responses):
    with pytest.raises(PermissionDenied):
        canned_response_create(actor=Actor.for_agent(people.alice), title="Mine", body="x")
    with pytest.raises(PermissionDenied):
        canned_response_delete(actor=Actor.for_agent(people.alice), canned=responses["soc"])
    assert CannedResponse.objects.count() == 3


def test_update_and_delete_are_audited(people, responses):
    admin = Actor.for_agent(people.admin)
    canned = responses["soc"]
    removed = canned.attachments.get().pk
    canned_response_update(
        actor=admin,
        canned=canned,
        title="Password reset",
        body="Done, {{ requester.name }}.",
        department=None,
        attachments=[IncomingFile("policy.txt", b"policy")],
        remove_attachment_ids=[removed],
    )
    canned.refresh_from_db()
    assert (canned.title, canned.department) == ("Password reset", None)
    assert [a.filename for a in canned.attachments.all()] == ["policy.txt"]
    event = AuditEvent.objects.get(action="canned_response.updated")
    assert event.before["title"] == "Password reset done" and event.after["department"] is None
    pk = canned.pk
    canned_response_delete(actor=admin, canned=canned)
    assert not CannedResponse.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(action="canned_response.deleted", target_id=str(pk)).exists()


def test_who_sees_which(people, responses):
    def titles(agent):
        return {c.title for c in canned_responses_visible_to(agent)}

    assert titles(people.alice) == titles(people.bob) == {"Acknowledge", "Password reset done"}
    assert titles(people.carol) == {"Acknowledge", "Laptop ready"}
    assert titles(people.admin) == {"Acknowledge", "Password reset done", "Laptop ready"}


def test_picker_lists_the_tickets_responses_and_filters_by_typing(people, soc_ticket, responses):
    client = client_for(people.alice)
    page = client.get(f"/mail/tickets/{soc_ticket.number}/canned").content.decode()
    assert "Acknowledge" in page and "Password reset done" in page and "Laptop ready" not in page
    page = client.get(f"/mail/tickets/{soc_ticket.number}/canned", {"q": "password"}).content.decode()
    assert "Password reset done" in page and "Acknowledge" not in page
    page = client.get(f"/mail/tickets/{soc_ticket.number}/canned", {"q": "zzz"}).content.decode()
    assert "No canned response matches" in page


def test_insert_renders_for_the_ticket_and_carol_gets_404(people, soc_ticket, responses):
    url = f"/mail/tickets/{soc_ticket.number}/canned/{responses['global'].pk}"
    page = client_for(people.bob).get(url).content.decode()
    assert f"We are looking into {soc_ticket.number}" in page and "Hello Dana Reyes" in page
    # carol: the ticket is not hers to see, whatever the response.
    assert client_for(people.carol).get(url).status_code == 404
    assert client_for(people.carol).get(f"/mail/tickets/{soc_ticket.number}/canned").status_code == 404
    # IT's response is not offered on a SOC ticket, even to the admin.
    it_url = f"/mail/tickets/{soc_ticket.number}/canned/{responses['it'].pk}"
    assert client_for(people.admin).get(it_url).status_code == 404


def test_the_files_of_a_picked_response_go_with_the_reply_and_its_mail(people, soc_ticket, responses):
    client = client_for(people.alice)
    response = client.post(
        f"/tickets/{soc_ticket.number}/compose",
        {
            "version": soc_ticket.version,
            "kind": "reply",
            "body": "Your password was reset.",
            "canned": [responses["soc"].pk],
        },
    )
    assert response.status_code == 302
    entry = ThreadEntry.objects.get(ticket=soc_ticket, kind="reply")
    assert [a.filename for a in entry.attachments.all()] == ["reset-guide.txt"]
    message = OutboundMessage.objects.get(entry=entry)
    assert message.attachment_ids == [entry.attachments.get().pk]


def test_a_response_out_of_sight_is_refused_and_nothing_is_written(people, soc_ticket, responses):
    response = client_for(people.alice).post(
        f"/tickets/{soc_ticket.number}/compose",
        {"version": soc_ticket.version, "kind": "reply", "body": "Here.", "canned": [responses["it"].pk]},
    )
    assert response.status_code == 404
    assert "no longer available" in response.content.decode()
    assert not ThreadEntry.objects.filter(ticket=soc_ticket, kind="reply").exists()
    assert not Attachment.objects.exists()


def test_a_filter_replies_with_a_canned_response_mailed_like_any_reply(
    people, responses, huey_immediate, django_capture_on_commit_callbacks
):
    filter_create(
        actor=SETUP,
        definition=FilterDefinition(
            name="Acknowledge phishing reports",
            conditions=[{"field": "subject", "operator": "contains", "value": "phishing"}],
            actions=[{"type": "reply_canned", "value": responses["soc"].pk}],
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_create(
            actor=Actor.for_agent(people.alice),
            subject="Phishing mail reported by finance",
            department=people.soc,
            body="A suspicious invoice.",
            requester_email="pat@finance.example.test",
            requester_name="Pat",
        )
    reply = ThreadEntry.objects.get(ticket=ticket, kind="reply")
    assert reply.body.startswith("Pat, your password was reset.")
    assert [a.filename for a in reply.attachments.all()] == ["reset-guide.txt"]
    assert AuditEvent.objects.filter(action="ticket.replied", target_id=str(ticket.pk)).exists()
    outbound = OutboundMessage.objects.get(entry=reply)
    assert outbound.to == ["pat@finance.example.test"]
    sent = [m for m in mail.outbox if "Pat, your password was reset." in m.body]
    assert sent and sent[0].attachments[0][0] == "reset-guide.txt"
    assert Ticket.objects.get(pk=ticket.pk).first_response_at is not None


def test_a_filter_pointing_at_no_canned_response_is_refused_at_save(people):
    with pytest.raises(ServiceError, match="no canned response with id 999"):
        filter_create(
            actor=SETUP,
            definition=FilterDefinition(
                name="Broken",
                conditions=[{"field": "subject", "operator": "contains", "value": "x"}],
                actions=[{"type": "reply_canned", "value": 999}],
            ),
        )


def test_admin_pages_add_preview_refuse_and_are_404_for_agents(people, responses):
    assert client_for(people.alice).get("/admin-area/canned-responses").status_code == 404
    admin = client_for(people.admin)
    page = admin.get("/admin-area/canned-responses").content.decode()
    assert "Acknowledge" in page and "reset-guide.txt" in page
    data = {"title": "Blocked", "department": people.soc.pk, "body": "{{ ticket.number }} is blocked."}
    page = admin.post("/admin-area/canned-responses/new", data | {"action": "preview"}).content.decode()
    assert "SOC-1042 is blocked." in page and not CannedResponse.objects.filter(title="Blocked").exists()
    refused = admin.post(
        "/admin-area/canned-responses/new", data | {"body": "ok\n{% endif %}", "action": "save"}
    )
    assert refused.status_code == 400 and "line 2" in refused.content.decode()
    assert not CannedResponse.objects.filter(title="Blocked").exists()
    upload = SimpleUploadedFile("block-list.csv", b"evil.example\n")
    response = admin.post(
        "/admin-area/canned-responses/new", data | {"action": "save", "attachments": upload}
    )
    canned = CannedResponse.objects.get(title="Blocked")
    assert response.status_code == 302 and [a.filename for a in canned.attachments.all()] == [
        "block-list.csv"
    ]
    removed = canned.attachments.get().pk
    admin.post(f"/admin-area/canned-responses/{canned.pk}", data | {"action": "save", "remove": removed})
    assert not canned.attachments.exists()
    admin.post(f"/admin-area/canned-responses/{canned.pk}/delete")
    assert not CannedResponse.objects.filter(title="Blocked").exists()


def test_the_filter_editor_offers_canned_responses_as_an_action(people, responses):
    admin = client_for(people.admin)
    page = admin.get("/admin-area/filters/new").content.decode()
    assert "Reply with canned response" in page and f'value="canned:{responses["soc"].pk}"' in page
    form = filter_form(
        name="Ack",
        conditions=[("subject", "contains", "phishing")],
        actions=[("reply_canned", f"canned:{responses['soc'].pk}", "")],
    )
    assert admin.post("/admin-area/filters/new", form).status_code == 302
    assert FilterRule.objects.get(name="Ack").actions == [
        {"type": "reply_canned", "value": responses["soc"].pk}
    ]
    # A team chosen for a canned-response action is refused with the row named.
    wrong = filter_form(name="Wrong", actions=[("reply_canned", f"team:{people.tier1.pk}", "")])
    page = admin.post("/admin-area/filters/new", wrong)
    assert page.status_code == 400 and "choose a canned response in the list" in page.content.decode()


def test_files_added_and_removed_by_the_services_are_checked_and_audited(people, settings):
    admin = Actor.for_agent(people.admin)
    canned = canned_response_create(actor=admin, title="Guide", body="See the guide.")
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ServiceError, match="the limit is 10 bytes"):
        canned_attachments_add(
            actor=admin, canned=canned, files=[IncomingFile("a.txt", b"ok"), IncomingFile("b.bin", b"x" * 11)]
        )
    with pytest.raises(PermissionDenied):
        canned_attachments_add(
            actor=Actor.for_agent(people.alice), canned=canned, files=[IncomingFile("a", b"ok")]
        )
    with pytest.raises(ServiceError, match="at least one file"):
        canned_attachments_add(actor=admin, canned=canned, files=[])
    assert not CannedAttachment.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="canned_response.file").exists()

    [stored] = canned_attachments_add(actor=admin, canned=canned, files=[IncomingFile("a.txt", b"ok")])
    with pytest.raises(PermissionDenied):
        canned_attachment_delete(actor=Actor.for_agent(people.alice), canned=canned, attachment_id=stored.pk)
    canned_attachment_delete(actor=admin, canned=canned, attachment_id=stored.pk)
    assert not CannedAttachment.objects.exists()
    assert [
        e.action for e in AuditEvent.objects.filter(action__startswith="canned_response.file").order_by("pk")
    ] == [
        "canned_response.files_added",
        "canned_response.file_removed",
    ]
