"""Ticket links: stored once, shown both ways, audited on both tickets, refused cleanly."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.tickets import services
from socdesk.tickets.history import describe_event
from socdesk.tickets.models import Ticket, TicketLink
from socdesk.tickets.selectors import ticket_links, tickets_visible_to

pytestmark = pytest.mark.django_db


def make(people, subject: str, department=None, agent=None) -> Ticket:
    return services.ticket_create(
        actor=people.actor(agent or people.alice),
        subject=subject,
        department=department or people.soc,
        body=f"About {subject}.",
    )


def written():
    """What a refused call must leave unchanged."""
    return TicketLink.objects.count(), AuditEvent.objects.count()


def sides(people, ticket, agent=None):
    visible = tickets_visible_to(agent or people.alice)
    return [(item.side, item.ticket.number) for item in ticket_links(ticket, visible)]


def test_a_link_is_stored_once_and_read_both_ways_with_the_reverse_label(people):
    a, b = make(people, "Phishing report"), make(people, "Same phishing, second reporter")
    version = Ticket.objects.get(pk=a.pk).version
    services.ticket_link(actor=people.actor(people.alice), ticket=b, other=a, kind="duplicate_of")
    link = TicketLink.objects.get()
    assert (link.from_ticket_id, link.to_ticket_id, link.kind, link.created_by) == (
        b.pk,
        a.pk,
        "duplicate",
        "alice",
    )
    assert sides(people, b) == [("duplicate_of", a.number)]
    assert sides(people, a) == [("has_duplicate", b.number)]
    events = {e.target_id: e for e in AuditEvent.objects.filter(action="ticket.linked")}
    assert (
        events[str(a.pk)].after["kind"] == "has_duplicate" and events[str(a.pk)].after["ticket"] == b.number
    )
    assert events[str(b.pk)].after["kind"] == "duplicate_of"
    assert describe_event(events[str(a.pk)]) == f"linked {b.number} as a duplicate of the ticket"
    # A link changes nothing an agent may be editing on either ticket.
    assert Ticket.objects.get(pk=a.pk).version == version


def test_parent_and_child_read_as_such(people):
    incident, host = make(people, "Ransomware incident"), make(people, "Encrypted share on FS-01")
    services.ticket_link(actor=people.actor(people.bob), ticket=host, other=incident, kind="child_of")
    assert sides(people, incident) == [("parent_of", host.number)]
    assert sides(people, host) == [("child_of", incident.number)]


def test_unlink_removes_it_from_both_and_is_audited_on_both(people):
    a, b = make(people, "One"), make(people, "Two")
    services.ticket_link(actor=people.actor(people.alice), ticket=a, other=b, kind="related")
    services.ticket_unlink(actor=people.actor(people.bob), ticket=b, other=a)
    assert not TicketLink.objects.exists() and sides(people, a) == [] and sides(people, b) == []
    events = AuditEvent.objects.filter(action="ticket.unlinked")
    assert {e.target_id for e in events} == {str(a.pk), str(b.pk)}
    assert {e.before["kind"] for e in events} == {"related"}
    assert describe_event(events.get(target_id=str(a.pk))) == f"removed the link to {b.number} (related to)"


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("related", "related", "is already linked to"),
        ("related", "parent_of", "is already linked to"),
        ("duplicate_of", "has_duplicate", "is already linked to"),
    ],
)
def test_a_second_link_between_the_same_tickets_is_refused(people, first, second, message):
    a, b = make(people, "One"), make(people, "Two")
    services.ticket_link(actor=people.actor(people.alice), ticket=a, other=b, kind=first)
    before = written()
    with pytest.raises(ServiceError, match=message):
        services.ticket_link(actor=people.actor(people.alice), ticket=b, other=a, kind=second)
    assert written() == before


def test_self_link_unknown_kind_and_missing_link_are_refused_with_nothing_written(people):
    a, b = make(people, "One"), make(people, "Two")
    before = written()
    with pytest.raises(ServiceError, match="cannot be linked to itself"):
        services.ticket_link(actor=people.actor(people.alice), ticket=a, other=a, kind="related")
    with pytest.raises(ServiceError, match="Unknown link kind 'sibling'"):
        services.ticket_link(actor=people.actor(people.alice), ticket=a, other=b, kind="sibling")
    with pytest.raises(NotFound, match="is not linked to"):
        services.ticket_unlink(actor=people.actor(people.alice), ticket=a, other=b)
    assert written() == before


def test_parent_cycles_and_second_parents_are_refused(people):
    top, middle, bottom = make(people, "Top"), make(people, "Middle"), make(people, "Bottom")
    actor = people.actor(people.alice)
    services.ticket_link(actor=actor, ticket=top, other=middle, kind="parent_of")
    services.ticket_link(actor=actor, ticket=middle, other=bottom, kind="parent_of")
    before = written()
    with pytest.raises(ServiceError, match="above") as refused:
        services.ticket_link(actor=actor, ticket=bottom, other=top, kind="parent_of")
    assert refused.value.fields == {"kind": "cycle"}
    other = make(people, "Another incident")
    with pytest.raises(ServiceError, match=f"already a child of {top.number}"):
        services.ticket_link(actor=actor, ticket=other, other=middle, kind="parent_of")
    assert written()[0] == before[0]


def test_carol_cannot_link_to_or_from_a_soc_ticket_and_learns_nothing(people):
    soc = make(people, "SOC case")
    it = make(people, "IT case", department=people.it, agent=people.carol)
    before = written()
    for ticket, other in ((it, soc), (soc, it)):
        with pytest.raises(NotFound) as refused:
            services.ticket_link(actor=people.actor(people.carol), ticket=ticket, other=other, kind="related")
        assert refused.value.message == f"Ticket {soc.number} was not found."
    assert written() == before


def test_a_link_shows_only_tickets_the_reader_may_see(people):
    soc = make(people, "SOC case")
    it = make(people, "IT case", department=people.it, agent=people.carol)
    services.ticket_link(actor=people.actor(people.admin), ticket=it, other=soc, kind="related")
    assert sides(people, it, people.carol) == []
    assert sides(people, it, people.admin) == [("related", soc.number)]


def test_linking_needs_the_edit_permission_on_both(people):
    from socdesk.accounts.services import access_grant, role_create
    from socdesk.core.actor import Actor

    viewer = role_create(actor=Actor.system("t"), name="Viewer", permissions=["view"])
    access_grant(actor=Actor.system("t"), agent=people.carol, department=people.soc, role=viewer)
    soc = make(people, "SOC case")
    it = make(people, "IT case", department=people.it, agent=people.carol)
    with pytest.raises(PermissionDenied, match="edit tickets permission in SOC"):
        services.ticket_link(actor=people.actor(people.carol), ticket=it, other=soc, kind="related")
    assert not TicketLink.objects.exists()
