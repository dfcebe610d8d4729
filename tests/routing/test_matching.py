"""Ticket filter matching: every operator and field, filter semantics, compile errors, hostile regexes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socdesk.routing.matching import compile_filter, compile_ruleset
from socdesk.routing.vocabulary import (
    SEVERITY_ORDER,
    STATUSES,
    ActionSpec,
    ActionType,
    ConditionSpec,
    FilterSpec,
    MatchSubject,
    Operator,
    RuleError,
    subject_for_alert,
)
from socdesk.tickets.choices import Severity, Status

# Monday 2026-03-02 08:15 UTC (09:15 in Paris, 03:15 in New York).
MONDAY = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)

SUBJECT = MatchSubject(
    channel="alert",
    channel_id=7,
    received_at=MONDAY,
    requester_name="Dana Reyes",
    requester_email="Dana@Example.test",
    subject="Wazuh: Brute force on WS-042",
    body="Multiple failed logins from 10.20.3.4 for user admin.",
    severity="high",
    source="alert",
    help_topic="Intrusion",
    tags=("edr", "Phishing"),
    custom_fields={"asset_owner": "Finance", "score": 87, "vip": True, "regions": ["eu", "us"]},
    alert={
        "title": "Brute force",
        "labels": {"host": "ws-042", "env": "prod"},
        "raw": {
            "rule": {"level": 12, "groups": ["authentication_failed", "sshd"]},
            "agent": {"ip": "10.20.3.4"},
        },
    },
    observables=(("ip", "10.20.3.4"), ("ip", "2001:db8::5"), ("domain", "evil.example")),
)


def hit(field: str, operator: str, value: object, subject: MatchSubject = SUBJECT, tz: str = "UTC") -> bool:
    spec = FilterSpec(
        id=1,
        name="t",
        conditions=(ConditionSpec(field, operator, value),),
        actions=(ActionSpec("add_tags", ["x"]),),
        time_zone=tz,
    )
    return compile_ruleset([spec]).evaluate(subject).matched == (1,)


# (field, operator, value, expected): every operator, every field kind, both outcomes.
TABLE = [
    ("requester_name", "equals", "dana reyes", True),
    ("requester_name", "equals", "Dana", False),
    ("requester_name", "not_equals", "Dana", True),
    ("requester_name", "not_equals", "DANA REYES", False),
    ("requester_email", "ends_with", "@example.test", True),
    ("requester_email", "starts_with", "dana@", True),
    ("requester_email", "starts_with", "bob@", False),
    ("requester_domain", "equals", "example.test", True),
    ("requester_domain", "in_list", ["corp.test", "EXAMPLE.test"], True),
    ("requester_domain", "in_list", "corp.test, other.test", False),
    ("subject", "contains", "brute FORCE", True),
    ("subject", "contains", "malware", False),
    ("subject", "not_contains", "malware", True),
    ("subject", "not_contains", "wazuh", False),
    ("subject", "ends_with", "ws-042", True),
    ("subject", "ends_with", "ws-043", False),
    ("subject", "matches", r"WS-\d{3}$", True),
    ("subject", "matches", r"^brute", False),
    ("subject", "not_matches", r"^brute", True),
    ("subject", "not_matches", r"ws-0", False),
    ("body", "contains", "failed logins", True),
    ("body", "matches", r"from (\d+\.){3}\d+", True),
    ("severity", "equals", "high", True),
    ("severity", "greater_than", "medium", True),
    ("severity", "greater_than", "high", False),
    ("severity", "less_than", "critical", True),
    ("severity", "less_than", "high", False),
    ("severity", "in_list", ["critical", "high"], True),
    ("source", "equals", "alert", True),
    ("source", "not_equals", "email", True),
    ("help_topic", "equals", "intrusion", True),
    ("help_topic", "starts_with", "phish", False),
    ("tags", "equals", "phishing", True),
    ("tags", "equals", "malware", False),
    ("tags", "not_equals", "malware", True),
    ("tags", "not_equals", "edr", False),
    ("tags", "in_list", ["malware", "edr"], True),
    ("custom.asset_owner", "equals", "finance", True),
    ("custom.score", "greater_than", 80, True),
    ("custom.score", "greater_than", "90", False),
    ("custom.score", "less_than", 90.5, True),
    ("custom.vip", "equals", "true", True),
    ("custom.regions", "equals", "us", True),
    ("custom.missing", "equals", "x", False),
    ("custom.missing", "not_equals", "x", True),
    ("alert.labels.host", "equals", "WS-042", True),
    ("alert.labels.env", "in_list", ["staging", "dev"], False),
    ("alert.raw.rule.level", "greater_than", 11, True),
    ("alert.raw.rule.level", "less_than", 12, False),
    ("alert.raw.rule.level", "equals", "12", True),
    ("alert.raw.rule.groups", "equals", "sshd", True),
    ("alert.raw.rule.groups.0", "starts_with", "authentication", True),
    ("alert.raw.agent.ip", "in_cidr", ["10.20.0.0/16"], True),
    ("alert.raw.nothing.here", "contains", "x", False),
    ("alert.raw.rule", "equals", "x", False),  # a dict has no single text
    ("observable", "in_cidr", "10.0.0.0/8", True),
    ("observable.ip", "in_cidr", ["192.168.0.0/16", "10.20.0.0/16"], True),
    ("observable.ip", "in_cidr", ["192.168.0.0/16"], False),
    ("observable.ip", "in_cidr", ["2001:db8::/32"], True),
    ("observable.domain", "ends_with", ".example", True),
    ("observable.domain", "in_cidr", ["0.0.0.0/0"], False),  # not an address: no match
    ("observable.hash", "equals", "x", False),
    ("time_of_day", "greater_than", "08:00", True),
    ("time_of_day", "less_than", "08:15", False),
    ("time_of_day", "equals", "08:15", True),
    ("time_of_day", "in_list", ["08:15", "12:00"], True),
    ("weekday", "equals", "monday", True),
    ("weekday", "not_equals", "mon", False),
    ("weekday", "in_list", ["sat", "sun"], False),
]


@pytest.mark.parametrize(("field", "operator", "value", "expected"), TABLE)
def test_operator_table(field, operator, value, expected):
    assert hit(field, operator, value) is expected


def test_every_operator_appears_in_the_table():
    assert {row[1] for row in TABLE} == {op.value for op in Operator}


@pytest.mark.parametrize(
    ("tz", "field", "operator", "value", "expected"),
    [
        ("Europe/Paris", "time_of_day", "equals", "09:15", True),
        ("America/New_York", "time_of_day", "less_than", "04:00", True),
        ("America/New_York", "weekday", "equals", "mon", True),
        ("Pacific/Kiritimati", "weekday", "equals", "mon", True),  # UTC+14: 22:15 the same Monday
        ("Pacific/Pago_Pago", "weekday", "equals", "sun", True),  # UTC-11: 21:15 on Sunday
    ],
)
def test_time_conditions_read_the_filters_time_zone(tz, field, operator, value, expected):
    assert hit(field, operator, value, tz=tz) is expected


def test_severity_order_is_the_tickets_order():
    assert tuple(Severity.values) == SEVERITY_ORDER
    assert tuple(Status.values) == STATUSES


TAG = (ActionSpec("add_tags", ["t"]),)


def f(id: int, conditions, actions=TAG, **kw) -> FilterSpec:
    return FilterSpec(id=id, name=f"f{id}", conditions=tuple(conditions), actions=tuple(actions), **kw)


C_HIGH = ConditionSpec("severity", "equals", "high")
C_LOW = ConditionSpec("severity", "equals", "low")


def test_match_all_needs_every_condition_and_any_needs_one():
    ruleset = compile_ruleset([f(1, [C_HIGH, C_LOW]), f(2, [C_HIGH, C_LOW], match_all=False), f(3, [C_LOW])])
    assert ruleset.evaluate(SUBJECT).matched == (2,)


def test_actions_come_in_filter_order_and_stop_on_match_ends_the_run():
    ruleset = compile_ruleset(
        [
            f(3, [C_HIGH], [ActionSpec("set_severity", "critical")], order=20),
            f(1, [C_HIGH], [ActionSpec("set_team", 4), ActionSpec("add_tags", "ssh")], order=10),
            f(2, [C_HIGH], [ActionSpec("set_department", 2)], order=10, stop_on_match=True),
            f(4, [C_HIGH], [ActionSpec("set_agent", 9)], order=30),
        ]
    )
    result = ruleset.evaluate(SUBJECT)
    assert result.matched == (1, 2)
    assert [(a.filter_id, a.type, a.value) for a in result.actions] == [
        (1, ActionType.SET_TEAM, 4),
        (1, ActionType.ADD_TAGS, ("ssh",)),
        (2, ActionType.SET_DEPARTMENT, 2),
    ]


def test_stop_action_and_reject_end_the_run():
    stop = compile_ruleset(
        [f(1, [C_HIGH], [ActionSpec("add_note", "seen"), ActionSpec("stop")]), f(2, [C_HIGH])]
    )
    result = stop.evaluate(SUBJECT)
    assert result.matched == (1,)
    assert [a.type for a in result.actions] == [ActionType.ADD_NOTE]
    reject = compile_ruleset([f(1, [C_HIGH], [ActionSpec("reject")]), f(2, [C_HIGH])]).evaluate(SUBJECT)
    assert reject.rejected and reject.matched == (1,)
    assert not stop.evaluate(SUBJECT).rejected


def test_disabled_filters_are_left_out():
    assert compile_ruleset([f(1, [C_HIGH], enabled=False)]).evaluate(SUBJECT).matched == ()


@pytest.mark.parametrize(
    ("channel", "channel_id", "expected"),
    [
        ("any", None, True),
        ("alert", None, True),
        ("alert", 7, True),
        ("alert", 8, False),
        ("email", None, False),
    ],
)
def test_target_channel_and_integration(channel, channel_id, expected):
    ruleset = compile_ruleset([f(1, [C_HIGH], channel=channel, channel_id=channel_id)])
    assert (ruleset.evaluate(SUBJECT).matched == (1,)) is expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            ConditionSpec("subject", "matches", "(unclosed"),
            "condition 1 (subject matches): has a regular expression",
        ),
        (ConditionSpec("colour", "equals", "red"), "unknown field 'colour'"),
        (ConditionSpec("custom.", "equals", "red"), "unknown field 'custom.'"),
        (ConditionSpec("subject", "resembles", "x"), "unknown operator 'resembles'"),
        (ConditionSpec("subject", "equals", ""), "needs a value"),
        (ConditionSpec("subject", "equals", ["a"]), "needs a value"),
        (ConditionSpec("tags", "in_list", []), "at least one value"),
        (ConditionSpec("tags", "in_list", 5), "needs a list of values"),
        (
            ConditionSpec("observable.ip", "in_cidr", ["10.0.0.0/33"]),
            "'10.0.0.0/33', which is not an IP network",
        ),
        (ConditionSpec("custom.score", "greater_than", "lots"), "needs a number to compare with"),
        (ConditionSpec("severity", "less_than", "urgent"), "needs a severity"),
        (ConditionSpec("time_of_day", "greater_than", "25:00"), "needs a time HH:MM"),
        (ConditionSpec("time_of_day", "equals", "9am"), "HH:MM"),
        (ConditionSpec("time_of_day", "contains", "09"), "cannot use contains on time_of_day"),
        (ConditionSpec("weekday", "equals", "someday"), "weekdays written mon"),
        (ConditionSpec("weekday", "greater_than", "mon"), "cannot compare weekdays"),
    ],
)
def test_invalid_conditions_are_refused_naming_the_condition(condition, message):
    with pytest.raises(RuleError, match="Filter 'f1'") as caught:
        compile_filter(f(1, [C_HIGH, condition] if "condition 1" not in message else [condition]))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"actions": (ActionSpec("teleport"),)}, "action 1 has an unknown type 'teleport'"),
        ({"actions": (ActionSpec("set_team", "tier1"),)}, "(set_team) needs the id of a team"),
        ({"actions": (ActionSpec("set_sla_plan", True),)}, "needs the id of a SLA plan"),
        ({"actions": (ActionSpec("set_severity", "urgent"),)}, "(set_severity) needs one of info"),
        ({"actions": (ActionSpec("set_status", "open"),)}, "(set_status) needs one of new"),
        ({"actions": (ActionSpec("add_tags", ["ok", " "]),)}, "(add_tags) needs one or more tags"),
        ({"actions": (ActionSpec("add_note", ""),)}, "needs the note's text"),
        ({"actions": (ActionSpec("notify", "soc"),)}, "needs an email address, not 'soc'"),
        ({"actions": (ActionSpec("webhook", "ftp://x"),)}, "needs an http:// or https:// URL"),
        ({"actions": ()}, "needs at least one action"),
        ({"conditions": ()}, "needs at least one condition"),
        ({"channel": "fax"}, "unknown channel 'fax'"),
        ({"time_zone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_invalid_filters_are_refused(kwargs, message):
    spec = {"conditions": (C_HIGH,), "actions": (ActionSpec("add_tags", ["t"]),), **kwargs}
    with pytest.raises(RuleError, match="Filter 'f1'") as caught:
        compile_filter(FilterSpec(id=1, name="f1", **spec))
    assert message in str(caught.value)


def test_catastrophic_regex_times_out_counts_as_no_match_and_is_reported():
    hostile = MatchSubject(channel="web", received_at=MONDAY, subject="a" * 40 + "!")
    ruleset = compile_ruleset(
        [
            f(1, [ConditionSpec("subject", "matches", r"^(a|aa)+$")]),
            f(2, [ConditionSpec("subject", "not_matches", r"^(a|aa)+$")]),
            f(3, [ConditionSpec("subject", "starts_with", "aaa")]),
        ],
        regex_timeout=0.05,
    )
    started = time.monotonic()
    result = ruleset.evaluate(hostile)
    assert time.monotonic() - started < 5  # without the timeout this backtracks for hours
    assert result.matched == (3,)
    assert [(t.filter_id, t.condition_index) for t in result.timeouts] == [(1, 0), (2, 0)]


texts = st.text(max_size=40)
scalars = st.one_of(texts, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none())
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
subjects = st.builds(
    MatchSubject,
    channel=st.sampled_from(["web", "email", "api", "alert", "phone"]),
    received_at=st.datetimes(timezones=st.just(UTC)),
    channel_id=st.none() | st.integers(0, 10),
    requester_name=texts,
    requester_email=texts,
    subject=texts,
    body=texts,
    severity=texts | st.sampled_from(SEVERITY_ORDER),
    source=texts,
    help_topic=texts,
    tags=st.lists(texts, max_size=3).map(tuple),
    custom_fields=st.dictionaries(texts, json_values, max_size=3),
    alert=st.none() | st.dictionaries(texts, json_values, max_size=4),
    observables=st.lists(st.tuples(st.sampled_from(["ip", "domain"]), texts), max_size=3).map(tuple),
)
FIELDS = [
    "requester_domain",
    "subject",
    "body",
    "severity",
    "tags",
    "custom.a",
    "alert.labels.host",
    "alert.a",
    "observable.ip",
    "time_of_day",
    "weekday",
    "custom.n",
]


@settings(max_examples=200, deadline=None)
@given(
    subject=subjects,
    conditions=st.lists(
        st.builds(
            ConditionSpec, st.sampled_from(FIELDS), st.sampled_from([o.value for o in Operator]), json_values
        ),
        min_size=1,
        max_size=4,
    ),
    match_all=st.booleans(),
    tz=st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Paris"]),
)
def test_never_raises_on_arbitrary_input(subject, conditions, match_all, tz):
    spec = f(1, conditions, match_all=match_all, time_zone=tz)
    try:
        ruleset = compile_ruleset([spec])
    except RuleError:
        return  # refused at save: fine, and never a different exception
    result = ruleset.evaluate(subject)
    assert result.matched in ((), (1,))


def test_a_normalised_alert_becomes_a_subject_the_issue_example_routes():
    from dataclasses import asdict

    from socdesk.alerts.adapters.base import NormalisedAlert

    alert = NormalisedAlert(
        title="sshd: brute force",
        fingerprint="f1",
        severity="high",
        description="Many failures",
        observables=[("ip", "10.20.9.9")],
        raw={"rule": {"level": 12}},
        tags=["wazuh"],
    )
    subject = subject_for_alert(
        asdict(alert), adapter="wazuh", received_at=MONDAY, channel_id=3, labels={"host": "srv-1"}
    )
    assert (subject.channel, subject.subject, subject.tags) == ("alert", "sshd: brute force", ("wazuh",))
    # "Wazuh rule level >= 12 from hosts in 10.20.0.0/16 -> Incident Response team, critical, SLA P1".
    wazuh_p1 = f(
        1,
        [
            ConditionSpec("alert.source", "equals", "wazuh"),
            ConditionSpec("alert.raw.rule.level", "greater_than", 11),
            ConditionSpec("observable.ip", "in_cidr", "10.20.0.0/16"),
            ConditionSpec("alert.labels.host", "starts_with", "srv-"),
        ],
        [ActionSpec("set_team", 4), ActionSpec("set_severity", "critical"), ActionSpec("set_sla_plan", 1)],
        channel="alert",
    )
    result = compile_ruleset([wazuh_p1]).evaluate(subject)
    assert [a.type for a in result.actions] == [
        ActionType.SET_TEAM,
        ActionType.SET_SEVERITY,
        ActionType.SET_SLA_PLAN,
    ]
    unlabelled = subject_for_alert(asdict(alert), adapter="wazuh", received_at=MONDAY)
    assert unlabelled.alert is not None and unlabelled.alert["labels"] == {}
    assert compile_ruleset([wazuh_p1]).evaluate(unlabelled).matched == ()


def test_time_conditions_at_the_end_of_the_calendar_do_not_raise():
    last = MatchSubject(channel="web", received_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC))
    assert not hit("weekday", "equals", "fri", subject=last, tz="Pacific/Kiritimati")
    assert hit("weekday", "not_equals", "fri", subject=last, tz="Pacific/Kiritimati")
    assert not hit("time_of_day", "greater_than", "00:00", subject=last, tz="Pacific/Kiritimati")


def test_custom_field_names_with_separator_characters_read_their_own_field():
    subject = MatchSubject(
        channel="web", received_at=MONDAY, custom_fields={"owner@site": "paris", "owner": "lyon", "a|b": 3}
    )
    assert hit("custom.owner@site", "equals", "paris", subject=subject)
    assert hit("custom.owner", "equals", "lyon", subject=subject)
    assert hit("custom.a|b", "greater_than", 2, subject=subject)
