"""The filter editor's dry run: which filters would match a subject, which conditions held, what they do.

Pure (no database). The outcome is the matching engine's own `Ruleset.evaluate`: the matched filters, the
actions in order and the regex timeouts are exactly what a new ticket would get. What it adds is the
explanation: every condition of every filter evaluated on its own (not stopping at the first that
decides), and why a filter was not considered (another channel, another integration, an earlier stop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from socdesk.routing.matching import CompiledFilter, Ruleset
from socdesk.routing.vocabulary import (
    ActionType,
    Channel,
    Evaluation,
    FilterSpec,
    MatchedAction,
    MatchSubject,
)


@dataclass(frozen=True)
class ConditionOutcome:
    """One condition as written, and whether it held for the subject (False when its regex timed out)."""

    number: int
    field: str
    operator: str
    value: Any
    held: bool
    timed_out: bool = False


@dataclass(frozen=True)
class FilterOutcome:
    """One filter of the ruleset: matched or not, its conditions, and why it was not considered if so."""

    id: int
    name: str
    matched: bool
    conditions: tuple[ConditionOutcome, ...]
    actions: tuple[MatchedAction, ...]
    not_considered: str = ""


@dataclass(frozen=True)
class DryRun:
    """The evaluation a new ticket would get, and each filter's explanation, in filter order."""

    evaluation: Evaluation
    filters: tuple[FilterOutcome, ...]

    @property
    def matched(self) -> tuple[FilterOutcome, ...]:
        return tuple(f for f in self.filters if f.matched)


def _ends_run(compiled: CompiledFilter) -> bool:
    return compiled.stop_on_match or any(
        a.type in (ActionType.STOP, ActionType.REJECT, ActionType.BAN_SENDER) for a in compiled.actions
    )


def _conditions(
    ruleset: Ruleset, compiled: CompiledFilter, spec: FilterSpec | None, subject: MatchSubject
) -> tuple[ConditionOutcome, ...]:
    outcomes = []
    for condition in compiled.conditions:
        values = ruleset.getters[condition.getter_key](subject)
        timed_out = False
        try:
            held = any(condition.predicate(value) for value in values) is not condition.negate
        except TimeoutError:
            held, timed_out = False, True  # as the evaluation counts it: no match
        written = spec.conditions[condition.index] if spec is not None else None
        outcomes.append(
            ConditionOutcome(
                number=condition.index + 1,
                field=written.field if written else condition.field_name,
                operator=written.operator if written else "",
                value=written.value if written else None,
                held=held,
                timed_out=timed_out,
            )
        )
    return tuple(outcomes)


def dry_run(ruleset: Ruleset, subject: MatchSubject, specs: Mapping[int, FilterSpec]) -> DryRun:
    """Evaluate the ruleset on the subject and explain each filter (specs: the written filters by id)."""
    evaluation = ruleset.evaluate(subject)
    matched = set(evaluation.matched)
    applicable = {
        f.id for f in ruleset.by_channel.get(subject.channel, ruleset.by_channel.get(Channel.ANY, ()))
    }
    outcomes = []
    stopped_by = ""
    for compiled in ruleset.filters:
        reason = ""
        if compiled.id not in applicable:
            reason = f"It is for the {compiled.channel.value} channel, not {subject.channel}."
        elif compiled.channel_id is not None and compiled.channel_id != subject.channel_id:
            reason = "It is for another integration or mailbox."
        elif stopped_by:
            reason = f"Not reached: filter {stopped_by!r} ended the run."
        conditions = _conditions(ruleset, compiled, specs.get(compiled.id), subject)
        is_match = compiled.id in matched and not reason
        actions = tuple(a for a in compiled.actions if a.type is not ActionType.STOP) if is_match else ()
        outcomes.append(
            FilterOutcome(
                id=compiled.id,
                name=compiled.name,
                matched=is_match,
                conditions=conditions,
                actions=actions,
                not_considered=reason,
            )
        )
        if is_match and _ends_run(compiled) and not stopped_by:
            stopped_by = compiled.name
    return DryRun(evaluation=evaluation, filters=tuple(outcomes))
