"""Whose figures an agent sees: their departments only; a department or team they may not see is refused
exactly like one that does not exist (404), for the personas."""

from __future__ import annotations

import pytest

from socdesk.accounts.models import Department
from socdesk.accounts.services import team_create
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound
from socdesk.reports.figures import Scope
from socdesk.reports.selectors import scope_for_agent

pytestmark = pytest.mark.django_db


def test_analysts_see_their_department_and_admin_every_one(people):
    assert scope_for_agent(people.alice) == Scope(frozenset({people.soc.pk}))
    assert scope_for_agent(people.bob) == Scope(frozenset({people.soc.pk}))
    assert scope_for_agent(people.carol) == Scope(frozenset({people.it.pk}))
    assert scope_for_agent(people.admin) == Scope(frozenset(Department.objects.values_list("pk", flat=True)))


def test_narrowing_to_a_visible_department_or_team(people):
    assert scope_for_agent(people.admin, department_id=people.it.pk) == Scope(frozenset({people.it.pk}))
    assert scope_for_agent(people.alice, team_id=people.tier1.pk) == Scope(
        frozenset({people.soc.pk}), team_id=people.tier1.pk
    )
    assert scope_for_agent(people.alice, department_id=people.soc.pk, team_id=people.tier1.pk).team_id == (
        people.tier1.pk
    )


@pytest.mark.parametrize(
    "who, department, team",
    [
        ("carol", "soc", None),  # another department's figures
        ("carol", None, "tier1"),  # another department's team
        ("alice", "it", None),
        ("alice", "missing", None),  # does not exist: the same refusal
        ("admin", "missing", None),
        ("alice", None, "missing"),
        ("admin", "it", "tier1"),  # a team outside the department asked for
    ],
)
def test_what_the_agent_may_not_see_is_not_found_like_what_does_not_exist(people, who, department, team):
    ids = {"soc": people.soc.pk, "it": people.it.pk, "tier1": people.tier1.pk, "missing": 987654, None: None}
    with pytest.raises(NotFound) as refused:
        scope_for_agent(getattr(people, who), department_id=ids[department], team_id=ids[team])
    assert str(refused.value) in ("No such department.", "No such team.")


def test_a_team_member_sees_their_teams_department(people):
    team_create(
        actor=Actor.system("test-setup"), name="IT night shift", department=people.it, members=[people.alice]
    )
    scope = scope_for_agent(people.alice)
    assert scope.department_ids == {people.soc.pk, people.it.pk}
