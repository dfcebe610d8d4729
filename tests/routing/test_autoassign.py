"""Auto-assignment: round-robin and fewest-open among on-duty agents, per department or team, audited as
the system's doing; policies are admins' to change."""

from __future__ import annotations

import pytest

from socdesk.accounts.choices import Perm
from socdesk.accounts.services import (
    access_grant,
    agent_create,
    agent_set_availability,
    role_create,
    team_create,
    user_set_flags,
)
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied, ServiceError
from socdesk.routing.autoassign import fewest_open_picks, round_robin_picks
from socdesk.routing.models import AssignmentPolicy
from socdesk.routing.services.assignment import assignment_policy_set
from socdesk.tickets.choices import Status
from socdesk.tickets.history import describe_event
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import TicketDraft, ticket_change_status, ticket_create, ticket_create_many

SETUP = Actor.system("test-setup")


# --- the pure picks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidates", "last", "count", "expected"),
    [
        ([], None, 3, []),
        ([3, 1, 2], None, 4, [1, 2, 3, 1]),
        ([1, 2, 3], 1, 2, [2, 3]),
        ([1, 2, 3], 3, 2, [1, 2]),
        # the last one went away: the next after them by id, not a restart
        ([1, 3, 5], 4, 2, [5, 1]),
        # a pointer beyond everyone wraps to the first
        ([1, 2], 9, 1, [1]),
    ],
)
def test_round_robin_picks(candidates, last, count, expected):
    assert round_robin_picks(candidates, last, count) == expected


@pytest.mark.parametrize(
    ("counts", "count", "expected"),
    [
        ({}, 2, []),
        ({1: 3, 2: 0, 3: 1}, 1, [2]),
        ({1: 3, 2: 0, 3: 1}, 4, [2, 2, 3, 2]),
        ({5: 1, 4: 1}, 3, [4, 5, 4]),  # a tie goes to the lower id
    ],
)
def test_fewest_open_picks(counts, count, expected):
    assert fewest_open_picks(counts, count) == expected


# --- the hook, through the one ticket path --------------------------------------------------------------


def _open(people, subject="Alert", **kwargs):
    return ticket_create(actor=SETUP, subject=subject, department=people.soc, **kwargs)


@pytest.fixture
def dave(people):
    """A third SOC analyst, so round-robin has three to go round."""
    dave = agent_create(actor=SETUP, username="dave", email="dave@example.test", password=None)
    access_grant(actor=SETUP, agent=dave, department=people.soc, role=people.analyst)
    return dave


def test_without_a_policy_new_tickets_stay_unassigned(people):
    assert _open(people).assignee is None
    assignment_policy_set(actor=SETUP, department=people.soc, mode="none")
    assert _open(people).assignee is None


def test_round_robin_goes_round_the_on_duty_agents_in_turn(people, dave):
    assignment_policy_set(actor=SETUP, department=people.soc, mode="round_robin")
    assignees = [_open(people, f"t{i}").assignee for i in range(6)]
    assert assignees == [people.alice, people.bob, dave] * 2
    assert AssignmentPolicy.objects.get(department=people.soc).last_agent == dave


def test_round_robin_in_one_batch_and_across_batches(people, dave):
    assignment_policy_set(actor=SETUP, department=people.soc, mode="round_robin")
    drafts = [TicketDraft(actor=SETUP, subject=f"a{i}", department=people.soc) for i in range(4)]
    first = [t.assignee for t in ticket_create_many(drafts)]
    second = _open(people).assignee
    assert first == [people.alice, people.bob, dave, people.alice]
    assert second == people.bob


def test_fewest_open_gives_to_the_least_loaded_and_counts_only_open_tickets(people, dave):
    actor = Actor.for_agent(people.alice)
    # alice holds two open tickets, bob one open and two resolved, dave none
    for _ in range(2):
        _open(people, assignee=people.alice)
    _open(people, assignee=people.bob)
    for _ in range(2):
        ticket = _open(people, assignee=people.bob)
        ticket_change_status(actor=actor, ticket=ticket, status=Status.RESOLVED, resolution="false_positive")
    assignment_policy_set(actor=SETUP, department=people.soc, mode="fewest_open")
    drafts = [TicketDraft(actor=SETUP, subject=f"f{i}", department=people.soc) for i in range(4)]
    picked = [t.assignee for t in ticket_create_many(drafts)]
    # loads alice 2, bob 1, dave 0: dave, then bob (tied with dave at 1, lower id), dave, alice (all at 2)
    assert picked == [dave, people.bob, dave, people.alice]


def test_away_agents_get_nothing_new_and_come_back_in_turn(people, dave):
    assignment_policy_set(actor=SETUP, department=people.soc, mode="round_robin")
    agent_set_availability(actor=Actor.for_agent(people.bob), agent=people.bob, available=False)
    assert [_open(people).assignee for _ in range(4)] == [people.alice, dave, people.alice, dave]
    agent_set_availability(actor=Actor.for_agent(people.bob), agent=people.bob, available=True)
    assert _open(people).assignee == people.alice
    assert _open(people).assignee == people.bob


def test_inactive_agents_and_agents_without_access_are_skipped(people, dave):
    user_set_flags(actor=SETUP, user=dave.user, is_active=False)
    # carol is in IT only; a SOC role that cannot view tickets is no access either
    blind = role_create(actor=SETUP, name="Reporter", permissions=[Perm.CREATE])
    access_grant(actor=SETUP, agent=people.carol, department=people.soc, role=blind)
    # and admin, who holds no role in SOC, is no SOC agent either
    assignment_policy_set(actor=SETUP, department=people.soc, mode="fewest_open")
    picked = {_open(people, f"t{i}").assignee for i in range(6)}
    assert picked == {people.alice, people.bob}


def test_everyone_away_leaves_the_ticket_unassigned_and_unaudited(people):
    assignment_policy_set(actor=SETUP, department=people.soc, mode="round_robin")
    for agent in (people.alice, people.bob):
        agent_set_availability(actor=Actor.for_agent(agent), agent=agent, available=False)
    ticket = _open(people)
    assert ticket.assignee is None
    assert not AuditEvent.objects.filter(action="ticket.auto_assigned").exists()


def test_an_assignee_given_by_the_caller_is_kept(people):
    assignment_policy_set(actor=SETUP, department=people.soc, mode="round_robin")
    assert _open(people, assignee=people.bob).assignee == people.bob
    # the pointer did not move for it
    assert _open(people).assignee == people.alice


def test_a_teams_policy_comes_first_and_picks_among_its_members(people, dave):
    night = team_create(actor=SETUP, name="Night shift", department=people.soc, members=[people.bob, dave])
    assignment_policy_set(actor=SETUP, department=people.soc, mode="fewest_open")
    assignment_policy_set(actor=SETUP, team=night, mode="round_robin")
    on_team = [_open(people, team=night).assignee for _ in range(3)]
    assert on_team == [people.bob, dave, people.bob]
    # no team: the department's policy (fewest open: alice has none)
    assert _open(people).assignee == people.alice


def test_a_team_member_without_a_role_in_the_department_is_skipped(people):
    outsider_team = team_create(actor=SETUP, name="Specialists", members=[people.alice, people.carol])
    assignment_policy_set(actor=SETUP, team=outsider_team, mode="round_robin")
    assert {_open(people, f"t{i}", team=outsider_team).assignee for i in range(3)} == {people.alice}


def test_a_team_without_a_policy_falls_back_to_the_department(people):
    assignment_policy_set(actor=SETUP, department=people.soc, mode="round_robin")
    ticket = _open(people, team=people.tier1)
    assert ticket.assignee == people.alice


def test_auto_assignment_is_audited_as_the_systems_doing(people):
    policy = assignment_policy_set(actor=SETUP, department=people.soc, mode="round_robin")
    ticket = _open(people)
    created = AuditEvent.objects.get(action="ticket.created", target_id=str(ticket.pk))
    assert created.after["assignee"] == people.alice.pk
    event = AuditEvent.objects.get(action="ticket.auto_assigned", target_id=str(ticket.pk))
    assert (event.actor_type, event.actor_label) == ("system", "auto-assignment")
    assert describe_event(event) == "assigned the ticket automatically"  # the ticket's history panel
    assert event.after == {
        "assignee": people.alice.pk,
        "policy": policy.pk,
        "mode": "round_robin",
        "by": "department",
    }


def test_a_batch_is_assigned_in_a_few_queries_whatever_its_size(people, dave):
    assignment_policy_set(actor=SETUP, department=people.soc, mode="fewest_open")
    ticket_create_many([TicketDraft(actor=SETUP, subject="warm", department=people.soc)])

    def queries_for(n: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        drafts = [TicketDraft(actor=SETUP, subject=f"b{i}", department=people.soc) for i in range(n)]
        with CaptureQueriesContext(connection) as captured:
            tickets = ticket_create_many(drafts)
        assert all(t.assignee is not None for t in tickets)
        return len(captured)

    assert queries_for(40) == queries_for(4)


# --- the policy service -----------------------------------------------------------------------------------


def test_only_admins_change_policies_and_a_refusal_writes_nothing(people):
    events = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied, match="Only an admin"):
        assignment_policy_set(actor=Actor.for_agent(people.alice), department=people.soc, mode="round_robin")
    assert not AssignmentPolicy.objects.exists() and AuditEvent.objects.count() == events
    assignment_policy_set(actor=Actor.for_agent(people.admin), department=people.soc, mode="round_robin")
    event = AuditEvent.objects.get(action="assignment_policy.changed")
    assert event.actor_label == "admin" and event.target_type == "department"
    assert (event.before, event.after) == ({"assignment_mode": "none"}, {"assignment_mode": "round_robin"})


def test_an_unknown_mode_is_refused_with_the_choices_named(people):
    with pytest.raises(ServiceError, match="choose one of none, round_robin, fewest_open"):
        assignment_policy_set(actor=SETUP, department=people.soc, mode="random")
    assert not AssignmentPolicy.objects.exists()


def test_setting_the_same_mode_again_records_nothing(people):
    assignment_policy_set(actor=SETUP, department=people.soc, mode="fewest_open")
    assignment_policy_set(actor=SETUP, department=people.soc, mode="fewest_open")
    assert AuditEvent.objects.filter(action="assignment_policy.changed").count() == 1


def test_a_policy_with_both_or_neither_owner_is_refused(people):
    with pytest.raises(ServiceError, match="one department or one team"):
        assignment_policy_set(actor=SETUP, mode="round_robin")
    with pytest.raises(ServiceError, match="one department or one team"):
        assignment_policy_set(actor=SETUP, mode="round_robin", department=people.soc, team=people.tier1)
    assert Ticket.objects.count() == 0 and not AssignmentPolicy.objects.exists()


def test_the_ticket_page_shows_who_assigned_it_automatically(people):
    from tests.console_helpers import client_for

    assignment_policy_set(actor=SETUP, department=people.soc, mode="round_robin")
    ticket = _open(people, "Beaconing from WS-7")
    page = client_for(people.bob).get(f"/tickets/{ticket.number}/").content.decode()
    assert "auto-assignment" in page and "assigned the ticket automatically" in page
