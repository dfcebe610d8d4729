"""The ticket page's Linked tickets panel, its Merge into... with a confirm step, and Undo merge."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.tickets import services
from socdesk.tickets.models import ThreadEntry, Ticket, TicketLink, TicketMerge
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def make(people, subject, department=None, agent=None):
    return services.ticket_create(
        actor=people.actor(agent or people.alice),
        subject=subject,
        department=department or people.soc,
        body="x",
    )


def written():
    return (
        TicketLink.objects.count(),
        TicketMerge.objects.count(),
        ThreadEntry.objects.count(),
        AuditEvent.objects.count(),
    )


def test_link_added_by_number_shows_on_both_pages_and_is_removed(people):
    a, b = make(people, "Phishing wave"), make(people, "Credential reset for a victim")
    alice = client_for(people.alice)
    html = alice.post(
        f"/tickets/{a.number}/link_add", {"number": b.number.lower(), "kind": "parent_of"}, **HTMX
    ).content.decode()
    assert f"Linked: this ticket is parent of {b.number}." in html
    assert f'data-link="{b.number}" data-side="parent_of"' in html
    other = alice.get(f"/tickets/{b.number}/").content.decode()
    assert f'data-link="{a.number}" data-side="child_of"' in other and "Child of" in other
    html = alice.post(f"/tickets/{b.number}/link_remove", {"number": a.number}, **HTMX).content.decode()
    assert f"The link to {a.number} was removed." in html and "No linked tickets." in html
    assert not TicketLink.objects.exists()


def test_link_to_an_unknown_or_hidden_ticket_reads_the_same_and_writes_nothing(people):
    a = make(people, "SOC case")
    hidden = make(people, "Payroll laptop", department=people.it, agent=people.carol)
    alice = client_for(people.alice)
    before = written()
    for number in ("SOC-999999", hidden.number):
        response = alice.post(f"/tickets/{a.number}/link_add", {"number": number, "kind": "related"})
        html = response.content.decode()
        assert response.status_code == 404 and f"Ticket {number} was not found." in html
        assert "Payroll laptop" not in html
    response = alice.post(f"/tickets/{a.number}/link_add", {"number": a.number, "kind": "related"})
    assert response.status_code == 400 and "cannot be linked to itself" in response.content.decode()
    response = alice.post(f"/tickets/{a.number}/link_add", {"number": "", "kind": "related"})
    assert response.status_code == 400 and "Write the other ticket&#x27;s number" in response.content.decode()
    assert written() == before


def test_merge_shows_what_moves_then_merges_on_confirm_and_undo_is_offered_on_the_survivor(people):
    target, source = make(people, "Main phishing case"), make(people, "Second report of it")
    services.ticket_note(actor=people.actor(people.bob), ticket=source, body="Reported by finance.")
    alice = client_for(people.alice)
    before = written()
    review = alice.post(f"/tickets/{source.number}/merge", {"number": target.number}, **HTMX).content.decode()
    assert f"Merge <strong>{source.number}</strong> into" in review and "<li>2 thread entries</li>" in review
    assert f"Merge into {target.number}</button>" in review
    assert written() == before  # the review step writes nothing
    response = alice.post(
        f"/tickets/{source.number}/merge", {"number": target.number, "confirm": "on"}, **HTMX
    )
    assert response.status_code == 200 and response["HX-Redirect"] == f"/tickets/{target.number}/"
    page = alice.get(f"/tickets/{target.number}/").content.decode()
    assert f"{source.number} was merged into {target.number}." in page
    assert f'data-undo-merge="{source.number}"' in page and "Reported by finance." in page
    merged = alice.get(f"/tickets/{source.number}/").content.decode()
    assert "Merged into" in merged and 'data-action="merge"' not in merged
    html = alice.post(
        f"/tickets/{target.number}/merge_undo", {"number": source.number}, **HTMX
    ).content.decode()
    assert f"The merge of {source.number} was undone" in html and "data-undo-merge" not in html
    assert Ticket.objects.get(pk=source.pk).resolution == ""
    assert "Reported by finance." not in html


def test_merge_refusals_are_shown_on_the_page(people):
    target, source = make(people, "Main case"), make(people, "Duplicate")
    alice = client_for(people.alice)
    services.ticket_merge(actor=people.actor(people.alice), source=source, target=target)
    before = written()
    third = make(people, "Third")
    before = written()
    response = alice.post(f"/tickets/{third.number}/merge", {"number": source.number, "confirm": "on"})
    assert response.status_code == 400 and f"merge into {target.number} instead" in response.content.decode()
    response = alice.post(f"/tickets/{third.number}/merge", {"number": third.number})
    assert response.status_code == 400 and "cannot be merged into itself" in response.content.decode()
    response = alice.post(f"/tickets/{third.number}/merge", {"number": "SOC-424242"})
    assert response.status_code == 404 and "Ticket SOC-424242 was not found." in response.content.decode()
    assert written() == before


def test_carol_cannot_merge_her_ticket_into_a_soc_ticket_nor_see_it(people):
    target = make(people, "SOC case with a secret subject")
    hers = make(people, "IT case", department=people.it, agent=people.carol)
    carol = client_for(people.carol)
    before = written()
    for data in ({"number": target.number}, {"number": target.number, "confirm": "on"}):
        response = carol.post(f"/tickets/{hers.number}/merge", data)
        html = response.content.decode()
        assert response.status_code == 404 and f"Ticket {target.number} was not found." in html
        assert "secret subject" not in html
    assert written() == before
