"""Helpers the routing services share: the ruleset version bump and checks of referenced objects."""

from __future__ import annotations

import uuid

from django.db.models import F

from socdesk.routing.models import FilterRule, RulesetVersion


def bump_ruleset_version() -> None:
    """Tell every process that the filters changed (inside the writing transaction).

    The stamp is new each time, not only the counter: a bump that rolls back is never reused by the next
    one, so a process that saw the rolled-back change cannot mistake it for the committed one.
    """
    stamp = uuid.uuid4().hex
    if RulesetVersion.objects.filter(pk=1).update(version=F("version") + 1, stamp=stamp):
        return
    _row, created = RulesetVersion.objects.get_or_create(pk=1, defaults={"version": 1, "stamp": stamp})
    if not created:  # another transaction made the row first
        RulesetVersion.objects.filter(pk=1).update(version=F("version") + 1, stamp=stamp)


def filters_using(action_type: str, object_id: int) -> list[str]:
    """Names of the filters with an action that points at this object (which then cannot be deleted)."""
    names = []
    for rule in FilterRule.objects.only("name", "actions"):
        if any(
            isinstance(action, dict)
            and action.get("type") == action_type
            and action.get("value") == object_id
            for action in rule.actions
        ):
            names.append(rule.name)
    return names
