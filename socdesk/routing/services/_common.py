"""Helpers the routing services share: checks of referenced objects."""

from __future__ import annotations

from socdesk.routing.models import FilterRule


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
