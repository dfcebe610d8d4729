"""The dry run's two pieces below the pages: `subject_for_ticket` (a stored ticket as the filters see it)
and `dry_run` (the engine's own evaluation, explained filter by filter and condition by condition)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socdesk.routing.dry_run import dry_run
from socdesk.routing.matching import compile_ruleset
from socdesk.routing.subjects import subject_for_ticket
from socdesk.routing.vocabulary import ActionSpec, ConditionSpec, FilterSpec, MatchSubject
from socdesk.tickets.selectors import ticket_get_for_agent

MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


TAG = (ActionSpec("add_tags", ["t"]),)


def spec(id: int, conditions, actions=TAG, **kwargs) -> FilterSpec:
    return FilterSpec(id=id, name=f"f{id}", conditions=tuple(conditions), actions=tuple(actions), **kwargs)


def run(specs, subject):
    return dry_run(compile_ruleset(specs), subject, {s.id: s for s in specs})


def test_every_condition_is_explained_even_after_one_decides():
    subject = MatchSubject(channel="web", received_at=MONDAY, subject="Phish alert", severity="low")
    outcome = run(
        [
            spec(
                1,
                [
                    ConditionSpec("severity", "equals", "high"),  # fails: match all is decided here
                    ConditionSpec("subject", "contains", "phish"),  # still explained
                ],
            )
        ],
        subject,
    )
    (only,) = outcome.filters
    assert not only.matched
    assert [(c.number, c.field, c.held) for c in only.conditions] == [
        (1, "severity", False),
        (2, "subject", True),
    ]
    assert outcome.evaluation.matched == () and outcome.matched == ()


def test_match_any_negation_and_values_as_written():
    subject = MatchSubject(channel="web", received_at=MONDAY, subject="Hello", tags=("vip",))
    outcome = run(
        [
            spec(
                1,
                [
                    ConditionSpec("tags", "not_equals", "vip"),
                    ConditionSpec("subject", "in_list", "hello, hi"),
                ],
                match_all=False,
            )
        ],
        subject,
    )
    (only,) = outcome.filters
    assert only.matched
    assert [(c.operator, c.value, c.held) for c in only.conditions] == [
        ("not_equals", "vip", False),
        ("in_list", "hello, hi", True),
    ]
    assert [a.value for a in only.actions] == [("t",)]


@pytest.mark.parametrize(
    ("filters", "reasons"),
    [
        # Another channel, another integration, then after a stop: each says why it was not considered.
        (
            [
                spec(1, [ConditionSpec("subject", "contains", "x")], channel="email"),
                spec(2, [ConditionSpec("subject", "contains", "x")], channel="alert", channel_id=7),
                spec(3, [ConditionSpec("subject", "contains", "x")], stop_on_match=True),
                spec(4, [ConditionSpec("subject", "contains", "x")]),
            ],
            {
                1: "It is for the email channel, not alert.",
                2: "It is for another integration or mailbox.",
                3: "",
                4: "Not reached: filter 'f3' ended the run.",
            },
        ),
        # A reject action ends the run too; a stop action is not listed as something it does.
        (
            [
                spec(1, [ConditionSpec("subject", "contains", "x")], (ActionSpec("reject"),)),
                spec(2, [ConditionSpec("subject", "contains", "x")]),
            ],
            {1: "", 2: "Not reached: filter 'f1' ended the run."},
        ),
    ],
)
def test_why_a_filter_was_not_considered(filters, reasons):
    subject = MatchSubject(channel="alert", channel_id=3, received_at=MONDAY, subject="x")
    outcome = run(filters, subject)
    assert {f.id: f.not_considered for f in outcome.filters} == reasons
    # The explanation agrees with the engine: the filters it calls matched are the evaluation's.
    assert tuple(f.id for f in outcome.matched) == outcome.evaluation.matched


def test_a_timed_out_regex_is_marked_on_its_condition():
    subject = MatchSubject(channel="web", received_at=MONDAY, subject="a" * 40 + "!")
    outcome = run([spec(1, [ConditionSpec("subject", "matches", r"^(a|aa)+$")])], subject)
    (condition,) = outcome.filters[0].conditions
    assert condition.timed_out and not condition.held
    assert [(t.filter_id, t.condition_index) for t in outcome.evaluation.timeouts] == [(1, 0)]


def test_subject_for_ticket_reads_the_stored_ticket(people, soc_ticket, django_assert_max_num_queries):
    ticket = ticket_get_for_agent(people.admin, soc_ticket.number)
    with django_assert_max_num_queries(1):  # the first entry; requester and tags come with the ticket
        subject = subject_for_ticket(ticket, observables=[("ip", "10.0.0.5")], channel_id=None)
    assert subject.channel == "web" and subject.source == "web"
    assert (subject.requester_name, subject.requester_email) == ("Dana Reyes", "dana@example.test")
    assert subject.subject == "Suspicious PowerShell on WS-042"
    assert subject.body == "EDR flagged encoded PowerShell spawning from winword.exe."
    assert subject.severity == "high" and subject.received_at == ticket.created_at
    assert subject.tags == ("edr", "phishing")
    assert subject.observables == (("ip", "10.0.0.5"),) and subject.alert is None
