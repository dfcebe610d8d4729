"""The fold's delta arithmetic (pure): any sequence of facts a ticket goes through, applied as new minus
old, leaves the roll-ups equal to the sum of the last facts; and a fact contributes what it should."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from socdesk.reports.contributions import Fact, accumulate, contributions, delta, summed

DAY = date(2026, 11, 2)


def facts(ticket_id: int) -> st.SearchStrategy[Fact | None]:
    days = st.integers(0, 40).map(lambda n: DAY + timedelta(days=n))
    fact = st.builds(
        Fact,
        ticket_id=st.just(ticket_id),
        department_id=st.integers(1, 3),
        team_id=st.integers(0, 2),
        severity=st.sampled_from(["low", "high", "critical"]),
        origin=st.sampled_from(["web", "wazuh", "email"]),
        assignee_id=st.integers(0, 3),
        rule=st.sampled_from(["", "SSHBruteForce", "ET POLICY"]),
        created_day=days,
        acknowledged_day=st.none() | days,
        tta_bucket=st.integers(0, 200),
        resolved_day=st.none() | days,
        ttr_bucket=st.integers(0, 200),
        resolution=st.sampled_from(["", "true_positive", "false_positive"]),
        sla_response=st.sampled_from(["", "met", "breached"]),
        sla_resolution=st.sampled_from(["", "met", "breached"]),
        alerts=st.integers(0, 1000),
        handling_seconds=st.integers(0, 10**6),
        observable_ids=st.lists(st.integers(1, 5), unique=True, max_size=3).map(
            lambda ids: tuple(sorted(ids))
        ),
    )
    return st.none() | fact


def nonzero(rows):
    kept = {table: {k: v for k, v in keyed.items() if any(v)} for table, keyed in rows.items()}
    return {table: keyed for table, keyed in kept.items() if keyed}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.data()), min_size=1, max_size=25))
def test_folding_changes_equals_summing_the_last_facts(steps):
    stored: dict[int, Fact | None] = {}
    rollups: dict = {}
    for ticket_id, data in steps:
        new = data.draw(facts(ticket_id))
        accumulate(rollups, delta(stored.get(ticket_id), new))
        stored[ticket_id] = new
    assert nonzero(rollups) == nonzero(summed(fact for fact in stored.values() if fact is not None))


def test_a_resolved_alert_ticket_counts_on_its_days():
    fact = Fact(
        ticket_id=1, department_id=1, team_id=0, severity="high", origin="wazuh", assignee_id=2,
        rule="sshd", created_day=DAY, acknowledged_day=DAY, tta_bucket=30,
        resolved_day=DAY + timedelta(days=2), ttr_bucket=90, resolution="false_positive",
        sla_response="met", sla_resolution="breached", alerts=5, handling_seconds=600, observable_ids=(7,),
    )  # fmt: skip
    rows = contributions(fact)
    later = DAY + timedelta(days=2)
    assert rows["count"] == {
        (DAY, 1, 0, "high", "wazuh", ""): (1, 0, 1, 1, 0, 1),
        (later, 1, 0, "high", "wazuh", "false_positive"): (0, 1, 0, 0, 0, 0),
    }
    assert rows["duration"] == {(DAY, 1, 0, "high", "tta", 30): (1,), (later, 1, 0, "high", "ttr", 90): (1,)}
    assert rows["rule"] == {
        (DAY, 1, 0, "wazuh", "sshd", ""): (1, 5, 0, 0),
        (later, 1, 0, "wazuh", "sshd", "false_positive"): (0, 0, 1, 600),
    }
    assert rows["agent"] == {(later, 1, 0, 2, 90): (1,)}
    assert rows["observable"] == {(DAY, 1, 0, 7): (1,)}
    assert delta(fact, fact) == {table: {} for table in rows}
