"""Search: `linked:SOC-1042` finds the tickets linked to that ticket, whichever way and kind."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from socdesk.accounts.services import apikey_create
from socdesk.tickets import services
from socdesk.tickets.filters import TicketFilter, queue_tickets
from tests.api.conftest import SETUP, ApiClient, make_key

pytestmark = pytest.mark.django_db


def found(agent, q: str) -> list[str]:
    params = QueryDict(mutable=True)
    params.update({"queue": "all", "q": q})
    ticket_filter = TicketFilter.from_querydict(params)
    assert not ticket_filter.errors, ticket_filter.errors
    return sorted(t.number for t in queue_tickets(agent, ticket_filter))


def make(people, subject, department=None, agent=None):
    return services.ticket_create(
        actor=people.actor(agent or people.alice),
        subject=subject,
        department=department or people.soc,
        body="x",
    )


def test_linked_finds_both_directions_every_kind_and_combines_with_words(people):
    hub, dup, child, related = (make(people, s) for s in ("Hub", "Dup", "Child vpn", "Related"))
    actor = people.actor(people.alice)
    services.ticket_link(actor=actor, ticket=dup, other=hub, kind="duplicate_of")
    services.ticket_link(actor=actor, ticket=hub, other=child, kind="parent_of")
    services.ticket_link(actor=actor, ticket=hub, other=related, kind="related")
    assert found(people.alice, f"linked:{hub.number}") == sorted([dup.number, child.number, related.number])
    assert found(people.alice, f"linked:{hub.number.lower()} vpn") == [child.number]
    assert found(people.alice, f"linked:{dup.number}") == [hub.number]
    assert found(people.alice, "linked:SOC-999999") == []
    services.ticket_unlink(actor=actor, ticket=related, other=hub)
    assert related.number not in found(people.alice, f"linked:{hub.number}")


def test_negated_linked_leaves_the_linked_ones_out(people):
    hub, linked, alone = make(people, "Hub"), make(people, "Linked"), make(people, "Alone")
    services.ticket_link(actor=people.actor(people.alice), ticket=hub, other=linked, kind="related")
    result = found(people.alice, f"-linked:{hub.number}")
    assert linked.number not in result and alone.number in result and hub.number in result


def test_linked_to_a_ticket_carol_cannot_see_matches_nothing_for_her(people):
    soc = make(people, "SOC case")
    hers = make(people, "IT case", department=people.it, agent=people.carol)
    services.ticket_link(actor=people.actor(people.admin), ticket=hers, other=soc, kind="related")
    assert found(people.carol, f"linked:{soc.number}") == []
    assert found(people.admin, f"linked:{soc.number}") == [hers.number]


def test_the_api_and_the_help_know_linked(people):
    hub, dup = make(people, "Hub"), make(people, "Dup")
    services.ticket_link(actor=people.actor(people.alice), ticket=dup, other=hub, kind="duplicate_of")
    api = ApiClient(make_key(["tickets:read"], agent=people.alice, name="a"))
    r = api.get(f"tickets?q=linked:{hub.number}")
    assert r.status_code == 200 and [t["number"] for t in r.json()["items"]] == [dup.number]
    from socdesk.tickets.search import field_help

    assert ("linked:", "tickets linked to a ticket, by its number (linked:SOC-1042)") in field_help()


def test_a_department_key_cannot_learn_of_a_link_to_a_ticket_it_may_not_see(people):
    soc = make(people, "SOC case")
    it = make(people, "IT case", department=people.it, agent=people.carol)
    services.ticket_link(actor=people.actor(people.admin), ticket=soc, other=it, kind="related")
    plaintext = apikey_create(actor=SETUP, name="soc-tool", scopes=["tickets:read"], department=people.soc)[1]
    key = ApiClient(plaintext)
    # The IT ticket is not the key's to name: the search says nothing of it, as of a number that
    # does not exist.
    r = key.get(f"tickets?q=linked:{it.number}")
    assert r.status_code == 200 and r.json()["items"] == []
    # Its own ticket's links show only what it may see.
    r = key.get(f"tickets?q=linked:{soc.number}")
    assert r.status_code == 200 and r.json()["items"] == []
