"""Who sees which ticket: the personas."""

import pytest
from django.http import QueryDict

from socdesk.core.errors import NotFound
from socdesk.tickets import services
from socdesk.tickets.filters import TicketFilter, capped_count, queue_counts, queue_tickets
from socdesk.tickets.selectors import ticket_get_for_agent, tickets_visible_to


def test_department_scoping(people, soc_ticket):
    assert ticket_get_for_agent(people.alice, soc_ticket.number) == soc_ticket
    assert ticket_get_for_agent(people.bob, soc_ticket.number.lower()) == soc_ticket
    assert ticket_get_for_agent(people.admin, soc_ticket.number) == soc_ticket
    with pytest.raises(NotFound):
        ticket_get_for_agent(people.carol, soc_ticket.number)
    assert not tickets_visible_to(people.carol).exists()


def test_assigned_tickets_are_visible_outside_the_department(people, soc_ticket):
    people.carol.teams.add(people.tier1)
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, team=people.tier1)
    assert ticket_get_for_agent(people.carol, soc_ticket.number) == soc_ticket


def test_limit_to_assigned(people, soc_ticket):
    people.bob.limit_to_assigned = True
    people.bob.save()
    with pytest.raises(NotFound):
        ticket_get_for_agent(people.bob, soc_ticket.number)
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    bob = type(people.bob).objects.get(pk=people.bob.pk)
    assert ticket_get_for_agent(bob, soc_ticket.number) == soc_ticket


def test_filters_and_counts(people, soc_ticket):
    alice = people.actor(people.alice)
    other = services.ticket_create(
        actor=alice, subject="Brute force on VPN", department=people.soc, severity="low"
    )
    services.ticket_claim(actor=alice, ticket=other)

    def run(query):
        return list(queue_tickets(people.alice, TicketFilter.from_querydict(QueryDict(query))))

    assert run("queue=mine") == [other]
    assert run("queue=unassigned") == [soc_ticket]
    assert run("queue=open&severity=high") == [soc_ticket]
    assert run("queue=all&q=vpn") == [other]
    assert run(f"queue=all&q={soc_ticket.number}") == [soc_ticket]
    assert run("queue=all&tag=edr") == [soc_ticket]
    assert run("queue=all&assignee=0") == [soc_ticket]
    assert set(run("queue=all&sort=-created")) == {soc_ticket, other}
    assert run("queue=resolved") == []
    bad = TicketFilter.from_querydict(QueryDict("severity=huge&created_from=yesterday&department=x"))
    assert set(bad.errors) == {"severity", "created_from", "department"}
    counts = queue_counts(people.alice)
    assert counts["mine"] == (1, False) and counts["open"] == (2, False) and counts["all"] == (2, False)
    assert queue_counts(people.carol)["all"] == (0, False)
    assert capped_count(tickets_visible_to(people.alice), cap=1) == (1, True)


def test_nul_in_search_and_number_is_harmless(people, soc_ticket):
    """PostgreSQL refuses NUL in a query parameter; the filter and lookup drop it first."""
    f = TicketFilter.from_querydict(QueryDict("queue=all&q=Suspicious%00&tag=ed%00r"))
    assert list(queue_tickets(people.alice, f)) == [soc_ticket]
    assert ticket_get_for_agent(people.alice, soc_ticket.number + "\x00") == soc_ticket


def test_queue_counts_are_reused_for_the_cache_period(people, soc_ticket, settings):
    settings.SOCDESK_COUNT_CACHE_SECONDS = 60
    from django.core.cache import cache

    cache.clear()
    assert queue_counts(people.alice)["open"] == (1, False)
    services.ticket_create(actor=people.actor(people.alice), subject="second", department=people.soc)
    assert queue_counts(people.alice)["open"] == (1, False)  # reused
    assert queue_counts(people.bob)["open"] == (2, False)  # per agent
    settings.SOCDESK_COUNT_CACHE_SECONDS = 0
    assert queue_counts(people.alice)["open"] == (2, False)
