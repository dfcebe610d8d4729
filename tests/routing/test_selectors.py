"""The compiled ruleset: built from the database, cached per process, rebuilt when the version row moves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socdesk.core.actor import Actor
from socdesk.routing import selectors
from socdesk.routing.models import FilterRule, RulesetVersion
from socdesk.routing.selectors import ruleset_current, ruleset_skipped
from socdesk.routing.services.filters import FilterDefinition, filter_create, filter_update
from socdesk.routing.vocabulary import MatchSubject

pytestmark = pytest.mark.django_db

SUBJECT = MatchSubject(
    channel="web", received_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), subject="Phishing mail"
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    selectors._cached = None
    yield
    selectors._cached = None


def definition(name: str, order: int, word: str = "phishing") -> FilterDefinition:
    return FilterDefinition(
        name=name,
        order=order,
        conditions=[{"field": "subject", "operator": "contains", "value": word}],
        actions=[{"type": "add_tags", "value": [name]}],
    )


def test_ruleset_is_built_in_order_and_cached_until_a_change(people, django_assert_num_queries):
    actor = Actor.for_agent(people.admin)
    second = filter_create(actor=actor, definition=definition("second", 20))
    filter_create(actor=actor, definition=definition("first", 10))
    assert ruleset_current().evaluate(SUBJECT).matched[0] != second.pk
    assert [a.value for a in ruleset_current().evaluate(SUBJECT).actions] == [("first",), ("second",)]
    with django_assert_num_queries(1):  # the version row only
        cached = ruleset_current()
    with django_assert_num_queries(1):
        assert ruleset_current() is cached
    filter_update(actor=actor, rule=second, definition=definition("second", 5))
    rebuilt = ruleset_current()
    assert rebuilt is not cached
    assert [a.value for a in rebuilt.evaluate(SUBJECT).actions] == [("second",), ("first",)]


def test_another_process_change_is_seen_through_the_version_row(people):
    actor = Actor.for_agent(people.admin)
    filter_create(actor=actor, definition=definition("first", 10))
    assert len(ruleset_current().filters) == 1
    # Another process wrote a filter and moved the stamp (simulated with a write that sends no signal).
    FilterRule.objects.bulk_create(
        [
            FilterRule(
                name="other",
                conditions=[{"field": "subject", "operator": "contains", "value": "mail"}],
                actions=[{"type": "stop"}],
            )
        ]
    )
    assert len(ruleset_current().filters) == 1  # stamp unchanged: still the cached ruleset
    RulesetVersion.objects.filter(pk=1).update(stamp="from-elsewhere")
    assert len(ruleset_current().filters) == 2


def test_a_filter_that_no_longer_compiles_is_skipped_not_fatal(people):
    actor = Actor.for_agent(people.admin)
    good = filter_create(actor=actor, definition=definition("good", 10))
    FilterRule.objects.create(
        name="broken",
        conditions=[{"field": "subject", "operator": "matches", "value": "(oops"}],
        actions=[{"type": "stop"}],
    )
    RulesetVersion.objects.filter(pk=1).update(stamp="changed")
    assert ruleset_current().evaluate(SUBJECT).matched == (good.pk,)
    ((skipped_id, reason),) = ruleset_skipped()
    assert FilterRule.objects.get(pk=skipped_id).name == "broken"
    assert "does not compile" in reason


def test_empty_database_gives_an_empty_ruleset():
    assert ruleset_current().evaluate(SUBJECT).matched == ()


def test_a_rolled_back_change_is_never_mistaken_for_a_later_committed_one(people):
    """The stamp is new at every change: a counter alone reads 1 both times and keeps the stale ruleset."""
    from django.db import transaction

    actor = Actor.for_agent(people.admin)
    with pytest.raises(RuntimeError), transaction.atomic():
        filter_create(actor=actor, definition=definition("rolled back", 10))
        assert len(ruleset_current().filters) == 1  # this process saw the uncommitted change
        raise RuntimeError("the request failed after the filter was written")
    filter_create(actor=actor, definition=definition("kept", 10, word="mail"))
    assert RulesetVersion.objects.get(pk=1).version == 1
    assert [f.name for f in ruleset_current().filters] == ["kept"]


def test_schedule_pure_matches_the_definition(people, django_assert_num_queries):
    from datetime import date

    from socdesk.routing import sla
    from socdesk.routing.selectors import schedule_pure
    from socdesk.routing.services.sla import ScheduleDefinition, schedule_create

    actor = Actor.for_agent(people.admin)
    hours = {"mon": ["13:00-17:00", "09:00-12:00"], "sat": ["10:00-24:00"]}
    stored = schedule_create(
        actor=actor,
        definition=ScheduleDefinition(
            name="Paris", time_zone="Europe/Paris", hours=hours, holidays={date(2026, 12, 25): "Noël"}
        ),
    )
    with django_assert_num_queries(2):
        pure = schedule_pure(stored)
    assert pure == sla.Schedule.weekly("Europe/Paris", hours, [date(2026, 12, 25)])
    always = schedule_create(actor=actor, definition=ScheduleDefinition(name="24/7", always=True))
    assert schedule_pure(always) == sla.Schedule.twenty_four_seven()
