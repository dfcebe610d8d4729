"""Reports from the portal's forms (help topics and their custom forms): the suspicious e-mail is read
like a forwarded phishing mail, the other forms open tickets with their custom fields; the honeypot and
the rate limit stop abuse; anything refused writes nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from socdesk.alerts.models import TicketObservable
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.mail.inbound import mail_receive
from socdesk.portal.reports import reported_message_wrap
from socdesk.routing.models import TicketTopic
from socdesk.tickets.models import Ticket
from tests.portal.conftest import PHISH_EML, sign_in

PHISH = PHISH_EML.read_bytes()
PHISH_OBSERVABLES = {
    ("url", "https://northwind-payments-portal.com/invoice/20931"),
    ("domain", "northwind-payments-portal.com"),
    ("email", "billing@northwind-payments.example"),
    ("email", "invoices@drop.example.net"),
    ("email", "bounce@attacker.example"),
    ("ip", "198.51.100.23"),
}


def observables_of(ticket):
    return set(
        TicketObservable.objects.filter(ticket=ticket).values_list("observable__type", "observable__value")
    )


@pytest.fixture
def dana(client, forms, people):
    sign_in(client, "dana@example.test")
    return client


def phishing_url(forms):
    return f"/portal/report/{forms['Report a suspicious e-mail'].pk}"


def test_an_uploaded_eml_becomes_a_soc_ticket_with_the_observables_of_a_forwarded_mail(dana, forms, people):
    response = dana.post(
        phishing_url(forms),
        {
            "subject": "",
            "body": "This came in this morning, I did not click.",
            "cf_clicked_link": "No",
            "eml": SimpleUploadedFile("suspicious-invoice.eml", PHISH, content_type="message/rfc822"),
            "website": "",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/tickets/{ticket.number}"
    assert ticket.subject == "Suspicious e-mail: Overdue invoice INV-20931: action required"
    assert ticket.department == people.soc and ticket.requester.email == "dana@example.test"
    assert ticket.custom_fields == {"clicked_link": "No"}
    assert TicketTopic.objects.get(ticket=ticket).topic == forms["Report a suspicious e-mail"]
    found = observables_of(ticket)
    assert found >= PHISH_OBSERVABLES, PHISH_OBSERVABLES - found
    files = {a.filename: a for a in ticket.entries.get().attachments.all()}
    assert set(files) == {"suspicious-invoice.eml", "original.eml"}
    with files["suspicious-invoice.eml"].file.open("rb") as handle:
        assert handle.read() == PHISH
    first = ticket.entries.get()
    assert first.kind == "message" and first.body == "This came in this morning, I did not click."

    # The same report sent by e-mail (the message attached to a mail to the SOC) gives the same observables.
    raw = reported_message_wrap(
        ticket.requester, "This came in this morning, I did not click.", PHISH, "suspicious-invoice.eml"
    )
    by_mail = mail_receive(raw, actor=Actor.system("test"), channel="test", department=people.soc).ticket
    assert observables_of(by_mail) == found


def test_pasted_headers_and_text_give_the_same_observables(dana, forms):
    response = dana.post(
        phishing_url(forms),
        {
            "subject": "Invoice mail",
            "body": "",
            "cf_clicked_link": "I clicked a link",
            "pasted": PHISH.decode(),
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.subject == "Invoice mail" and ticket.custom_fields == {"clicked_link": "I clicked a link"}
    assert observables_of(ticket) >= PHISH_OBSERVABLES


@pytest.mark.parametrize(
    "data, message",
    [
        ({"cf_clicked_link": "No"}, b"Attach the suspicious e-mail as a .eml file, or paste its headers"),
        ({"pasted": PHISH.decode()}, b"This field is required."),
        ({"pasted": PHISH.decode(), "cf_clicked_link": "Maybe"}, b"Select a valid choice."),
    ],
)
def test_a_refused_report_says_why_and_writes_nothing(dana, forms, data, message):
    audit = AuditEvent.objects.count()
    response = dana.post(phishing_url(forms), {"subject": "", "body": "x", **data})
    assert response.status_code == 400 and message in response.content
    assert Ticket.objects.count() == 0 and AuditEvent.objects.count() == audit


def test_a_too_large_eml_is_refused_whole(dana, forms, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    response = dana.post(
        phishing_url(forms),
        {"cf_clicked_link": "No", "eml": SimpleUploadedFile("big.eml", PHISH)},
    )
    assert response.status_code == 400 and b"the limit is 100 bytes" in response.content
    assert Ticket.objects.count() == 0


def test_the_lost_device_and_access_forms_open_it_tickets_with_typed_fields(dana, forms, people):
    lost = dana.post(
        f"/portal/report/{forms['Report a lost or stolen device'].pk}",
        {
            "subject": "Laptop left on the train",
            "body": "Grey ThinkPad.",
            "cf_device_type": "Laptop",
            "cf_lost_at": "2026-11-29T18:30",
            "cf_stolen": "on",
        },
    )
    assert lost.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.department == people.it and ticket.severity == "high"
    assert ticket.custom_fields == {
        "device_type": "Laptop",
        "lost_at": "2026-11-29T18:30:00+00:00",
        "stolen": True,
    }
    access = dana.post(
        f"/portal/report/{forms['Request access'].pk}",
        {
            "subject": "Finance share",
            "cf_system": "\\\\fs01\\finance",
            "cf_access_level": "Read",
            "cf_approver": "not-an-address",
        },
    )
    assert access.status_code == 400 and Ticket.objects.count() == 1


def test_the_honeypot_drops_the_report_with_a_thank_you_and_an_audit_event(dana, forms):
    response = dana.post(
        phishing_url(forms),
        {"cf_clicked_link": "No", "pasted": PHISH.decode(), "website": "https://cheap-pills.example"},
    )
    assert response.status_code == 200 and b"Your report was sent" in response.content
    assert Ticket.objects.count() == 0
    tripped = AuditEvent.objects.get(action="portal.honeypot_tripped")
    assert tripped.actor_type == "user" and tripped.after == {"form": "Report a suspicious e-mail"}


def test_reports_are_rate_limited_per_address_and_ip(dana, forms, settings):
    settings.SOCDESK_PORTAL_REPORTS_PER_ADDRESS = 2
    data = {"subject": "Access", "cf_system": "VPN", "cf_access_level": "Read"}
    url = f"/portal/report/{forms['Request access'].pk}"
    codes = [dana.post(url, data).status_code for _ in range(3)]
    assert codes == [302, 302, 429] and Ticket.objects.count() == 2
    assert b"Too many requests" in dana.post(url, data).content


def test_only_portal_visible_topics_are_offered(dana, forms):
    from socdesk.routing.services.topics import TopicDefinition, help_topic_create

    hidden = help_topic_create(
        actor=Actor.system("test"), definition=TopicDefinition(name="Internal only", portal_visible=False)
    )
    home = dana.get("/portal/").content.decode()
    assert "Report a lost or stolen device" in home and "Internal only" not in home
    assert dana.get(f"/portal/report/{hidden.pk}").status_code == 404
    assert dana.post(f"/portal/report/{hidden.pk}", {"subject": "x"}).status_code == 404
    assert Ticket.objects.count() == 0


def test_the_forms_need_a_signed_in_requester(client, forms):
    response = client.get(phishing_url(forms))
    assert response.status_code == 302 and response["Location"].startswith("/portal/sign-in?next=")
    assert client.post(phishing_url(forms), {"pasted": "x"}).status_code == 302
    assert Ticket.objects.count() == 0


def test_a_value_the_custom_field_check_refuses_is_named_and_nothing_is_written(dana, forms):
    audit = AuditEvent.objects.count()
    response = dana.post(
        f"/portal/report/{forms['Report a lost or stolen device'].pk}",
        {"subject": "Phone gone", "cf_device_type": "Phone", "cf_lost_at": "yesterday evening"},
    )
    assert response.status_code == 400
    assert b"When did you last have it?" in response.content and b"is not a date and time" in response.content
    assert Ticket.objects.count() == 0 and AuditEvent.objects.count() == audit
