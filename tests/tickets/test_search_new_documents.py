"""A new ticket's search document is built from what its opener holds, never read back, and is byte for
byte the document `documents_for` reads back for it (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.services import apikey_create
from socdesk.alerts.search import ALERTS_SQL, OBSERVABLES_SQL
from socdesk.core.actor import Actor
from socdesk.mail.canned import canned_response_create
from socdesk.routing.services.filters import FilterDefinition, filter_create
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.models import Ticket, TicketSearch
from socdesk.tickets.search.document import (
    ENTRIES_SQL,
    ENTRY_CHARS,
    EXTRA_CHARS,
    TAGS_SQL,
    TICKETS_SQL,
    documents_for,
)
from socdesk.tickets.services import TicketDraft, ticket_create, ticket_create_many
from tests.routing.fixtures_forms import incident_topic

pytestmark = pytest.mark.django_db
SETUP = Actor.system("test-setup")
# The part of each read-back query before its id list: none of them may run while tickets are opened.
READ_BACK = [
    query.split(" WHERE ")[0] for query in (TICKETS_SQL, ENTRIES_SQL, TAGS_SQL, ALERTS_SQL, OBSERVABLES_SQL)
]


def stored(ticket_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    rows = TicketSearch.objects.filter(ticket_id__in=ticket_ids)
    return {row.ticket_id: (row.title, row.body, row.identifiers) for row in rows}


def read_back(ticket_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    return {d.ticket_id: (d.title, d.body, d.identifiers) for d in documents_for(ticket_ids)}


def varied_drafts(people) -> list[TicketDraft]:
    alice, mail = Actor.for_agent(people.alice), Actor.system("mail import")
    topic = incident_topic(people).topic
    return [
        # An HTML message from a requester, tags, custom fields and integration fields whose keys jsonb
        # reorders (length first, then UTF-8 bytes: "é" is two bytes).
        TicketDraft(
            actor=mail,
            subject="Invoice <b>overdue</b>",
            department=people.soc,
            body="<p>Please <b>pay</b> &amp; see <a href='http://x.example'>this</a></p>",
            body_format="html",
            requester_email="Pat.Payer@Finance.example",
            requester_name="Pat Payer",
            tags=["Phishing", "vip", "phishing"],
            help_topic=topic.pk,
            custom_fields={
                "notes": "Called the bank",
                "impact": "High",
                "host_ip": "192.0.2.10",
                "systems": ["vpn", "mail"],
                "seen_at": "2026-11-30T10:15:00+01:00",
                "confirmed": True,
            },
            extra={
                "message-id": "<m1@x.example>",
                "bb": 1,
                "é": "accent",
                "ab": ["one", {"yy": True, "k": None}],
            },
        ),
        # An agent's note with observables (one repeated, one value under two types), no requester.
        TicketDraft(
            actor=alice,
            subject="Beacon to 203.0.113.7",
            department=people.soc,
            body="Seen beaconing to evil.example from 203.0.113.7",
            observables=[
                ("ip", "203.0.113.7"),
                ("domain", "evil.example"),
                ("ip", "203.0.113.7"),
                ("hostname", "evil.example"),
            ],
        ),
        # A first entry that is only a file.
        TicketDraft(
            actor=mail,
            subject="Screenshot attached",
            department=people.soc,
            requester_email="sam@corp.example",
            attachments=[IncomingFile("screen.txt", b"a screenshot, as text")],
        ),
        # No first entry; numbers jsonb prints otherwise than Python (read back on PostgreSQL).
        TicketDraft(
            actor=alice,
            subject="Figures",
            department=people.soc,
            extra={"score": 1e16, "ratio": 0.5, "neg": -0.0, "count": 10**20, "ok": False},
        ),
        # Longer than what a document keeps of an entry and of the fields, in characters of two bytes.
        TicketDraft(
            actor=mail,
            subject="Long log " + "ü" * 300,
            department=people.soc,
            body="é" * (ENTRY_CHARS + 50),
            requester_email="long@corp.example",
            requester_name="Lo\u00f1g",
            help_topic=topic.pk,
            custom_fields={"impact": "Low", "host_ip": "192.0.2.11", "notes": "ß" * (EXTRA_CHARS + 10)},
            extra={"tail": "x" * (EXTRA_CHARS + 10)},
        ),
    ]


def test_new_tickets_documents_are_the_documents_read_back(people):
    tickets = ticket_create_many(varied_drafts(people))
    ids = [ticket.pk for ticket in tickets]
    written = stored(ids)
    assert written == read_back(ids)
    beacon, figures = written[ids[1]], written[ids[3]]
    assert beacon[2].split("\n") == [tickets[1].number, "203.0.113.7", "evil.example"]
    assert "neg" in figures[1]


def test_opening_tickets_reads_nothing_back_for_their_documents(people):
    drafts = [d for d in varied_drafts(people) if d.subject != "Figures"]
    with CaptureQueriesContext(connection) as queries:
        tickets = ticket_create_many(drafts)
    reads = [q["sql"] for q in queries.captured_queries if any(q["sql"].startswith(r) for r in READ_BACK)]
    assert reads == []
    assert TicketSearch.objects.filter(ticket__in=tickets).count() == len(drafts)


def test_a_reply_added_by_an_after_create_hook_is_in_the_document(people):
    canned = canned_response_create(
        actor=Actor.for_agent(people.admin), title="Ack", body="We are on it: {{ ticket.number }}."
    )
    filter_create(
        actor=SETUP,
        definition=FilterDefinition(
            name="Acknowledge",
            conditions=[{"field": "subject", "operator": "contains", "value": "phishing"}],
            actions=[{"type": "reply_canned", "value": canned.pk}],
        ),
    )
    ticket = ticket_create(
        actor=Actor.for_agent(people.alice),
        subject="Phishing mail",
        department=people.soc,
        body="A suspicious invoice.",
        requester_email="pat@finance.example",
    )
    written = stored([ticket.pk])
    assert written == read_back([ticket.pk])
    assert f"We are on it: {ticket.number}." in written[ticket.pk][1]


def test_osticket_api_tickets_documents_are_the_documents_read_back(people):
    raw = apikey_create(actor=SETUP, name="osticket-client", scopes=["tickets:create"])[1]
    bodies = [
        {"name": "Angry User", "email": "api@osticket.example", "subject": "Testing API", "message": "Hi"},
        {
            "name": "Partner SOC",
            "email": "soc@partner.example",
            "subject": "Phish from evil.example",
            "message": "data:text/html,<p>Link to <b>hxxp://evil[.]example/login</b> from 198.51.100.4</p>",
            "priority": 3,
            "attachments": [{"notes.txt": "data:text/plain;base64,bm90ZXM="}],
        },
    ]
    numbers = []
    for body in bodies:
        response = Client().post(
            "/api/tickets.json",
            data=json.dumps(body),
            content_type="application/json",
            headers={"X-API-Key": raw},
        )
        assert response.status_code == 201, response.content
        numbers.append(response.content.decode())
    ids = list(Ticket.objects.filter(number__in=numbers).values_list("pk", flat=True))
    written = stored(ids)
    assert len(written) == 2
    assert written == read_back(ids)
    assert "198.51.100.4" in "".join(identifiers for _, _, identifiers in written.values())
