"""Filters saved at the same moment by several writers each move the ruleset version (both databases)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from socdesk.accounts.testing import make_personas
from socdesk.core.actor import Actor
from socdesk.routing import selectors
from socdesk.routing.models import FilterRule, RulesetVersion
from socdesk.routing.services.filters import FilterDefinition, filter_create

WRITERS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_filter_saves_each_bump_the_version_even_the_first():
    actor = Actor.for_agent(make_personas().admin)
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def save(i: int) -> None:
        try:
            start.wait(timeout=30)
            filter_create(
                actor=actor,
                definition=FilterDefinition(
                    name=f"filter {i}",
                    conditions=[{"field": "subject", "operator": "contains", "value": f"word{i}"}],
                    actions=[{"type": "add_tags", "value": [f"t{i}"]}],
                ),
            )
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert FilterRule.objects.count() == WRITERS
    assert RulesetVersion.objects.get(pk=1).version == WRITERS
    selectors._cached = None
    assert len(selectors.ruleset_current().filters) == WRITERS
