"""Requesters found or created a batch at a time: one read, one insert, one audit event per new contact."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.models import Contact, Organisation
from socdesk.accounts.services import (
    ContactWanted,
    contact_get_or_create,
    contacts_get_or_create,
    organisation_create,
)
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.tickets.choices import Source
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft, ticket_create_many

pytestmark = pytest.mark.django_db

SETUP = Actor.system("test")


def created_events() -> list[tuple[str, str]]:
    return sorted(
        (event.target_label, event.actor_label)
        for event in AuditEvent.objects.filter(action="contact.created")
    )


def test_new_contacts_are_created_in_one_insert_each_audited_and_known_ones_kept():
    known = contact_get_or_create(actor=SETUP, email="Known@Corp.example", name="Known")
    tool = Actor.system("siem")
    found = contacts_get_or_create(
        [
            ContactWanted(tool, " Ann@Corp.example ", "Ann", "+33 1"),
            ContactWanted(tool, "known@corp.example", "Renamed"),
            ContactWanted(SETUP, "ANN@corp.example", "Second Ann"),  # the first entry of an email wins
            ContactWanted(tool, "bob@other.example"),
        ]
    )
    assert set(found) == {"ann@corp.example", "known@corp.example", "bob@other.example"}
    assert found["known@corp.example"].pk == known.pk and found["known@corp.example"].name == "Known"
    ann = Contact.objects.get(email="ann@corp.example")
    assert (ann.pk, ann.name, ann.phone) == (found["ann@corp.example"].pk, "Ann", "+33 1")
    assert created_events() == [
        ("Ann <ann@corp.example>", "siem"),
        ("Known <known@corp.example>", "test"),
        ("bob@other.example", "siem"),
    ]


def test_a_new_contact_joins_the_organisation_of_its_email_domain_whatever_the_case():
    northwind = organisation_create(actor=SETUP, name="Northwind", domain="Northwind.Example")
    found = contacts_get_or_create(
        [ContactWanted(SETUP, "dana@NORTHWIND.example"), ContactWanted(SETUP, "eve@elsewhere.example")]
    )
    assert found["dana@northwind.example"].organisation_id == northwind.pk
    assert found["eve@elsewhere.example"].organisation_id is None
    # One contact alone takes the same path.
    assert contact_get_or_create(actor=SETUP, email="fay@northwind.example").organisation_id == northwind.pk


def test_the_statements_do_not_grow_with_the_number_of_new_contacts():
    def statements(count: int, prefix: str) -> int:
        wanted = [ContactWanted(SETUP, f"{prefix}{i}@corp.example", f"Person {i}") for i in range(count)]
        with CaptureQueriesContext(connection) as queries:
            contacts_get_or_create(wanted)
        return len(queries.captured_queries)

    Organisation.objects.create(name="Corp", domain="corp.example")
    assert statements(2, "a") == statements(20, "b")
    assert Contact.objects.filter(organisation__name="Corp").count() == 22


def test_a_batch_of_tickets_creates_its_requesters_together(people):
    drafts = [
        TicketDraft(
            actor=people.actor(people.admin),
            subject=f"Report {i}",
            department=people.soc,
            requester_email=f"reporter{i % 3}@corp.example",
            requester_name=f"Reporter {i % 3}",
            source=Source.API,
        )
        for i in range(6)
    ]
    tickets = ticket_create_many(drafts)
    assert [t.requester.email for t in tickets] == [f"reporter{i % 3}@corp.example" for i in range(6)]
    assert Contact.objects.filter(email__startswith="reporter").count() == 3
    assert len({t.requester_id for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets])}) == 3
    assert (
        AuditEvent.objects.filter(action="contact.created", target_label__startswith="Reporter").count() == 3
    )


@pytest.mark.django_db(transaction=True)
def test_a_contact_created_by_a_concurrent_batch_is_taken_not_duplicated():
    """The second batch reads before the first commits, so its insert collides: it takes the other's row."""
    inserted, results, errors = threading.Event(), {}, []

    def first():
        try:
            with transaction.atomic():
                results["first"] = contacts_get_or_create(
                    [ContactWanted(SETUP, "x@corp.example"), ContactWanted(SETUP, "y@corp.example", "Y1")]
                )
                inserted.set()
                time.sleep(0.5)  # the second batch has read and tries its insert meanwhile
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            inserted.set()
            connection.close()

    def second():
        try:
            inserted.wait(10)
            results["second"] = contacts_get_or_create(
                [ContactWanted(SETUP, "y@corp.example", "Y2"), ContactWanted(SETUP, "z@corp.example")]
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert results["second"]["y@corp.example"].pk == results["first"]["y@corp.example"].pk
    assert Contact.objects.get(email="y@corp.example").name == "Y1"
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "x@corp.example",
        "y@corp.example",
        "z@corp.example",
    ]
    assert [label for label, _actor in created_events()] == [
        "Y1 <y@corp.example>",
        "x@corp.example",
        "z@corp.example",
    ]
