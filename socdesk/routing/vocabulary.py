"""The ticket filters' vocabulary: channels, operators, actions, and the plain values filters are given.

Pure, like `matching`, which compiles and evaluates filters written in these terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# The tickets app's severities, lowest first (a test keeps the two lists equal); kept here so that this
# module stays free of Django.
SEVERITY_ORDER: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITY_ORDER)}
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A regex may run this long on one value; past it the condition counts as no match. Patterns such as
# `(a+)+$` backtrack exponentially on some inputs, and ingest must never hang on a filter someone saved.
DEFAULT_REGEX_TIMEOUT = 0.05
MAX_LIST_ITEMS = 1000


class Channel(StrEnum):
    """Where a ticket came from; a filter targets one channel or any."""

    ANY = "any"
    WEB = "web"
    EMAIL = "email"
    API = "api"
    ALERT = "alert"


class Operator(StrEnum):
    """How a condition compares a field's values with its own value."""

    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    MATCHES = "matches"
    NOT_MATCHES = "not_matches"
    IN_LIST = "in_list"
    IN_CIDR = "in_cidr"
    GREATER_THAN = "greater_than"
    LESS_THAN = "less_than"


# A negated operator is the negation of its positive one over all of the field's values: "tags not equals
# x" holds when no tag equals x (also when there is no tag at all).
NEGATED = {
    Operator.NOT_EQUALS: Operator.EQUALS,
    Operator.NOT_CONTAINS: Operator.CONTAINS,
    Operator.NOT_MATCHES: Operator.MATCHES,
}


class ActionType(StrEnum):
    """What a matching filter does to the ticket (applied later, in order, by the ticket services)."""

    REJECT = "reject"
    # Reject, and add the requester's address to the mail ban list (socdesk.mail.bans) when it came by mail.
    BAN_SENDER = "ban_sender"
    SET_DEPARTMENT = "set_department"
    SET_TEAM = "set_team"
    SET_AGENT = "set_agent"
    SET_SEVERITY = "set_severity"
    SET_SLA_PLAN = "set_sla_plan"
    SET_STATUS = "set_status"
    SET_HELP_TOPIC = "set_help_topic"
    ADD_TAGS = "add_tags"
    ADD_NOTE = "add_note"
    SUPPRESS_AUTORESPONSE = "suppress_autoresponse"
    NOTIFY = "notify"
    WEBHOOK = "webhook"
    # Reply to the requester with a canned response (socdesk.mail.canned_replies), mailed like any reply.
    REPLY_CANNED = "reply_canned"
    STOP = "stop"


# Actions that refuse the ticket (and end the filter run).
REFUSING = frozenset({ActionType.REJECT, ActionType.BAN_SENDER})
# Actions whose value is the id of a stored object; the services check that the object exists.
REFERENCE_ACTIONS = {
    ActionType.SET_DEPARTMENT: "department",
    ActionType.SET_TEAM: "team",
    ActionType.SET_AGENT: "agent",
    ActionType.SET_SLA_PLAN: "SLA plan",
    ActionType.SET_HELP_TOPIC: "help topic",
    ActionType.REPLY_CANNED: "canned response",
}
STATUSES = ("new", "in_progress", "on_hold", "resolved", "closed")
# Fields without a key. Keyed fields are written `custom.<field name>`, `alert.<dotted path>` and
# `observable` / `observable.<type>`.
PLAIN_FIELDS = (
    "requester_name",
    "requester_email",
    "requester_domain",
    "subject",
    "body",
    "severity",
    "source",
    "help_topic",
    "tags",
    "time_of_day",
    "weekday",
)
KEYED_PREFIXES = ("custom.", "alert.", "observable.")


class RuleError(ValueError):
    """A filter definition that cannot be compiled; the message names the filter and the condition."""


@dataclass(frozen=True)
class MatchSubject:
    """What the filters look at: a ticket draft or a normalised alert, as plain values.

    `alert` is the normalised alert as a dict (title, severity, source, labels, raw, ...), so conditions
    such as `alert.labels.host` or `alert.raw.rule.level` can reach into it. `observables` are
    (type, value) pairs. `received_at` must be time-zone aware; time-of-day conditions read it.
    """

    channel: str
    received_at: datetime
    channel_id: int | None = None
    requester_name: str = ""
    requester_email: str = ""
    subject: str = ""
    body: str = ""
    severity: str = ""
    source: str = ""
    help_topic: str = ""
    tags: tuple[str, ...] = ()
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    alert: Mapping[str, Any] | None = None
    observables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ConditionSpec:
    """One stored condition: `field` `operator` `value`."""

    field: str
    operator: str
    value: Any


@dataclass(frozen=True)
class ActionSpec:
    """One stored action: its type and value (an id, a severity, a list of tags, a text, ...)."""

    type: str
    value: Any = None


@dataclass(frozen=True)
class FilterSpec:
    """One stored filter, as the services hand it to `compile_ruleset`."""

    id: int
    name: str
    conditions: tuple[ConditionSpec, ...]
    actions: tuple[ActionSpec, ...]
    order: int = 0
    enabled: bool = True
    channel: str = Channel.ANY
    channel_id: int | None = None
    match_all: bool = True
    stop_on_match: bool = False
    time_zone: str = "UTC"


@dataclass(frozen=True)
class MatchedAction:
    """An action to apply, with the filter that asked for it."""

    filter_id: int
    type: ActionType
    value: Any


@dataclass(frozen=True)
class RegexTimeout:
    """A regex condition that ran out of time (counted as no match)."""

    filter_id: int
    condition_index: int


@dataclass(frozen=True)
class Evaluation:
    """The outcome for one subject: the actions in the order to apply them, and the filters that matched."""

    actions: tuple[MatchedAction, ...]
    matched: tuple[int, ...]
    timeouts: tuple[RegexTimeout, ...] = ()

    @property
    def rejected(self) -> bool:
        return any(action.type in REFUSING for action in self.actions)

    @property
    def bans_sender(self) -> bool:
        return any(action.type is ActionType.BAN_SENDER for action in self.actions)


def subject_for_alert(
    alert: Mapping[str, Any],
    *,
    adapter: str,
    received_at: datetime,
    channel_id: int | None = None,
    labels: Mapping[str, Any] | None = None,
) -> MatchSubject:
    """The subject for a normalised alert given as a dict (`dataclasses.asdict` of the adapters' alert).

    Conditions see the alert as `alert.<key>`, with `alert.source` the adapter's name and `alert.labels`
    the labels the adapter found (empty when it found none), so `alert.labels.host` never fails to resolve.
    """
    data = dict(alert)
    data["source"] = adapter
    data["labels"] = dict(labels) if labels is not None else dict(data.get("labels") or {})
    pairs = alert.get("observables") or ()
    observables = tuple(
        (str(pair[0]), str(pair[1])) for pair in pairs if isinstance(pair, list | tuple) and len(pair) == 2
    )
    tags = alert.get("tags") or ()
    return MatchSubject(
        channel="alert",
        channel_id=channel_id,
        received_at=received_at,
        subject=str(alert.get("title") or ""),
        body=str(alert.get("description") or ""),
        severity=str(alert.get("severity") or ""),
        source="alert",
        tags=tuple(str(tag) for tag in tags) if isinstance(tags, list | tuple) else (),
        alert=data,
        observables=observables,
    )
