"""Each kind of notification reaches the right agents and nobody else: alice and bob work in SOC (team
Tier 1), carol in IT never hears of SOC tickets, and nobody is told of their own action."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.models import Agent
from socdesk.core.actor import Actor
from socdesk.notifications.choices import Kind
from socdesk.notifications.models import Notification
from socdesk.notifications.services import notification_preferences_set
from socdesk.routing.events import Escalation, escalations_announce
from socdesk.tickets import services
from socdesk.tickets.services import TicketDraft
from tests.notifications.conftest import requester, told


def everyone(people) -> list[Agent]:
    return [people.alice, people.bob, people.carol, people.admin]


# --- assigned to me or my team ------------------------------------------------------------------------


def test_assigning_tells_the_new_assignee_only(people, soc_ticket):
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    [note] = told(people.bob)
    assert (note.kind, note.ticket_id, note.actor_label) == (Kind.ASSIGNED, soc_ticket.pk, "alice")
    assert note.text == "alice assigned the ticket to you." and note.read_at is None
    assert Notification.objects.count() == 1  # not alice (she did it), not carol, not admin


def test_assigning_to_a_team_tells_its_members_but_not_the_one_who_did_it(people, soc_ticket):
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, team=people.tier1)
    assert [n.text for n in told(people.bob)] == ["alice assigned the ticket to your team Tier 1."]
    assert told(people.alice) == [] and told(people.carol) == []


def test_assignee_and_team_at_once_tell_the_assignee_once(people, soc_ticket):
    services.ticket_assign(
        actor=people.actor(people.admin), ticket=soc_ticket, agent=people.bob, team=people.tier1
    )
    assert [n.text for n in told(people.bob)] == ["admin assigned the ticket to you."]
    assert [n.text for n in told(people.alice)] == ["admin assigned the ticket to your team Tier 1."]


def test_a_ticket_opened_for_an_assignee_tells_them(people):
    services.ticket_create(
        actor=people.actor(people.alice),
        subject="Mailbox rule exfiltration",
        department=people.soc,
        assignee=people.bob,
    )
    assert [n.kind for n in told(people.bob)] == [Kind.ASSIGNED]
    assert told(people.alice) == []


def test_claiming_tells_nobody_and_reassigning_tells_only_the_new_owner(people, soc_ticket):
    services.ticket_claim(actor=people.actor(people.bob), ticket=soc_ticket)
    assert Notification.objects.count() == 0
    services.ticket_assign(actor=people.actor(people.bob), ticket=soc_ticket, agent=people.alice)
    assert [n.kind for n in told(people.alice)] == [Kind.ASSIGNED] and told(people.bob) == []


def test_an_unchanged_assignee_is_not_told_again(people, soc_ticket):
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    services.ticket_assign(
        actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob, team=people.tier1
    )
    assert [n.text for n in told(people.bob)] == ["alice assigned the ticket to you."]


# --- requester replied --------------------------------------------------------------------------------


def test_a_requester_message_tells_the_assignee(people, soc_ticket):
    services.ticket_assign(actor=people.actor(people.admin), ticket=soc_ticket, agent=people.bob)
    Notification.objects.all().delete()
    services.ticket_add_message(actor=requester(soc_ticket.requester), ticket=soc_ticket, body="Any news?")
    [note] = told(people.bob)
    assert note.kind == Kind.REQUESTER_REPLIED and note.text == "Dana Reyes <dana@example.test> replied."
    assert Notification.objects.count() == 1


def test_a_requester_message_on_a_team_ticket_tells_the_team(people, soc_ticket):
    services.ticket_assign(actor=people.actor(people.admin), ticket=soc_ticket, team=people.tier1)
    Notification.objects.all().delete()
    services.ticket_add_message(actor=requester(soc_ticket.requester), ticket=soc_ticket, body="Hello?")
    assert {n.recipient_id for n in Notification.objects.all()} == {people.alice.pk, people.bob.pk}


def test_a_requester_message_on_an_unowned_ticket_tells_nobody(people, soc_ticket):
    services.ticket_add_message(actor=requester(soc_ticket.requester), ticket=soc_ticket, body="Hello?")
    assert Notification.objects.count() == 0


# --- mentioned in a note ------------------------------------------------------------------------------


def test_mentions_reach_agents_who_may_see_the_ticket_only(people, soc_ticket):
    services.ticket_note(
        actor=people.actor(people.alice),
        ticket=soc_ticket,
        body="@bob can you look? cc @admin, @carol (IT) and @nobody; mail dana@example.test. @alice: me",
    )
    assert [n.text for n in told(people.bob)] == ["alice mentioned you in a note."]
    assert [n.kind for n in told(people.admin)] == [Kind.MENTIONED]  # admins see every ticket
    assert told(people.carol) == []  # cannot see SOC tickets
    assert told(people.alice) == []  # her own note
    assert Notification.objects.count() == 2


def test_a_mention_in_a_reply_is_no_mention(people, soc_ticket):
    services.ticket_reply(actor=people.actor(people.alice), ticket=soc_ticket, body="Thanks, @bob will call.")
    assert Notification.objects.count() == 0


def test_an_inactive_agent_is_never_told(people, soc_ticket):
    people.bob.user.is_active = False
    people.bob.user.save()
    services.ticket_note(actor=people.actor(people.alice), ticket=soc_ticket, body="@bob see this")
    assert Notification.objects.count() == 0


# --- new ticket in my department (off by default) -----------------------------------------------------


def test_new_tickets_are_off_by_default(people, soc_ticket):
    assert Notification.objects.count() == 0


def watch_new_tickets(agent) -> None:
    notification_preferences_set(actor=Actor.for_agent(agent), choices={Kind.NEW_TICKET: (True, False)})


def test_new_tickets_reach_watchers_who_may_see_the_department(people):
    for agent in everyone(people):
        watch_new_tickets(agent)
    ticket = services.ticket_create(
        actor=people.actor(people.alice), subject="Beaconing to 203.0.113.7", department=people.soc
    )
    [note] = told(people.bob)
    assert note.kind == Kind.NEW_TICKET and note.ticket == ticket
    assert note.text == "New medium ticket in SOC, from alice."
    # carol holds no role in SOC; the admin holds none either (admins see all, but watch departments
    # where they hold a role); alice opened it.
    assert told(people.carol) == [] and told(people.admin) == [] and told(people.alice) == []


def test_an_alert_batch_tells_a_watcher_once_per_ticket_in_a_fixed_number_of_queries(
    people, django_assert_max_num_queries
):
    from socdesk.notifications.triggers import tickets_created

    watch_new_tickets(people.bob)
    watch_new_tickets(people.carol)
    ingest = Actor.system("ingest")
    drafts = [
        TicketDraft(
            actor=ingest, subject=f"Alert {i}", department=people.soc, source="alert", severity="high"
        )
        for i in range(40)
    ]
    with transaction.atomic():
        tickets = services.ticket_create_many(drafts)
    assert len(told(people.bob, Kind.NEW_TICKET)) == 40 and told(people.carol) == []
    Notification.objects.all().delete()
    # The hook alone: the watchers (2 queries), the agents (1), preferences (1), one bulk insert.
    with django_assert_max_num_queries(6):
        tickets_created(tickets, drafts, datetime.now(UTC))
    assert len(told(people.bob)) == 40


def test_a_transfer_into_a_department_tells_its_watchers(people):
    watch_new_tickets(people.bob)
    watch_new_tickets(people.carol)
    ticket = services.ticket_create(
        actor=people.actor(people.carol), subject="VPN down", department=people.it
    )
    assert Notification.objects.count() == 0  # carol opened it; bob does not see IT
    services.ticket_transfer(
        actor=people.actor(people.admin), ticket=ticket, department=people.soc, reason="Looks like an attack"
    )
    assert [n.text for n in told(people.bob)] == ["admin transferred the ticket to SOC."]
    assert told(people.carol) == []


# --- SLA ----------------------------------------------------------------------------------------------


def test_escalations_tell_the_agents_the_level_names(people, soc_ticket):
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with CaptureQueriesContext(connection) as queries:
        escalations_announce(
            [
                Escalation(soc_ticket, "response", "at_risk", 1, (people.bob,), at),
                Escalation(soc_ticket, "resolution", "breached", 2, (people.bob, people.alice), at),
            ]
        )
    # One batch, one write: the agents, their preferences, one insert (not a round per escalation).
    assert len(queries.captured_queries) <= 4
    assert [(n.kind, n.text) for n in told(people.bob)] == [
        (Kind.SLA_AT_RISK, "The response target is at risk (escalation level 1)."),
        (Kind.SLA_BREACHED, "The resolution target is breached (escalation level 2)."),
    ]
    assert [n.kind for n in told(people.alice)] == [Kind.SLA_BREACHED]
    assert told(people.bob)[0].created_at == at and told(people.bob)[0].actor_label == ""
    assert told(people.carol) == []


# --- preferences and transactions ---------------------------------------------------------------------


def test_an_agent_who_turned_a_kind_off_is_not_told(people, soc_ticket):
    notification_preferences_set(
        actor=people.actor(people.bob), choices={Kind.ASSIGNED: (False, True), Kind.MENTIONED: (True, False)}
    )
    services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
    assert told(people.bob) == []
    services.ticket_note(actor=people.actor(people.alice), ticket=soc_ticket, body="@bob look")
    assert [n.kind for n in told(people.bob)] == [Kind.MENTIONED]


def test_a_change_rolled_back_leaves_no_notification(people, soc_ticket):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_assign(actor=people.actor(people.alice), ticket=soc_ticket, agent=people.bob)
        assert len(told(people.bob)) == 1
        raise RuntimeError("the caller gives up")
    assert Notification.objects.count() == 0
