"""Merging a duplicate into the ticket that survives, and undoing it the same day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from socdesk.accounts.models import Contact
from socdesk.audit.models import AuditEvent
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.tickets import services
from socdesk.tickets.models import Collaborator, ThreadEntry, Ticket, TicketLink, TicketMerge
from socdesk.tickets.selectors import ticket_links, ticket_thread, tickets_visible_to

pytestmark = pytest.mark.django_db


def make(
    people, subject: str, *, department=None, agent=None, requester="dana@example.test", **kwargs
) -> Ticket:
    return services.ticket_create(
        actor=people.actor(agent or people.alice),
        subject=subject,
        department=department or people.soc,
        body=f"First message about {subject}.",
        requester_email=requester,
        **kwargs,
    )


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def state(*tickets: Ticket) -> list:
    """Everything a merge may touch, to compare before and after (a refusal, an undo)."""
    rows = []
    for t in tickets:
        t = fresh(t)
        rows.append(
            (
                t.status,
                t.resolution,
                t.resolved_at,
                t.closed_at,
                sorted(ThreadEntry.objects.filter(ticket=t).values_list("pk", flat=True)),
                sorted(Collaborator.objects.filter(ticket=t).values_list("contact__email", flat=True)),
                sorted(t.tags.values_list("name", flat=True)),
                t.custom_fields,
            )
        )
    return rows


@pytest.fixture
def pair(people):
    """A survivor (target) with a reply, and a later duplicate (source) with a note, tags, a collaborator."""
    target = make(people, "Phishing from invoice@evil.test", tags=["phishing"], custom_fields={})
    source = make(
        people, "Invoice e-mail looks odd", requester="erin@example.test", tags=["phishing", "finance"]
    )
    actor = people.actor(people.alice)
    services.ticket_reply(actor=actor, ticket=target, body="We are looking into it.")
    services.ticket_note(actor=people.actor(people.bob), ticket=source, body="Same sender as the other one.")
    services.collaborator_add(actor=actor, ticket=source, email="frank@example.test")
    Ticket.objects.filter(pk=source.pk).update(custom_fields={"mailbox": "finance@example.test"})
    return fresh(source), fresh(target)


def test_merge_moves_the_thread_interleaved_and_closes_the_source_as_a_duplicate(people, pair):
    source, target = pair
    source_entries = list(
        ThreadEntry.objects.filter(ticket=source).values_list("pk", "author_label", "created_at")
    )
    merge = services.ticket_merge(actor=people.actor(people.alice), source=source, target=target)
    thread = list(ticket_thread(fresh(target)))
    # Every entry of the source is now on the target with its own author and time, in time order.
    assert {(e.pk, e.author_label, e.created_at) for e in thread} >= set(source_entries)
    assert [e.created_at for e in thread] == sorted(e.created_at for e in thread)
    authors = [e.author_label for e in thread if e.kind != "event"]
    assert authors == ["alice", "alice", "alice", "bob"]  # target opened, source opened, reply, note
    line = thread[-1]
    assert line.kind == "event" and line.pk == merge.target_entry_id
    assert line.body.startswith(f"alice merged {source.number} (Invoice e-mail looks odd) into this ticket: ")
    assert "2 thread entries" in line.body and "2 collaborators" in line.body and "1 tag" in line.body
    closed = fresh(source)
    assert (closed.status, closed.resolution) == ("closed", "duplicate") and closed.closed_at is not None
    (only_line,) = [e.body for e in ticket_thread(closed)]
    # (The mail app adds its e-mails to the list: the auto-response to the source's requester.)
    assert only_line.startswith(
        f"alice merged this ticket into {target.number} as a duplicate: 2 thread entries, 2 collaborators, "
        "1 tag, 1 custom value"
    )
    assert only_line.endswith(" moved there.")
    link = TicketLink.objects.get()
    assert (link.from_ticket_id, link.to_ticket_id, link.kind) == (source.pk, target.pk, "duplicate")
    survivor = fresh(target)
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["finance", "phishing"]
    assert survivor.custom_fields == {"mailbox": "finance@example.test"}
    # The source's collaborator moved, and its requester is copied on the survivor.
    assert sorted(Collaborator.objects.filter(ticket=target).values_list("contact__email", flat=True)) == [
        "erin@example.test",
        "frank@example.test",
    ]
    assert merge.moved["thread"]["ids"] == [pk for pk, _a, _t in sorted(source_entries)]


def test_merge_is_one_audit_event_per_ticket_with_before_and_after(people, pair):
    source, target = pair
    assert source.status == "in_progress"  # bob's note acknowledged it
    services.ticket_merge(actor=people.actor(people.alice), source=source, target=target)
    on_source = AuditEvent.objects.get(action="ticket.merged")
    assert on_source.target_id == str(source.pk)
    assert on_source.before == {"status": "in_progress", "resolution": ""}
    assert on_source.after["status"] == "closed" and on_source.after["resolution"] == "duplicate"
    assert on_source.after["into"] == target.number and on_source.after["moved"]["thread"] == 2
    on_target = AuditEvent.objects.get(action="ticket.merge_received")
    assert on_target.target_id == str(target.pk) and on_target.after["from"] == source.number
    # Those two and nothing else: no separate link or status events.
    merge_events = AuditEvent.objects.filter(pk__gte=min(on_source.pk, on_target.pk))
    assert sorted(merge_events.values_list("action", flat=True)) == ["ticket.merge_received", "ticket.merged"]


def test_undo_the_same_day_puts_back_exactly_what_moved(people, pair):
    source, target = pair
    before = state(source, target)
    services.ticket_merge(actor=people.actor(people.alice), source=source, target=target)
    # Work on the survivor after the merge stays there.
    later = services.ticket_note(
        actor=people.actor(people.bob), ticket=fresh(target), body="Blocked the sender."
    )
    services.ticket_merge_undo(actor=people.actor(people.bob), source=fresh(source))
    after = state(source, target)
    # The source is as it was (its thread plus the merge and undo lines).
    assert after[0][:4] == before[0][:4] and after[0][5:] == before[0][5:]
    source_thread = list(ticket_thread(fresh(source)))
    assert [e.pk for e in source_thread if e.kind != "event"] == [pk for pk in before[0][4]]
    assert source_thread[-1].body.startswith(f"bob undid the merge into {target.number}")
    # The survivor has its own entries, the merge line, the later note and the undo line.
    assert set(after[1][4]) >= set(before[1][4]) | {later.pk}
    assert after[1][5:] == before[1][5:]
    assert not TicketLink.objects.exists()
    merge = TicketMerge.objects.get()
    assert merge.undone_by == "bob" and merge.undone_at is not None
    assert AuditEvent.objects.filter(action="ticket.merge_undone").count() == 2
    # It may be merged again after the undo.
    services.ticket_merge(actor=people.actor(people.alice), source=fresh(source), target=fresh(target))


def test_an_earlier_link_between_them_comes_back_on_undo(people, pair):
    source, target = pair
    services.ticket_link(actor=people.actor(people.alice), ticket=target, other=source, kind="parent_of")
    services.ticket_merge(actor=people.actor(people.alice), source=source, target=target)
    assert list(TicketLink.objects.values_list("kind", flat=True)) == ["duplicate"]
    services.ticket_merge_undo(actor=people.actor(people.alice), source=source)
    visible = tickets_visible_to(people.alice)
    assert [(i.side, i.ticket.number) for i in ticket_links(fresh(source), visible)] == [
        ("child_of", target.number)
    ]


def test_undo_is_refused_after_the_day_with_a_sentence(people, pair, settings):
    source, target = pair
    merge = services.ticket_merge(actor=people.actor(people.alice), source=source, target=target)
    TicketMerge.objects.filter(pk=merge.pk).update(merged_at=timezone.now() - timedelta(days=1))
    snapshot = state(source, target)
    with pytest.raises(ServiceError, match="can be undone only on the day it was made") as refused:
        services.ticket_merge_undo(actor=people.actor(people.alice), source=source)
    assert "Link the tickets or move what you need by hand instead." in refused.value.message
    assert state(source, target) == snapshot and TicketMerge.objects.get().undone_at is None


def test_the_day_is_the_installations(people, pair, settings):
    """Merged at 23:30 the evening before in Tokyo: already another day there, though still today in UTC."""
    settings.TIME_ZONE = "Asia/Tokyo"
    source, target = pair
    merge = services.ticket_merge(actor=people.actor(people.alice), source=source, target=target)
    now = timezone.now()
    assert services.merge_undo_refusal(merge, now) is None
    merge.merged_at = now - timedelta(days=1)
    assert "only on the day" in (services.merge_undo_refusal(merge, now) or "")


@pytest.mark.parametrize("case", ["self", "source_merged", "target_merged"])
def test_bad_merges_are_refused_with_nothing_written(people, pair, case):
    source, target = pair
    actor = people.actor(people.alice)
    third = make(people, "Third report")
    if case == "self":
        args, message = (source, source), "cannot be merged into itself"
    elif case == "source_merged":
        services.ticket_merge(actor=actor, source=source, target=target)
        args, message = (fresh(source), third), f"{source.number} was already merged into {target.number}"
    else:
        services.ticket_merge(actor=actor, source=source, target=target)
        args, message = (third, fresh(source)), f"merge into {target.number} instead"
    snapshot, events, merges = (
        state(source, target, third),
        AuditEvent.objects.count(),
        TicketMerge.objects.count(),
    )
    with pytest.raises(ServiceError, match=message):
        services.ticket_merge(actor=actor, source=args[0], target=args[1])
    assert state(source, target, third) == snapshot
    assert (AuditEvent.objects.count(), TicketMerge.objects.count()) == (events, merges)


def test_undo_of_a_ticket_not_merged_is_not_found(people, pair):
    with pytest.raises(NotFound, match="is not merged into another ticket"):
        services.ticket_merge_undo(actor=people.actor(people.alice), source=pair[0])


def test_undo_waits_for_a_later_merge_of_the_survivor_to_be_undone(people, pair):
    source, target = pair
    actor = people.actor(people.alice)
    third = make(people, "The main case")
    statuses = [source.status, target.status]
    services.ticket_merge(actor=actor, source=source, target=target)
    services.ticket_merge(actor=actor, source=fresh(target), target=third)
    with pytest.raises(ServiceError, match=f"{target.number} has since been merged into {third.number}"):
        services.ticket_merge_undo(actor=actor, source=fresh(source))
    services.ticket_merge_undo(actor=actor, source=fresh(target))
    services.ticket_merge_undo(actor=actor, source=fresh(source))
    assert [fresh(source).status, fresh(target).status] == statuses


def test_carol_cannot_merge_across_departments_and_learns_nothing(people, pair):
    source, target = pair
    hers = make(people, "IT case", department=people.it, agent=people.carol)
    snapshot = state(source, target, hers)
    for args in ((hers, target), (source, hers)):
        with pytest.raises(NotFound) as refused:
            services.ticket_merge(actor=people.actor(people.carol), source=args[0], target=args[1])
        assert refused.value.message.endswith("was not found.") and "IT" not in refused.value.message
    assert state(source, target, hers) == snapshot and not TicketMerge.objects.exists()
    services.ticket_merge(actor=people.actor(people.alice), source=source, target=target)
    with pytest.raises(NotFound):
        services.ticket_merge_undo(actor=people.actor(people.carol), source=fresh(source))


def test_merging_needs_close_on_the_source(people, pair):
    from socdesk.accounts.services import access_grant, agent_create, role_create
    from socdesk.core.actor import Actor

    editor = role_create(actor=Actor.system("t"), name="Editor", permissions=["view", "edit"])
    erin = agent_create(
        actor=Actor.system("t"), username="erin", email="erin.agent@example.test", password="x"
    )
    access_grant(actor=Actor.system("t"), agent=erin, department=people.soc, role=editor)
    with pytest.raises(PermissionDenied, match="resolve and close tickets permission"):
        services.ticket_merge(actor=people.actor(erin), source=pair[0], target=pair[1])
    assert not TicketMerge.objects.exists()


def test_a_collaborator_already_on_the_survivor_is_not_doubled(people, pair):
    source, target = pair
    services.collaborator_add(actor=people.actor(people.alice), ticket=target, email="frank@example.test")
    services.ticket_merge(actor=people.actor(people.alice), source=source, target=target)
    assert Collaborator.objects.filter(ticket=target, contact__email="frank@example.test").count() == 1
    services.ticket_merge_undo(actor=people.actor(people.alice), source=source)
    assert Collaborator.objects.filter(contact__email="frank@example.test").count() == 2
    assert Contact.objects.filter(email="erin@example.test").exists()


def test_a_merge_costs_the_same_queries_whatever_the_size_of_the_thread(people):
    """Rows move in one UPDATE per kind: a long thread does not cost a query per entry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def merge_cost(notes: int) -> int:
        target, source = make(people, f"Target {notes}"), make(people, f"Source {notes}")
        for n in range(notes):
            services.ticket_note(actor=people.actor(people.bob), ticket=source, body=f"Note {n}")
        with CaptureQueriesContext(connection) as queries:
            services.ticket_merge(
                actor=people.actor(people.alice), source=fresh(source), target=fresh(target)
            )
        assert ThreadEntry.objects.filter(ticket=target).count() == notes + 2 + 1
        return len(queries)

    assert merge_cost(1) == merge_cost(40)
