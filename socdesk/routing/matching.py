"""Ticket filters (the rules engine): compile filter definitions once, evaluate them against a ticket draft.

Pure: no Django, no database. Services turn stored filters into `FilterSpec`s, `compile_ruleset` checks
and compiles them (regexes and CIDRs parsed once) into an immutable `Ruleset`, and `Ruleset.evaluate`
takes a `MatchSubject` (built from a ticket draft or a normalised alert) and returns the ordered actions
to apply and which filters matched. Evaluation never raises on the subject's content: a regex that runs
past its time limit counts as "no match" and is reported in the result.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex  # type: ignore[import-untyped]  # no stubs in the lock (types-regex would bring them)

from socdesk.routing.fields import (
    Getter,
    Values,
    as_text,
    clock_minutes,
    getter_for,
    ordered_key,
    text_of,
    view_of,
    weekday_of,
)
from socdesk.routing.vocabulary import (
    DEFAULT_REGEX_TIMEOUT,
    KEYED_PREFIXES,
    MAX_LIST_ITEMS,
    NEGATED,
    PLAIN_FIELDS,
    REFERENCE_ACTIONS,
    REFUSING,
    SEVERITY_ORDER,
    SEVERITY_RANK,
    STATUSES,
    ActionSpec,
    ActionType,
    Channel,
    ConditionSpec,
    Evaluation,
    FilterSpec,
    MatchedAction,
    MatchSubject,
    Operator,
    RegexTimeout,
    RuleError,
)

# ---- compiling conditions ------------------------------------------------------------------------------

Predicate = Callable[[Any], bool]


@dataclass(frozen=True)
class _Condition:
    # Every condition on the same field, view and time zone shares one key, so a subject's values are
    # read and converted (case-folded, parsed as addresses or numbers) once per evaluation, however many
    # filters look at them; predicates then only compare.
    getter_key: str
    predicate: Predicate
    negate: bool
    index: int
    field_name: str = ""
    view: str = ""  # "", "fold", "ip" or "num"


def _list_value(value: Any, fail: Callable[[str], RuleError]) -> list[Any]:
    if isinstance(value, str):
        items: list[Any] = [item.strip() for item in value.replace("\n", ",").split(",")]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise fail("needs a list of values (or one text with values separated by commas)")
    items = [item for item in items if as_text(item) not in (None, "")]
    if not items:
        raise fail("needs at least one value in its list")
    if len(items) > MAX_LIST_ITEMS:
        raise fail(f"has more than {MAX_LIST_ITEMS} values in its list")
    return items


def _scalar_value(value: Any, fail: Callable[[str], RuleError]) -> str:
    text = as_text(value)
    if text is None or text == "":
        raise fail("needs a value")
    return text


def _compile_condition(
    spec: ConditionSpec, index: int, fail: Callable[[str], RuleError], regex_timeout: float
) -> _Condition:
    name = spec.field.strip() if isinstance(spec.field, str) else ""
    if not (
        name in PLAIN_FIELDS
        or name == "observable"
        or any(name.startswith(p) and len(name) > len(p) for p in KEYED_PREFIXES)
    ):
        raise fail(
            f"uses an unknown field {spec.field!r} (use one of {', '.join(PLAIN_FIELDS)}, custom.<name>, "
            "alert.<dotted.path>, observable or observable.<type>)"
        )
    try:
        operator = Operator(spec.operator)
    except ValueError:
        raise fail(
            f"uses an unknown operator {spec.operator!r} (use one of {', '.join(o.value for o in Operator)})"
        ) from None
    positive = NEGATED.get(operator, operator)
    value = spec.value
    view = ""

    predicate: Predicate
    if name == "time_of_day" and positive in (Operator.EQUALS, Operator.IN_LIST):
        items = _list_value(value, fail) if positive is Operator.IN_LIST else [value]
        clocks = {clock_minutes(item) for item in items}
        if None in clocks:
            raise fail("needs times of day written HH:MM (e.g. 08:30)")
        predicate = clocks.__contains__
    elif name == "weekday" and positive in (Operator.EQUALS, Operator.IN_LIST):
        items = _list_value(value, fail) if positive is Operator.IN_LIST else [value]
        days = {weekday_of(item) for item in items}
        if None in days:
            raise fail("needs weekdays written mon, tue, wed, thu, fri, sat or sun")
        predicate = days.__contains__
    elif name in ("time_of_day", "weekday") and positive not in (Operator.GREATER_THAN, Operator.LESS_THAN):
        raise fail(
            f"cannot use {operator.value} on {name} (use equals, not equals, in list, greater or less than)"
        )
    elif positive is Operator.EQUALS:
        # Text operators see the values case-folded (by the evaluation's cache), so they only compare.
        predicate = _scalar_value(value, fail).casefold().__eq__
        view = "fold"
    elif positive is Operator.CONTAINS:
        part = _scalar_value(value, fail).casefold()
        predicate = lambda v: part in v  # noqa: E731
        view = "fold"
    elif positive is Operator.STARTS_WITH:
        prefix = _scalar_value(value, fail).casefold()
        predicate = lambda v: v.startswith(prefix)  # noqa: E731
        view = "fold"
    elif positive is Operator.ENDS_WITH:
        suffix = _scalar_value(value, fail).casefold()
        predicate = lambda v: v.endswith(suffix)  # noqa: E731
        view = "fold"
    elif positive is Operator.MATCHES:
        source = _scalar_value(value, fail)
        try:
            pattern = regex.compile(source, regex.IGNORECASE | regex.VERSION0)
        except (regex.error, ValueError, OverflowError, RecursionError) as exc:
            raise fail(f"has a regular expression that does not compile: {exc}") from None
        search = pattern.search
        # `timeout` makes the regex module give up (TimeoutError) instead of backtracking for ever.
        predicate = lambda v: search(text_of(v), timeout=regex_timeout) is not None  # noqa: E731
    elif positive is Operator.IN_LIST:
        predicate = {text_of(item).casefold() for item in _list_value(value, fail)}.__contains__
        view = "fold"
    elif positive is Operator.IN_CIDR:
        networks = []
        for item in _list_value(value, fail):
            try:
                networks.append(ipaddress.ip_network(str(item).strip(), strict=False))
            except ValueError:
                raise fail(f"has {item!r}, which is not an IP network (write e.g. 10.20.0.0/16)") from None
        predicate = _cidr_predicate(networks)
        view = "ip"
    elif name == "weekday":
        raise fail("cannot compare weekdays with greater or less than (use in list)")
    else:  # greater / less than
        to_number = ordered_key(name)
        number = to_number(value)
        if number is None:
            wanted = (
                "a severity"
                if name == "severity"
                else "a time HH:MM"
                if name == "time_of_day"
                else "a number"
            )
            raise fail(f"needs {wanted} to compare with, not {value!r}")
        bound = float(number)  # a float's own comparison methods return NotImplemented for an int
        # The values arrive as numbers (the "num" view), so the comparison is the float's own method.
        predicate = bound.__lt__ if positive is Operator.GREATER_THAN else bound.__gt__
        view = "num"
    return _Condition(
        getter_key=name,
        predicate=predicate,
        negate=operator in NEGATED,
        field_name=name,
        index=index,
        view=view,
    )


def _cidr_predicate(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> Predicate:
    """Membership as integer masks: the "ip" view gives (version, integer) pairs."""
    masks = tuple((n.version, int(n.netmask), int(n.network_address)) for n in networks)

    def in_cidr(address: tuple[int, int]) -> bool:
        version, number = address
        return any(version == v and number & mask == network for v, mask, network in masks)

    return in_cidr


def _compile_action(spec: ActionSpec, index: int, fail: Callable[[str], RuleError]) -> MatchedAction:
    try:
        kind = ActionType(spec.type)
    except ValueError:
        raise fail(f"action {index + 1} has an unknown type {spec.type!r}") from None
    value = spec.value
    if kind in REFERENCE_ACTIONS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail(f"action {index + 1} ({kind.value}) needs the id of a {REFERENCE_ACTIONS[kind]}")
    elif kind is ActionType.SET_SEVERITY:
        if value not in SEVERITY_RANK:
            raise fail(f"action {index + 1} (set_severity) needs one of {', '.join(SEVERITY_ORDER)}")
    elif kind is ActionType.SET_STATUS:
        if value not in STATUSES:
            raise fail(f"action {index + 1} (set_status) needs one of {', '.join(STATUSES)}")
    elif kind is ActionType.ADD_TAGS:
        tags = [value] if isinstance(value, str) else value
        if (
            not isinstance(tags, list | tuple)
            or not tags
            or not all(isinstance(t, str) and t.strip() for t in tags)
        ):
            raise fail(f"action {index + 1} (add_tags) needs one or more tags")
        value = tuple(t.strip() for t in tags)
    elif kind in (ActionType.ADD_NOTE, ActionType.NOTIFY, ActionType.WEBHOOK):
        if not isinstance(value, str) or not value.strip():
            what = {"add_note": "the note's text", "notify": "an email address", "webhook": "a URL"}[
                kind.value
            ]
            raise fail(f"action {index + 1} ({kind.value}) needs {what}")
        if kind is ActionType.NOTIFY and "@" not in value:
            raise fail(f"action {index + 1} (notify) needs an email address, not {value!r}")
        if kind is ActionType.WEBHOOK and not value.startswith(("https://", "http://")):
            raise fail(f"action {index + 1} (webhook) needs an http:// or https:// URL, not {value!r}")
    else:
        value = None  # reject, ban_sender, suppress_autoresponse and stop take no value
    return MatchedAction(filter_id=0, type=kind, value=value)


def _cache_key(condition: _Condition, time_zone: str) -> str:
    """`subject|fold`, `observable.ip|ip`, `weekday@Europe/Paris|`: time fields are read per time zone."""
    key = condition.getter_key
    if key in ("time_of_day", "weekday"):
        key = f"{key}@{time_zone}"
    return f"{key}|{condition.view}"


@dataclass(frozen=True)
class CompiledFilter:
    """A filter ready to evaluate."""

    id: int
    name: str
    channel: Channel
    channel_id: int | None
    match_all: bool
    stop_on_match: bool
    conditions: tuple[_Condition, ...]
    actions: tuple[MatchedAction, ...]


def compile_filter(spec: FilterSpec, *, regex_timeout: float = DEFAULT_REGEX_TIMEOUT) -> CompiledFilter:
    """Check and compile one filter; `RuleError` names the filter and the condition or action at fault."""

    def fail_filter(message: str) -> RuleError:
        return RuleError(f"Filter {spec.name!r}: {message}.")

    try:
        channel = Channel(spec.channel)
    except ValueError:
        raise fail_filter(
            f"unknown channel {spec.channel!r} (use one of {', '.join(c.value for c in Channel)})"
        ) from None
    try:
        ZoneInfo(spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail_filter(f"unknown time zone {spec.time_zone!r} (write e.g. Europe/Paris)") from None
    if not spec.conditions:
        raise fail_filter("needs at least one condition")
    if not spec.actions:
        raise fail_filter("needs at least one action")
    conditions = []
    for index, condition in enumerate(spec.conditions):

        def fail(message: str, index: int = index, condition: ConditionSpec = condition) -> RuleError:
            where = f"condition {index + 1} ({condition.field} {condition.operator})"
            return RuleError(f"Filter {spec.name!r}, {where}: {message}.")

        conditions.append(_compile_condition(condition, index, fail, regex_timeout))
    actions = tuple(
        MatchedAction(filter_id=spec.id, type=a.type, value=a.value)
        for a in (_compile_action(action, i, fail_filter) for i, action in enumerate(spec.actions))
    )
    keyed = tuple(replace(c, getter_key=_cache_key(c, spec.time_zone)) for c in conditions)
    return CompiledFilter(
        id=spec.id,
        name=spec.name,
        channel=channel,
        channel_id=spec.channel_id,
        match_all=spec.match_all,
        stop_on_match=spec.stop_on_match,
        conditions=keyed,
        actions=actions,
    )


@dataclass(frozen=True)
class Ruleset:
    """Enabled filters in order, compiled; evaluate as often as needed, from any thread."""

    filters: tuple[CompiledFilter, ...]
    getters: Mapping[str, Getter]
    version: int = 0
    # The filters that can apply to each channel, in order (a ticket from another channel skips the rest).
    by_channel: Mapping[str, tuple[CompiledFilter, ...]] = field(default_factory=dict)

    def evaluate(self, subject: MatchSubject) -> Evaluation:
        """The actions the matching filters ask for, in filter order, until one stops the run."""
        cache: dict[str, Values] = {}
        getters = self.getters
        actions: list[MatchedAction] = []
        matched: list[int] = []
        timeouts: list[RegexTimeout] = []
        candidates = self.by_channel.get(subject.channel)
        if candidates is None:
            candidates = self.by_channel.get(Channel.ANY, ())
        for compiled in candidates:
            if compiled.channel_id is not None and compiled.channel_id != subject.channel_id:
                continue
            match_all = compiled.match_all
            hit = match_all
            for condition in compiled.conditions:
                key = condition.getter_key
                values = cache.get(key)
                if values is None:
                    values = cache[key] = getters[key](subject)
                predicate = condition.predicate
                try:
                    found = False
                    for value in values:
                        if predicate(value):
                            found = True
                            break
                    result = found is not condition.negate
                except TimeoutError:
                    timeouts.append(RegexTimeout(filter_id=compiled.id, condition_index=condition.index))
                    result = False
                if result is not match_all:
                    hit = result
                    break
            if not hit:
                continue
            matched.append(compiled.id)
            terminal = compiled.stop_on_match
            for action in compiled.actions:
                if action.type is ActionType.STOP or action.type in REFUSING:
                    terminal = True
                if action.type is not ActionType.STOP:
                    actions.append(action)
            if terminal:
                break
        return Evaluation(actions=tuple(actions), matched=tuple(matched), timeouts=tuple(timeouts))


def compile_ruleset(
    specs: Iterable[FilterSpec], *, version: int = 0, regex_timeout: float = DEFAULT_REGEX_TIMEOUT
) -> Ruleset:
    """Compile the enabled filters, ordered by (order, id); raises `RuleError` on the first invalid one."""
    ordered = sorted((s for s in specs if s.enabled), key=lambda s: (s.order, s.id))
    compiled = [(spec, compile_filter(spec, regex_timeout=regex_timeout)) for spec in ordered]
    return ruleset_of(compiled, version)


def ruleset_of(compiled: Sequence[tuple[FilterSpec, CompiledFilter]], version: int = 0) -> Ruleset:
    """A ruleset of filters already compiled (in the order given), e.g. leaving out invalid ones."""
    getters: dict[str, Getter] = {}
    for spec, compiled_filter in compiled:
        zone = ZoneInfo(spec.time_zone)
        for condition in compiled_filter.conditions:
            key = condition.getter_key
            if key not in getters:
                name = condition.field_name
                getters[key] = view_of(getter_for(name, zone), condition.view, name)
    filters = tuple(c for _spec, c in compiled)
    by_channel = {
        channel.value: tuple(f for f in filters if f.channel is Channel.ANY or f.channel is channel)
        for channel in Channel
    }
    return Ruleset(filters=filters, getters=getters, version=version, by_channel=by_channel)
