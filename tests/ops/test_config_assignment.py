"""Configuration as code for auto-close days and auto-assignment policies (keys of departments and teams)."""

from __future__ import annotations

import textwrap

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.models import Department, Team
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.ops.config.document import ConfigInvalid
from socdesk.ops.config.engine import config_apply, config_export
from socdesk.routing.models import AssignmentPolicy
from tests.ops.config_helpers import build_configuration, state, wipe_configuration

ACTOR = Actor.system("cli:config apply (test)")


@pytest.fixture
def configured(people):
    build_configuration(people)
    return people


def outcomes(changes):
    return {(c.kind, c.name): (c.outcome, c.fields) for c in changes}


def entry(data, section: str, name: str) -> dict:
    return next(item for item in data[section] if item["name"] == name)


def modes() -> dict[str, str]:
    """Every stored policy, as "department X" / "team Y" -> mode."""
    return {
        (f"department {p.department.name}" if p.department else f"team {p.team.name}"): p.mode
        for p in AssignmentPolicy.objects.select_related("department", "team")
    }


def test_export_writes_autoclose_and_modes_but_not_the_round_robin_pointer(configured):
    people = configured
    AssignmentPolicy.objects.filter(department=people.soc).update(last_agent=people.alice)
    text = config_export()
    data = yaml.safe_load(text)
    assert entry(data, "departments", "SOC") == {
        "name": "SOC",
        "email": people.soc.email,
        "description": people.soc.description,
        "raw_payload_retention_days": 30,
        "closed_ticket_retention_days": None,
        "autoclose_resolved_days": 7,
        "assignment_mode": "round_robin",
        "auto_response": True,
        "closed_reply": "",
        "reopen_ack": True,
    }
    it = entry(data, "departments", "IT Help Desk")
    assert (it["autoclose_resolved_days"], it["assignment_mode"]) == (None, "none")
    assert entry(data, "teams", "Incident Response")["assignment_mode"] == "fewest_open"
    assert entry(data, "teams", "Tier 1")["assignment_mode"] == "none"
    assert "last_agent" not in text and "pointer" not in text
    assert "# assignment_mode: who gets new unassigned tickets: none | round_robin | fewest_open." in text


def test_round_trip_recreates_the_policies(configured):
    exported = config_export()
    wipe_configuration()
    assert not AssignmentPolicy.objects.exists()  # they went with their departments and teams
    config_apply(actor=ACTOR, text=exported)
    assert config_export() == exported
    assert Department.objects.get(name="SOC").autoclose_resolved_days == 7
    # An owner whose mode is `none` gets no policy row: none is what having no policy means.
    assert modes() == {"department SOC": "round_robin", "team Incident Response": "fewest_open"}


def test_second_apply_changes_nothing_records_nothing_and_keeps_the_pointer(configured):
    people = configured
    AssignmentPolicy.objects.filter(department=people.soc).update(last_agent=people.bob)
    exported = config_export()
    events = AuditEvent.objects.count()
    before = state()
    changes = config_apply(actor=ACTOR, text=exported)
    assert {c.outcome for c in changes} == {"unchanged"}
    assert AuditEvent.objects.count() == events
    assert state() == before
    assert AssignmentPolicy.objects.get(department=people.soc).last_agent == people.bob


def test_changes_are_applied_through_the_services_and_audited(configured):
    people = configured
    AssignmentPolicy.objects.filter(department=people.soc).update(last_agent=people.bob)
    data = yaml.safe_load(config_export())
    soc = entry(data, "departments", "SOC")
    soc["autoclose_resolved_days"] = None
    soc["assignment_mode"] = "fewest_open"
    entry(data, "departments", "IT Help Desk")["autoclose_resolved_days"] = 3
    entry(data, "teams", "Tier 1")["assignment_mode"] = "round_robin"
    entry(data, "teams", "Incident Response")["assignment_mode"] = "none"
    data["teams"].append({"name": "Night shift", "department": "SOC", "assignment_mode": "round_robin"})
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    result = outcomes(config_apply(actor=ACTOR, text=yaml.safe_dump(data)))

    assert result[("departments", "SOC")] == ("updated", ("autoclose_resolved_days", "assignment_mode"))
    assert result[("departments", "IT Help Desk")] == ("updated", ("autoclose_resolved_days",))
    assert result[("teams", "Tier 1")] == ("updated", ("assignment_mode",))
    assert result[("teams", "Incident Response")] == ("updated", ("assignment_mode",))
    assert result[("teams", "Night shift")] == ("created", ())
    assert modes() == {
        "department SOC": "fewest_open",
        "team Incident Response": "none",
        "team Tier 1": "round_robin",
        "team Night shift": "round_robin",
    }
    assert list(Department.objects.order_by("name").values_list("name", "autoclose_resolved_days")) == [
        ("IT Help Desk", 3),
        ("SOC", None),
    ]
    # A new mode restarts round-robin (the service's rule): the pointer is cleared.
    assert AssignmentPolicy.objects.get(department=people.soc).last_agent is None
    events = AuditEvent.objects.filter(id__gt=last).order_by("id")
    assert [(e.action, e.target_label) for e in events if e.action != "team.created"] == [
        ("department.autoclose_changed", "IT Help Desk"),
        ("department.autoclose_changed", "SOC"),
        ("assignment_policy.changed", "SOC"),
        ("assignment_policy.changed", "Incident Response"),
        ("assignment_policy.changed", "Tier 1"),
        ("assignment_policy.changed", "Night shift"),  # file order: appended last
    ]
    assert {e.actor_label for e in events} == {"cli:config apply (test)"}
    soc_policy = events.get(action="assignment_policy.changed", target_label="SOC")
    assert (soc_policy.before, soc_policy.after) == (
        {"assignment_mode": "round_robin"},
        {"assignment_mode": "fewest_open"},
    )
    assert {c.outcome for c in config_apply(actor=ACTOR, text=config_export())} == {"unchanged"}


def test_keys_left_out_mean_never_and_none(configured):
    changes = config_apply(
        actor=ACTOR,
        text=textwrap.dedent(
            """\
            version: 1
            departments:
              - name: SOC
                email: soc@example.test
                raw_payload_retention_days: 30
            teams:
              - name: Incident Response
                department: SOC
                lead: bob
            """
        ),
    )
    assert outcomes(changes)[("departments", "SOC")] == (
        "updated",
        ("autoclose_resolved_days", "assignment_mode"),
    )
    assert Department.objects.get(name="SOC").autoclose_resolved_days is None
    assert modes() == {"department SOC": "none", "team Incident Response": "none"}


def refused(text: str) -> list[str]:
    before = state()
    with pytest.raises(ConfigInvalid) as caught:
        config_apply(actor=ACTOR, text=textwrap.dedent(text))
    assert state() == before, "a refused file must write nothing"
    return [str(problem) for problem in caught.value.problems]


def test_a_bad_mode_or_autoclose_is_named_by_line_and_key_and_nothing_is_applied(configured):
    problems = refused(
        """\
        version: 1
        departments:
          - name: SOC
            email: changed@example.test
            autoclose_resolved_days: 0
            assignment_mode: random
          - name: Threat Intel
        teams:
          - name: Tier 1
            department: SOC
            assignment_mode: Round-robin
          - name: Night shift
            assignment_mode: null
        """
    )
    assert problems == [
        "line 5, departments[0].autoclose_resolved_days: must be at least 1.",
        "line 6, departments[0].assignment_mode: must be one of none, round_robin, fewest_open, not the text "
        "'random'.",
        "line 11, teams[0].assignment_mode: must be one of none, round_robin, fewest_open, not the text "
        "'Round-robin'.",
        "line 13, teams[1].assignment_mode: must be one of none, round_robin, fewest_open, not nothing "
        "(null).",
    ]
    assert not Department.objects.filter(name="Threat Intel").exists()
    assert not Team.objects.filter(name="Night shift").exists()


def test_dry_run_reports_the_changes_and_writes_nothing(configured):
    data = yaml.safe_load(config_export())
    entry(data, "departments", "SOC")["assignment_mode"] = "none"
    entry(data, "departments", "SOC")["autoclose_resolved_days"] = 14
    entry(data, "teams", "Tier 1")["assignment_mode"] = "fewest_open"
    text = yaml.safe_dump(data)
    before = state()
    dry = outcomes(config_apply(actor=ACTOR, text=text, dry_run=True))
    assert state() == before
    assert dry[("departments", "SOC")] == ("updated", ("autoclose_resolved_days", "assignment_mode"))
    assert dry[("teams", "Tier 1")] == ("updated", ("assignment_mode",))
    assert outcomes(config_apply(actor=ACTOR, text=text)) == dry
    assert modes()["team Tier 1"] == "fewest_open"


def test_export_reads_policies_in_a_fixed_number_of_queries(configured):
    with CaptureQueriesContext(connection) as small:
        config_export()
    data = yaml.safe_load(config_export())
    for i in range(5):
        data["departments"].append({"name": f"Department {i}", "assignment_mode": "fewest_open"})
        data["teams"].append(
            {"name": f"Team {i}", "department": f"Department {i}", "assignment_mode": "round_robin"}
        )
    config_apply(actor=ACTOR, text=yaml.safe_dump(data))
    assert AssignmentPolicy.objects.count() == 12
    with CaptureQueriesContext(connection) as large:
        config_export()
    assert len(large) == len(small)
