"""The file-name observable type: from e-mail attachments and TheHive artifacts, on the ticket, in search,
typed by hand, in the REST API."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from socdesk.alerts.adapters import thehive
from socdesk.alerts.choices import ObservableType
from socdesk.alerts.models import Observable, TicketObservable
from socdesk.alerts.observables import invalid_sentence, normalise, parse_list
from socdesk.core.actor import Actor
from socdesk.mail.inbound import mail_receive
from socdesk.tickets.filters import TicketFilter, queue_tickets
from tests.api.conftest import ApiClient, make_key
from tests.console_helpers import client_for
from tests.mail import corpus

NAME = "Fäktura 2026 €.pdf"  # corpus.rfc2231_attachment sends it as ..\..\Fäktura 2026 €.pdf


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("invoice.pdf", ("filename", "invoice.pdf")),
        ("  Invoice.PDF ", ("filename", "Invoice.PDF")),  # the case is evidence: kept
        ("C:\\Users\\bob\\Downloads\\setup.exe", ("filename", "setup.exe")),
        ("/tmp/x/payload.sh", ("filename", "payload.sh")),
        ("Q3 invoice, final.pdf", ("filename", "Q3 invoice, final.pdf")),
        ("", None),
        ("C:\\Users\\bob\\", None),
        ("..", None),
        ("a" * 256, None),
    ],
)
def test_normalise(value, expected):
    assert normalise("filename", value) == expected


def test_a_typed_list_of_file_names_is_one_a_line():
    parsed = parse_list("Q3 invoice, final.pdf\r\n\nsetup.exe\n", "filename")
    assert parsed.valid == [("filename", "Q3 invoice, final.pdf"), ("filename", "setup.exe")]
    assert invalid_sentence(["/"], "filename") == "'/' is not a file name (without a folder)."


def test_the_type_is_known_everywhere_types_are_listed():
    assert ObservableType("filename").label == "File name"
    assert thehive.DATA_TYPES["filename"] == "filename"


@pytest.mark.django_db
def test_an_attachments_name_is_a_filename_observable_on_the_ticket_and_found_by_file(people):
    receipt = mail_receive(corpus.rfc2231_attachment(), actor=Actor.system("mail:pipe"), channel="pipe")
    ticket = receipt.ticket
    link = TicketObservable.objects.select_related("observable").get(
        ticket=ticket, observable__type="filename"
    )
    assert link.observable.value == NAME
    assert not Observable.objects.filter(type="other").exists()
    # Shown on the ticket like every observable, with its type's name.
    html = client_for(people.alice).get(f"/tickets/{ticket.number}/observables").content.decode()
    assert f'data-observable="filename:{NAME}"' in html and "<td>File name</td>" in html
    assert '<option value="filename">file name</option>' in html
    # The search's file: field, quoted for the spaces; a name the ticket does not carry finds nothing.
    for query, expected in ((f'file:"{NAME}"', [ticket.number]), ("file:other.pdf", [])):
        params = QueryDict(mutable=True)
        params.update({"queue": "all", "q": query})
        ticket_filter = TicketFilter.from_querydict(params)
        assert not ticket_filter.errors
        assert [t.number for t in queue_tickets(people.alice, ticket_filter)] == expected
    # The observable filter and the REST API know the type.
    api = ApiClient(make_key(["tickets:read", "tickets:write"], agent=people.alice, name="a"))
    listed = api.get("observables?type=filename").json()["items"]
    assert [(o["type"], o["value"]) for o in listed] == [("filename", NAME)]
    assert [t["number"] for t in api.get(f"tickets?observable=filename:{NAME}").json()["items"]] == [
        ticket.number
    ]
    detail = api.get(f"tickets/{ticket.number}").json()
    assert ("filename", NAME) in {(o["type"], o["value"]) for o in detail["observables"]}


@pytest.mark.django_db
def test_file_names_are_added_by_hand_through_the_api(people, soc_ticket):
    api = ApiClient(make_key(["tickets:read", "tickets:write"], agent=people.alice, name="a"))
    response = api.post(
        f"tickets/{soc_ticket.number}/observables",
        {"values": "Q3 invoice, final.pdf\nC:\\temp\\dropper.exe", "type": "filename"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["added"] == [
        {"type": "filename", "value": "Q3 invoice, final.pdf"},
        {"type": "filename", "value": "dropper.exe"},
    ]
