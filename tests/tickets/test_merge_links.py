"""A merge moves the duplicate's links to third tickets onto the survivor (audited on those tickets),
drops one the survivor cannot take, and an undo puts both back."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.tickets import services
from socdesk.tickets.history import describe_event
from socdesk.tickets.merge_movers import merge_preview
from socdesk.tickets.models import Ticket, TicketLink
from socdesk.tickets.selectors import parent_chain_loops, ticket_links, tickets_visible_to

pytestmark = pytest.mark.django_db


def make(people, subject: str) -> Ticket:
    return services.ticket_create(
        actor=people.actor(people.alice), subject=subject, department=people.soc, body=f"About {subject}."
    )


def links(people, ticket: Ticket) -> set[tuple[str, str]]:
    """The ticket's links as read on it: (side, other ticket's number)."""
    fresh = Ticket.objects.get(pk=ticket.pk)
    return {(one.side, one.ticket.number) for one in ticket_links(fresh, tickets_visible_to(people.alice))}


def events(ticket: Ticket, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(target_type="ticket", target_id=str(ticket.pk), action=action).order_by(
            "pk"
        )
    )


@pytest.fixture
def tickets(people):
    return {name: make(people, name) for name in ("source", "target", "related", "parent", "child")}


def test_the_duplicates_links_move_to_the_survivor_audited_and_come_back_on_undo(people, tickets):
    alice = people.actor(people.alice)
    source, target = tickets["source"], tickets["target"]
    services.ticket_link(actor=alice, ticket=source, other=tickets["related"], kind="related")
    services.ticket_link(actor=alice, ticket=source, other=tickets["parent"], kind="child_of")
    services.ticket_link(actor=alice, ticket=source, other=tickets["child"], kind="parent_of")
    ids = set(TicketLink.objects.values_list("pk", flat=True))

    merge = services.ticket_merge(actor=alice, source=source, target=target)

    assert links(people, target) == {
        ("related", tickets["related"].number),
        ("child_of", tickets["parent"].number),
        ("parent_of", tickets["child"].number),
        ("has_duplicate", source.number),
    }
    assert links(people, source) == {("duplicate_of", target.number)}
    assert links(people, tickets["parent"]) == {("parent_of", target.number)}
    assert set(merge.moved["links"]["ids"]) == ids  # the same rows, their other end unchanged
    assert merge.moved["links"]["dropped"] == []
    moved = events(tickets["parent"], "ticket.link_moved")
    assert [(e.before, e.after["ticket"], e.after["merge"]) for e in moved] == [
        ({"kind": "parent_of", "ticket": source.number}, target.number, source.number)
    ]
    assert describe_event(moved[0]) == (
        f"moved the link with {source.number} to {target.number} (parent of), by the merge of {source.number}"
    )
    assert AuditEvent.objects.get(action="ticket.merged").after["moved"]["links"] == 3

    services.ticket_merge_undo(actor=alice, source=source)

    assert links(people, source) == {
        ("related", tickets["related"].number),
        ("child_of", tickets["parent"].number),
        ("parent_of", tickets["child"].number),
    }
    assert links(people, target) == set()
    assert set(TicketLink.objects.values_list("pk", flat=True)) == ids
    back = events(tickets["child"], "ticket.link_moved")
    assert [(e.before["ticket"], e.after["ticket"]) for e in back] == [
        (source.number, target.number),
        (target.number, source.number),
    ]


def test_the_merge_preview_names_the_links(people, tickets):
    alice = people.actor(people.alice)
    services.ticket_link(actor=alice, ticket=tickets["source"], other=tickets["related"], kind="related")
    services.ticket_link(actor=alice, ticket=tickets["target"], other=tickets["child"], kind="related")
    services.ticket_link(actor=alice, ticket=tickets["source"], other=tickets["child"], kind="parent_of")
    number = tickets["target"].number
    assert f"1 link, 1 link dropped ({number} has that link or a parent incident already)" in merge_preview(
        tickets["source"], tickets["target"]
    )


def test_a_link_the_survivor_has_already_is_dropped_audited_and_remade_on_undo(people, tickets):
    alice = people.actor(people.alice)
    source, target, other = tickets["source"], tickets["target"], tickets["related"]
    services.ticket_link(actor=alice, ticket=target, other=other, kind="related")
    services.ticket_link(actor=alice, ticket=source, other=other, kind="duplicate_of")
    before = TicketLink.objects.get(from_ticket=source)

    merge = services.ticket_merge(actor=alice, source=source, target=target)

    assert links(people, target) == {("related", other.number), ("has_duplicate", source.number)}
    assert links(people, other) == {("related", target.number)}  # one link between two tickets
    assert merge.moved["links"]["ids"] == []
    [dropped] = merge.moved["links"]["dropped"]
    assert (dropped["from"], dropped["to"], dropped["kind"]) == (source.pk, other.pk, "duplicate")
    [unlinked] = events(other, "ticket.unlinked")
    assert unlinked.before == {"kind": "has_duplicate", "ticket": source.number}
    assert target.number in describe_event(unlinked)

    services.ticket_merge_undo(actor=alice, source=source)

    again = TicketLink.objects.get(from_ticket=source, to_ticket=other)
    assert (again.kind, again.created_at, again.created_by) == (
        "duplicate",
        before.created_at,
        before.created_by,
    )
    assert links(people, other) == {("related", target.number), ("has_duplicate", source.number)}
    # The first "linked" event is the link made by hand; the second, the undo's.
    _by_hand, linked = [e for e in events(other, "ticket.linked") if e.after.get("ticket") == source.number]
    assert linked.after["kind"] == "has_duplicate"


def test_a_second_parent_for_the_survivor_is_dropped(people, tickets):
    alice = people.actor(people.alice)
    source, target = tickets["source"], tickets["target"]
    services.ticket_link(actor=alice, ticket=target, other=tickets["parent"], kind="child_of")
    services.ticket_link(actor=alice, ticket=source, other=tickets["related"], kind="child_of")

    merge = services.ticket_merge(actor=alice, source=source, target=target)

    assert ("child_of", tickets["parent"].number) in links(people, target)
    assert ("child_of", tickets["related"].number) not in links(people, target)
    assert len(merge.moved["links"]["dropped"]) == 1
    services.ticket_merge_undo(actor=alice, source=source)
    assert links(people, source) == {("child_of", tickets["related"].number)}


def test_a_link_that_would_make_the_survivor_its_own_ancestor_is_dropped(people, tickets):
    alice = people.actor(people.alice)
    source, target, middle = tickets["source"], tickets["target"], tickets["parent"]
    # middle is the survivor's parent; the duplicate is middle's parent. Moved, the survivor would be
    # the parent of its own parent.
    services.ticket_link(actor=alice, ticket=middle, other=target, kind="parent_of")
    services.ticket_link(actor=alice, ticket=source, other=middle, kind="parent_of")

    merge = services.ticket_merge(actor=alice, source=source, target=target)

    assert not parent_chain_loops(target.pk)
    assert links(people, middle) == {("parent_of", target.number)}
    assert merge.moved["links"]["ids"] == []
    assert len(merge.moved["links"]["dropped"]) == 1
    services.ticket_merge_undo(actor=alice, source=source)
    assert links(people, middle) == {("parent_of", target.number), ("child_of", source.number)}


def test_a_moved_link_removed_before_the_undo_stays_removed(people, tickets):
    alice = people.actor(people.alice)
    source, target, other = tickets["source"], tickets["target"], tickets["related"]
    services.ticket_link(actor=alice, ticket=source, other=other, kind="related")
    services.ticket_merge(actor=alice, source=source, target=target)
    services.ticket_unlink(actor=alice, ticket=target, other=other)

    services.ticket_merge_undo(actor=alice, source=source)

    assert links(people, source) == set()
    assert len(events(other, "ticket.link_moved")) == 1  # the merge's move only: nothing moved back
