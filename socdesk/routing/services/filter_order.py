"""Writes for the ticket filter list: turning a filter on or off and moving it up or down; audited."""

from __future__ import annotations

from django.db import transaction

from socdesk.audit.services import record
from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.routing.matching import compile_filter
from socdesk.routing.models import FilterRule
from socdesk.routing.selectors import filter_spec_of
from socdesk.routing.snapshot import configuration_changed
from socdesk.routing.vocabulary import RuleError

# Orders are renumbered in steps, so a filter written elsewhere with an order in between keeps its place.
ORDER_STEP = 10


@transaction.atomic
def filter_set_enabled(*, actor: Actor, rule: FilterRule, enabled: bool) -> FilterRule:
    """Turn a ticket filter on or off. Turning on checks it compiles first (a filter disabled as invalid
    stays off until it is fixed); turning off always works."""
    rule = FilterRule.objects.select_for_update().get(pk=rule.pk)
    if rule.enabled == enabled:
        return rule
    if enabled:
        try:
            compile_filter(filter_spec_of(rule))
        except RuleError as error:
            raise ServiceError(
                f"{error} Fix it before turning it on.", fields={"enabled": "invalid"}
            ) from None
    before = {"enabled": rule.enabled, "disabled_reason": rule.disabled_reason}
    rule.enabled = enabled
    if enabled:
        rule.disabled_reason = ""
    rule.save(update_fields=["enabled", "disabled_reason", "updated_at"])
    record(
        actor=actor,
        action="ticket_filter.enabled" if enabled else "ticket_filter.disabled",
        target=rule,
        before=before,
        after={"enabled": rule.enabled, "disabled_reason": rule.disabled_reason},
    )
    return rule


@transaction.atomic
def filter_move(*, actor: Actor, rule: FilterRule, offset: int) -> list[FilterRule]:
    """Move a filter `offset` places in the run order (-1: up, runs earlier; 1: down) and renumber the
    filters in steps of ten; returns the filters in their new order. A move past either end is refused."""
    rules = list(FilterRule.objects.select_for_update().order_by("order", "id"))
    position = next((i for i, r in enumerate(rules) if r.pk == rule.pk), None)
    if position is None:
        raise ServiceError("That ticket filter no longer exists.")
    target = position + offset
    if not 0 <= target < len(rules):
        where = "first" if target < 0 else "last"
        raise ServiceError(f"Filter {rules[position].name!r} already runs {where}.", fields={"order": "edge"})
    before = [r.name for r in rules]
    moved = rules.pop(position)
    rules.insert(target, moved)
    changed = []
    for index, each in enumerate(rules, start=1):
        if each.order != index * ORDER_STEP:
            each.order = index * ORDER_STEP
            changed.append(each)
    FilterRule.objects.bulk_update(changed, ["order"])
    configuration_changed()  # a bulk update sends no signal
    record(
        actor=actor,
        action="ticket_filter.reordered",
        target=moved,
        before={"order": before},
        after={"order": [r.name for r in rules]},
    )
    return rules
