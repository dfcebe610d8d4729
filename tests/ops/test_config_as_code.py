"""`socdesk config export` / `apply`: round trip, idempotence, dry run, audit, and broken files."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.models import Department, Team
from socdesk.alerts.models import Integration
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.ops.config.document import ConfigInvalid
from socdesk.ops.config.engine import config_apply, config_export
from socdesk.routing.models import CustomForm, DepartmentSLA, FilterRule, HelpTopic, SLAPlan
from tests.ops.config_helpers import build_configuration, state, wipe_configuration

ACTOR = Actor.system("cli:config apply (test)")


@pytest.fixture
def configured(people):
    build_configuration(people)
    return people


def apply(text: str, **kwargs):
    return config_apply(actor=ACTOR, text=textwrap.dedent(text), **kwargs)


def outcomes(changes):
    return {(c.kind, c.name): (c.outcome, c.fields) for c in changes}


def test_export_names_objects_and_leaves_secrets_out(configured):
    text = config_export()
    data = yaml.safe_load(text)
    assert data["version"] == 1
    assert list(data) == [
        "version",
        "departments",
        "roles",
        "teams",
        "schedules",
        "sla_plans",
        "department_sla",
        "custom_forms",
        "help_topics",
        "integrations",
        "mailboxes",
        "playbooks",
        "canned_responses",
        "filters",
        "banned_senders",
        "kb_categories",
        "report_schedules",
    ]
    wazuh_filter = data["filters"][0]
    assert wazuh_filter["integration"] == "Wazuh prod"
    assert wazuh_filter["actions"] == [
        {"type": "set_team", "value": "Incident Response"},
        {"type": "set_severity", "value": "critical"},
        {"type": "set_sla_plan", "value": "P1"},
        {"type": "stop"},
    ]
    phishing = data["filters"][1]["actions"]
    assert phishing[:3] == [
        {"type": "set_help_topic", "value": "Security / Phishing"},
        {"type": "set_agent", "value": "alice"},
        {"type": "set_department", "value": "SOC"},
    ]
    tier1 = next(t for t in data["teams"] if t["name"] == "Tier 1")
    assert tier1 == {
        "name": "Tier 1",
        "department": "SOC",
        "lead": "alice",
        "members": ["alice", "bob"],
        "assignment_mode": "none",
    }
    office = next(s for s in data["schedules"] if s["name"] == "Paris office")
    assert office["hours"] == {"mon": ["09:00-12:00", "13:00-17:00"], "fri": ["09:00-16:00"]}
    assert [str(d) for d in office["holidays"]] == ["2026-05-01", "2026-12-25"]
    p1 = next(p for p in data["sla_plans"] if p["name"] == "P1")
    assert p1["targets"]["critical"] == {"response": 15, "resolution": 240}
    assert p1["escalations"][1] == {
        "target": "resolution",
        "trigger": "breached",
        "notify": "team_lead",
        "reassign_team": "Incident Response",
        "raise_severity": False,
    }
    grafana = Integration.objects.get(name="Grafana")
    assert "do-not-export-me" not in text and "hmac_secret" not in text
    assert grafana.token not in text and "token" not in [k for i in data["integrations"] for k in i]
    assert "HMAC secrets are never exported" in text
    assert config_export() == text  # stable: the same data gives the same text


def test_round_trip_on_a_fresh_installation(configured):
    exported = config_export()
    wipe_configuration()
    changes = config_apply(actor=ACTOR, text=exported)
    assert {c.outcome for c in changes} == {"created"}
    assert config_export() == exported
    # The references were resolved to this installation's objects, not copied ids.
    rule = FilterRule.objects.get(name="Phishing reports")
    topic = HelpTopic.objects.get(name="Phishing")
    assert {"type": "set_help_topic", "value": topic.pk} in rule.actions
    assert topic.parent.name == "Security"
    assert SLAPlan.objects.get(is_default=True).name == "P1"


def test_second_apply_changes_nothing_and_records_nothing(configured):
    exported = config_export()
    events = AuditEvent.objects.count()
    changes = config_apply(actor=ACTOR, text=exported)
    assert changes and {c.outcome for c in changes} == {"unchanged"}
    assert AuditEvent.objects.count() == events


def test_changes_are_reported_by_field_and_audited_as_the_cli(configured):
    data = yaml.safe_load(config_export())
    tier1 = next(t for t in data["teams"] if t["name"] == "Tier 1")
    tier1["members"] = ["alice"]
    data["departments"].append({"name": "Threat Intel", "email": "cti@example.test"})
    p1 = next(p for p in data["sla_plans"] if p["name"] == "P1")
    p1["targets"]["critical"]["response"] = 10
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    result = outcomes(config_apply(actor=ACTOR, text=yaml.safe_dump(data)))
    assert result[("departments", "Threat Intel")] == ("created", ())
    assert result[("teams", "Tier 1")] == ("updated", ("members",))
    assert result[("sla_plans", "P1")] == ("updated", ("targets",))
    assert result[("teams", "Incident Response")] == ("unchanged", ())
    members = Team.objects.get(name="Tier 1").members.values_list("user__username", flat=True)
    assert list(members) == ["alice"]
    events = AuditEvent.objects.filter(id__gt=before).order_by("id")
    assert [e.action for e in events] == ["department.created", "team.changed", "sla_plan.updated"]
    assert {(e.actor_type, e.actor_label) for e in events} == {("system", "cli:config apply (test)")}
    team_event = events.get(action="team.changed")
    assert team_event.before == {"members": ["alice", "bob"]} and team_event.after == {"members": ["alice"]}


def test_dry_run_reports_the_same_and_writes_nothing(configured):
    data = yaml.safe_load(config_export())
    data["teams"].append({"name": "Night shift", "department": "SOC", "members": ["bob"]})
    data["integrations"][0]["enabled"] = True  # Grafana
    text = yaml.safe_dump(data)
    before = state()
    dry = config_apply(actor=ACTOR, text=text, dry_run=True)
    assert state() == before
    assert outcomes(dry)[("teams", "Night shift")] == ("created", ())
    assert outcomes(dry)[("integrations", "Grafana")] == ("updated", ("enabled",))
    assert outcomes(config_apply(actor=ACTOR, text=text)) == outcomes(dry)
    assert state() != before


def test_objects_not_in_the_file_are_left_alone_and_secrets_kept(configured):
    grafana = Integration.objects.get(name="Grafana")
    changes = apply(
        """
        version: 1
        integrations:
          - name: Grafana
            adapter: grafana
            enabled: true
        """
    )
    assert outcomes(changes) == {("integrations", "Grafana"): ("updated", ("enabled",))}
    after = Integration.objects.get(name="Grafana")
    assert (after.enabled, after.hmac_secret, after.token) == (True, "do-not-export-me", grafana.token)
    assert Integration.objects.filter(name="Wazuh prod").exists()  # not in the file: untouched
    assert FilterRule.objects.count() == 3


def test_sub_topics_may_come_before_their_parent(people):
    changes = apply(
        """
        version: 1
        help_topics:
          - name: Malware
            parent: Security / Endpoint
          - name: Endpoint
            parent: Security
          - name: Security
            department: SOC
        """
    )
    assert [c.name for c in changes] == ["Security", "Security / Endpoint", "Security / Endpoint / Malware"]
    assert HelpTopic.objects.get(name="Malware").parent.parent.name == "Security"


# --- broken files: the line and key named, nothing applied ----------------------------------------------

GOOD_START = """\
version: 1
departments:
  - name: Threat Intel
teams:
  - name: CTI
    department: Threat Intel
"""


def refused(text: str) -> list[str]:
    before = state()
    with pytest.raises(ConfigInvalid) as caught:
        config_apply(actor=ACTOR, text=text)
    assert state() == before, "a refused file must write nothing"
    return [str(problem) for problem in caught.value.problems]


def test_reference_to_a_missing_team_names_line_and_path(configured):
    problems = refused(
        GOOD_START
        + textwrap.dedent(
            """\
            filters:
              - name: To tier 9
                conditions:
                  - {field: subject, operator: contains, value: urgent}
                actions:
                  - type: set_team
                    value: Tier 9
            """
        )
    )
    assert problems == [
        "line 13, filters[0].actions[0].value: there is no team named 'Tier 9' in the file or in this "
        "installation."
    ]


def test_bad_yaml_syntax_names_the_line(people):
    problems = refused(GOOD_START + "roles:\n  - name: [unclosed\n")
    assert problems == [
        "line 9: this is not valid YAML (column 1): expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence, which starts on line 8, column 11)."
    ]
    problems = refused(GOOD_START + "roles:\n  - name: Lead\n   permissions: [view]\n")
    assert problems == [
        "line 9: this is not valid YAML (column 4): expected <block end>, but found '<block mapping start>' "
        "(while parsing a block collection, which starts on line 8, column 3)."
    ]


def test_unknown_key_wrong_type_and_missing_key_are_all_named(people):
    problems = refused(
        GOOD_START
        + textwrap.dedent(
            """\
            roles:
              - name: Lead
                permisions: [view]
              - name: Viewer
                requires_two_factor: "yes"
            schedules:
              - time_zone: UTC
            """
        )
    )
    assert problems == [
        "line 9, roles[0].permisions: unknown key 'permisions'; the keys here are name, permissions, "
        "requires_two_factor.",
        "line 11, roles[1].requires_two_factor: must be true or false, not the text 'yes'.",
        "line 13, schedules[0].name: the key 'name' is missing.",
    ]


def test_duplicate_names_and_duplicate_keys_are_refused(people):
    problems = refused(GOOD_START + "  - name: cti\n")
    assert problems == ["line 7, teams[1].name: 'cti' is already in this list (line 5)."]
    problems = refused(GOOD_START + "    department: SOC\n")
    assert problems == ["line 7, teams[0].department: the key 'department' is given twice (first on line 6)."]


def test_version_and_unknown_sections_are_checked(people):
    assert refused("departments: []\n") == ["line 1, version: the file needs `version: 1` at the top."]
    assert refused("version: 2\n") == ["line 1, version: this SOCdesk reads version 1 files, not 2."]
    assert refused("version: 1\nwebhooks: []\n") == [
        "line 2, webhooks: unknown section 'webhooks'; the sections are departments, roles, teams, "
        "schedules, sla_plans, department_sla, custom_forms, help_topics, integrations, mailboxes, "
        "playbooks, canned_responses, filters, banned_senders, kb_categories, report_schedules."
    ]
    assert refused("") == ["line 1: the file is empty; start it with `version: 1`."]


def test_a_service_refusal_names_the_entry_and_rolls_back_everything(configured):
    problems = refused(
        GOOD_START
        + textwrap.dedent(
            """\
            filters:
              - name: Broken regex
                conditions:
                  - {field: subject, operator: matches, value: "(unclosed"}
                actions:
                  - {type: stop}
            schedules:
              - name: Overlapping
                hours:
                  mon: ["09:00-12:00", "11:00-17:00"]
            """
        )
    )
    assert problems == [
        "line 9, filters[0].conditions: Filter 'Broken regex', condition 1 (subject matches): has a regular "
        "expression that does not compile: missing ) at position 9.",
        "line 15, schedules[0].hours: Schedule 'Overlapping': The mon intervals overlap or are out of order "
        "at 11:00; list them in order without overlaps.",
    ]
    # The department and team before them were written, then rolled back: state() compared them.


# --- the command -------------------------------------------------------------------------------------


def test_command_exports_and_applies_a_file(configured, tmp_path):
    out = io.StringIO()
    call_command("config", "export", stdout=out)
    path = tmp_path / "socdesk.yaml"
    path.write_text(out.getvalue().replace("email: soc@example.test", "email: soc-team@example.test"))
    dry = io.StringIO()
    call_command("config", "apply", str(path), "--dry-run", stdout=dry)
    assert "  updated    SOC (email)" in dry.getvalue()
    last = dry.getvalue().splitlines()[-1]
    assert last == "Dry run: nothing was applied; run again without --dry-run to apply."
    assert Department.objects.get(name="SOC").email == "soc@example.test"
    done = io.StringIO()
    call_command("config", "apply", str(path), stdout=done)
    lines = done.getvalue().splitlines()
    assert "departments:" in lines and "  updated    SOC (email)" in lines
    assert lines[-1] == (
        "0 created, 1 updated, 20 unchanged. Objects not in the file were left as they are "
        "(--prune removes them)."
    )
    event = AuditEvent.objects.filter(action="department.changed").latest("id")
    assert event.actor_label.startswith("cli:config apply (")


def test_command_prints_every_problem_and_exits_with_an_error(people, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nteams:\n  - name: CTI\n    lead: nobody\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"1 problem in .*broken.yaml; nothing was applied\."):
        call_command("config", "apply", str(path), stderr=err)
    assert (
        f"{path}: line 4, teams[0].lead: there is no agent with the username 'nobody' in this installation."
        in err.getvalue()
    )
    assert not Team.objects.filter(name="CTI").exists()


def test_an_entry_naming_a_refused_one_is_reported_too(configured):
    # "soc" is a new name to the file, but the service refuses it: names are unique regardless of case.
    problems = refused(
        textwrap.dedent(
            """\
            version: 1
            departments:
              - name: soc
            teams:
              - name: Blue team
                department: soc
            """
        )
    )
    assert problems == [
        "line 3, departments[0].name: A department named 'soc' already exists.",
        "line 5, teams[0]: not applied: the department 'soc' it names could not be applied either.",
    ]


def test_wrong_shapes_are_named(people):
    problems = refused(
        textwrap.dedent(
            """\
            version: 1
            teams: {name: CTI}
            sla_plans:
              - name: P2
                schedule: 24/7
                at_risk_share: lots
                targets: {urgent: {response: 5, resolution: 1}}
            schedules:
              - name: 24/7
                always: true
                hours: {mon: ["9-17"]}
            """
        )
    )
    assert problems == [
        "line 2, teams: must be a list of teams (lines starting with `- `).",
        "line 6, sla_plans[0].at_risk_share: must be a number, not the text 'lots'.",
        "line 7, sla_plans[0].targets.urgent: must be one of info, low, medium, high, critical, not the text "
        "'urgent'.",
        "line 11, schedules[0].hours.mon[0]: '9-17' is not an interval; write it HH:MM-HH:MM, "
        "e.g. 08:00-17:00.",
    ]


def test_the_documented_example_applies_and_round_trips(people):
    """docs/configuration-as-code.md's example is a file that works, with the personas' agents."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "configuration-as-code.md").read_text()
    example = next(block for block in page.split("```yaml\n")[1:] if block.startswith("version: 1"))
    example = example.split("```")[0]
    changes = outcomes(config_apply(actor=ACTOR, text=example))
    assert changes[("filters", "Wazuh critical from servers")] == ("created", ())
    assert changes[("departments", "SOC")] == (
        "updated",
        ("email", "raw_payload_retention_days", "autoclose_resolved_days", "assignment_mode"),
    )
    assert changes[("teams", "Incident Response")] == ("created", ())
    assert Department.objects.get(name="SOC").autoclose_resolved_days == 7
    assert Department.objects.get(name="SOC").assignment_policy.mode == "round_robin"
    assert Team.objects.get(name="Incident Response").assignment_policy.mode == "fewest_open"
    assert changes[("help_topics", "Security / Phishing")] == ("created", ())
    assert changes[("custom_forms", "Phishing report")] == ("created", ())
    assert changes[("department_sla", "SOC")] == ("created", ())
    security = HelpTopic.objects.get(name="Security")
    assert security.form.name == "Phishing report"
    assert list(security.form.fields.values_list("name", flat=True)) == ["sender", "verdict"]
    soc_sla = DepartmentSLA.objects.get(department__name="SOC")
    assert (soc_sla.plan.name, soc_sla.manager.user.username) == ("P1", "bob")
    rule = FilterRule.objects.get(name="Wazuh critical from servers")
    assert rule.channel_id == Integration.objects.get(name="Wazuh prod").pk
    assert {c.outcome for c in config_apply(actor=ACTOR, text=config_export())} == {"unchanged"}


# --- --prune -------------------------------------------------------------------------------------------


def test_prune_removes_what_the_files_sections_do_not_name(configured):
    data = yaml.safe_load(config_export())
    data["filters"] = [f for f in data["filters"] if f["name"] != "Phishing reports"]
    data["help_topics"] = [t for t in data["help_topics"] if t["name"] == "Security"]
    data["integrations"] = [i for i in data["integrations"] if i["name"] != "Grafana"]
    data["custom_forms"] = [f for f in data["custom_forms"] if f["name"] != "Empty form"]
    del data["sla_plans"], data["teams"]  # sections left out: nothing of theirs is removed
    data["departments"] = []  # departments are never removed
    text = yaml.safe_dump(data)
    before = state()
    dry = outcomes(config_apply(actor=ACTOR, text=text, dry_run=True, prune=True))
    assert state() == before
    removed = {key: value for key, value in dry.items() if value[0] != "unchanged"}
    assert removed == {
        ("filters", "Phishing reports"): ("deleted", ()),
        ("integrations", "Grafana"): ("deleted", ()),
        ("help_topics", "Security / Phishing"): ("deleted", ()),
        ("help_topics", "Access requests"): ("deleted", ()),
        ("custom_forms", "Empty form"): ("deleted", ()),
    }
    assert outcomes(config_apply(actor=ACTOR, text=text, prune=True)) == dry
    assert sorted(FilterRule.objects.values_list("name", flat=True)) == [
        "Repeated alerts to SOAR",
        "Wazuh critical from servers",
    ]
    assert list(CustomForm.objects.values_list("name", flat=True)) == ["Phishing report"]
    assert list(HelpTopic.objects.values_list("name", flat=True)) == ["Security"]
    assert SLAPlan.objects.count() == 2 and Department.objects.count() == 2 and Team.objects.count() == 2
    deleted = AuditEvent.objects.filter(action__in=["ticket_filter.deleted", "help_topic.deleted"])
    assert deleted.count() == 3
    # Without --prune the same file removes nothing.
    assert {c.outcome for c in config_apply(actor=ACTOR, text=text)} == {"unchanged"}


def test_prune_refused_by_a_service_applies_nothing(configured):
    # P1 is used by the help topic Security, which the file (no help_topics section) keeps.
    text = "version: 1\nsla_plans:\n  - name: Business hours\n    schedule: Paris office\n"
    text += "    targets: {low: {response: 480, resolution: 2400}}\n"
    problems = refused_pruning(text)
    assert problems == [
        "line 2, sla_plans: 'P1' could not be removed: SLA plan 'P1' is used by help topic 'Security', "
        "ticket filter 'Wazuh critical from servers', department 'SOC'; change them first."
    ]


def refused_pruning(text: str) -> list[str]:
    before = state()
    with pytest.raises(ConfigInvalid) as caught:
        config_apply(actor=ACTOR, text=text, prune=True)
    assert state() == before
    return [str(problem) for problem in caught.value.problems]


def test_command_prune_prints_removals(configured, tmp_path):
    path = tmp_path / "filters.yaml"
    path.write_text("version: 1\nfilters: []\n")
    out = io.StringIO()
    call_command("config", "apply", str(path), "--prune", stdout=out)
    assert out.getvalue().splitlines() == [
        "filters:",
        "  deleted    Repeated alerts to SOAR",
        "  deleted    Phishing reports",
        "  deleted    Wazuh critical from servers",
        "0 created, 0 updated, 0 unchanged, 3 deleted, 0 disabled. Departments, roles, teams and the "
        "sections the file does not have were left as they are.",
    ]
    assert not FilterRule.objects.exists()


def test_export_order_is_the_same_on_every_database(people):
    # A linguistic collation (PostgreSQL with en_US, say) puts "abc" first, SQLite after the capitals:
    # export sorts by code point in Python, the same everywhere.
    apply("version: 1\ndepartments:\n  - name: abc\n  - name: Zeta\n")
    assert [d["name"] for d in yaml.safe_load(config_export())["departments"]] == [
        "IT Help Desk",
        "SOC",
        "Zeta",
        "abc",
    ]


def test_a_database_refusal_is_reported_like_a_service_one(people):
    # "S.O.C." is a new name, but its slug would be "soc", which SOC has: the unique index refuses it.
    problems = refused("version: 1\ndepartments:\n  - name: Threat Intel\n  - name: S.O.C.\n")
    assert len(problems) == 1
    assert problems[0].startswith("line 4, departments[1]: the database refused it: ")
    assert "slug" in problems[0]


def test_numbers_past_what_the_database_holds_are_refused_before_writing(people):
    problems = refused(
        "version: 1\nschedules:\n  - {name: 24/7, always: true}\nsla_plans:\n  - name: P1\n"
        "    schedule: 24/7\n    targets: {low: {response: 5, resolution: 3000000000}}\n"
    )
    assert problems == ["line 7, sla_plans[0].targets.low.resolution: must be at most 2147483647."]


def test_command_reads_standard_input(people, monkeypatch):
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("version: 1\nroles:\n  - name: Viewer\n    permissions: [view]\n")
    )
    out = io.StringIO()
    call_command("config", "apply", "-", stdout=out)
    assert "  created    Viewer" in out.getvalue().splitlines()


def test_a_file_of_nested_aliases_is_refused_quickly(people):
    # Each level repeats the one before ten times: 10^9 values once expanded ("billion laughs").
    lines = ["version: 1", 'a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    problems = refused("\n".join(lines) + "\n")
    assert len(problems) == 1
    assert "more than 200,000 values once its aliases (*name) are expanded" in problems[0]


def test_anchors_and_aliases_may_share_a_value(people):
    changes = apply(
        """
        version: 1
        roles:
          - name: Reader
            permissions: &read [view]
          - name: Reader too
            permissions: *read
        """
    )
    assert [(c.name, c.outcome) for c in changes] == [("Reader", "created"), ("Reader too", "created")]


def test_export_reads_a_fixed_number_of_queries_whatever_the_size(configured):
    with CaptureQueriesContext(connection) as small:
        config_export()
    data = yaml.safe_load(config_export())
    for i in range(5):
        data["teams"].append({"name": f"Team {i}", "department": "SOC", "lead": "bob", "members": ["alice"]})
        data["help_topics"].append({"name": f"Topic {i}", "parent": "Security", "team": f"Team {i}"})
        data["filters"].append(
            {
                "name": f"Filter {i}",
                "conditions": [{"field": "subject", "operator": "contains", "value": str(i)}],
                "actions": [
                    {"type": "set_team", "value": f"Team {i}"},
                    {"type": "set_help_topic", "value": "Security"},
                ],
            }
        )
    config_apply(actor=ACTOR, text=yaml.safe_dump(data))
    with CaptureQueriesContext(connection) as large:
        config_export()
    assert len(large) == len(small)


def test_command_exports_to_a_file_and_names_a_file_it_cannot_read(configured, tmp_path):
    target = tmp_path / "socdesk.yaml"
    err = io.StringIO()
    call_command("config", "export", "-o", str(target), stderr=err)
    assert target.read_text() == config_export()
    assert err.getvalue().strip() == f"Wrote the configuration to {target}."
    with pytest.raises(CommandError, match=r"^Cannot read .*missing\.yaml: \[Errno 2\] No such file"):
        call_command("config", "apply", str(tmp_path / "missing.yaml"))


def test_keys_left_out_take_the_services_defaults(people):
    apply(
        """
        version: 1
        schedules:
          - name: 24/7
            always: true
        sla_plans:
          - name: P3
            schedule: 24/7
            targets: {low: {response: 60, resolution: 600}}
            escalations:
              - trigger: breached
        """
    )
    plan = yaml.safe_load(config_export())["sla_plans"][0]
    assert plan["at_risk_share"] == 0.75 and plan["default"] is False
    assert plan["escalations"] == [
        {
            "target": "resolution",
            "trigger": "breached",
            "notify": "assignee",
            "reassign_team": None,
            "raise_severity": False,
        }
    ]
