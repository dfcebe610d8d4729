"""Configuration as code for custom forms (and a help topic's form), departments' SLA settings, and the
events and webhook secrets of ticket filters."""

from __future__ import annotations

import textwrap

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.accounts.models import Department
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.ops.config.document import ConfigInvalid
from socdesk.ops.config.engine import config_apply, config_export
from socdesk.routing.models import CustomField, CustomForm, DepartmentSLA, FilterRule, HelpTopic
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


def entry(data, section: str, name: str, key: str = "name") -> dict:
    return next(item for item in data[section] if item[key] == name)


def refused(text: str) -> list[str]:
    before = state()
    with pytest.raises(ConfigInvalid) as caught:
        config_apply(actor=ACTOR, text=textwrap.dedent(text))
    assert state() == before, "a refused file must write nothing"
    return [str(problem) for problem in caught.value.problems]


def fields_of(form_name: str) -> list[tuple[str, str, int]]:
    return list(CustomField.objects.filter(form__name=form_name).values_list("name", "label", "order"))


# --- export --------------------------------------------------------------------------------------------


def test_export_writes_forms_topic_forms_department_sla_and_filter_events(configured):
    text = config_export()
    data = yaml.safe_load(text)
    assert data["custom_forms"] == [
        {"name": "Empty form", "description": "", "fields": []},
        {
            "name": "Phishing report",
            "description": "What the user received.",
            "fields": [  # in the order the form shows them (created the other way round)
                {
                    "name": "sender",
                    "label": "Sender address",
                    "type": "email",
                    "choices": [],
                    "help_text": "As shown in the headers.",
                    "agent_visible": True,
                    "agent_required": False,
                    "user_visible": True,
                    "user_required": True,
                },
                {
                    "name": "verdict",
                    "label": "Verdict",
                    "type": "choice",
                    "choices": ["Malicious", "Benign"],
                    "help_text": "",
                    "agent_visible": True,
                    "agent_required": False,
                    "user_visible": True,
                    "user_required": False,
                },
            ],
        },
    ]
    assert entry(data, "help_topics", "Security")["form"] == "Phishing report"
    assert entry(data, "help_topics", "Phishing")["form"] is None
    assert data["department_sla"] == [
        {"department": "IT Help Desk", "sla_plan": "Business hours", "manager": None},
        {"department": "SOC", "sla_plan": "P1", "manager": "bob"},
    ]
    soar = entry(data, "filters", "Repeated alerts to SOAR")
    assert soar["on_events"] == ["alert_repeated", "reopened"]  # the documented order
    assert entry(data, "filters", "Phishing reports")["on_events"] == []
    assert "never-export-this-secret" not in text and "webhook_secret" not in text
    assert "Webhook secrets are never exported" in text
    # Sections in the order apply writes them: plans before the settings and topics that name them.
    sections = list(data)
    assert sections.index("sla_plans") < sections.index("department_sla")
    assert sections.index("custom_forms") < sections.index("help_topics")


def test_export_reads_a_fixed_number_of_queries_with_more_forms_and_settings(configured):
    with CaptureQueriesContext(connection) as small:
        config_export()
    data = yaml.safe_load(config_export())
    for i in range(4):
        data["departments"].append({"name": f"Dept {i}"})
        data["department_sla"].append({"department": f"Dept {i}", "sla_plan": "P1", "manager": "alice"})
        data["custom_forms"].append(
            {"name": f"Form {i}", "fields": [{"name": f"f{n}", "label": f"F {n}"} for n in range(3)]}
        )
        data["help_topics"].append({"name": f"Topic {i}", "form": f"Form {i}"})
    config_apply(actor=ACTOR, text=yaml.safe_dump(data))
    with CaptureQueriesContext(connection) as large:
        config_export()
    assert len(large) == len(small)


# --- round trip and idempotence ------------------------------------------------------------------------


def test_round_trip_recreates_forms_topic_forms_and_department_sla(configured):
    people = configured
    exported = config_export()
    wipe_configuration()
    assert not CustomForm.objects.exists() and not DepartmentSLA.objects.exists()
    changes = outcomes(config_apply(actor=ACTOR, text=exported))
    assert changes[("custom_forms", "Phishing report")] == ("created", ())
    assert changes[("department_sla", "SOC")] == ("created", ())
    assert config_export() == exported
    assert fields_of("Phishing report") == [("sender", "Sender address", 0), ("verdict", "Verdict", 1)]
    assert HelpTopic.objects.get(name="Security").form.name == "Phishing report"
    soc = DepartmentSLA.objects.get(department__name="SOC")
    assert (soc.plan.name, soc.manager_id) == ("P1", people.bob.pk)
    # The filter came back with its events, and without a secret (the file has none to give).
    rule = FilterRule.objects.get(name="Repeated alerts to SOAR")
    assert (rule.on_events, rule.webhook_secret) == (["alert_repeated", "reopened"], "")
    events = AuditEvent.objects.count()
    assert {c.outcome for c in config_apply(actor=ACTOR, text=exported)} == {"unchanged"}
    assert AuditEvent.objects.count() == events


def test_a_new_department_plan_settings_form_and_topic_in_one_file(people):
    changes = apply(
        """
        version: 1
        help_topics:
          - name: Malware
            form: Malware sample
        custom_forms:
          - name: Malware sample
            fields:
              - {name: sha256, label: SHA-256, agent_required: true}
              - {name: family, label: Family, type: multi_choice, choices: [Emotet, Qakbot]}
        department_sla:
          - {department: Threat Intel, sla_plan: Intel, manager: carol}
        sla_plans:
          - name: Intel
            schedule: 24/7
            targets: {low: {response: 60, resolution: 600}}
        schedules:
          - {name: 24/7, always: true}
        departments:
          - name: Threat Intel
        """
    )
    assert [c.kind for c in changes] == [
        "departments",
        "schedules",
        "sla_plans",
        "department_sla",
        "custom_forms",
        "help_topics",
    ]
    settings = DepartmentSLA.objects.get(department__name="Threat Intel")
    assert (settings.plan.name, settings.manager.user.username) == ("Intel", "carol")
    assert HelpTopic.objects.get(name="Malware").form.name == "Malware sample"
    family = CustomField.objects.get(name="family")
    assert (family.type, family.choices, family.order) == ("multi_choice", ["Emotet", "Qakbot"], 1)
    assert CustomField.objects.get(name="sha256").agent_required is True
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"department.sla_set", "custom_form.created", "custom_field.created"} <= actions


# --- updates -------------------------------------------------------------------------------------------


def test_fields_are_added_changed_reordered_and_removed_by_name(configured):
    data = yaml.safe_load(config_export())
    report = entry(data, "custom_forms", "Phishing report")
    sender, verdict = report["fields"]
    verdict["label"] = "Analyst verdict"
    report["fields"] = [verdict, {"name": "url", "label": "Link clicked", "type": "ip"}]  # sender removed
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    changes = outcomes(config_apply(actor=ACTOR, text=yaml.safe_dump(data)))
    assert changes[("custom_forms", "Phishing report")] == ("updated", ("fields",))
    assert changes[("custom_forms", "Empty form")] == ("unchanged", ())
    assert fields_of("Phishing report") == [("verdict", "Analyst verdict", 0), ("url", "Link clicked", 1)]
    events = AuditEvent.objects.filter(id__gt=before).order_by("id")
    assert [e.action for e in events] == [
        "custom_field.deleted",
        "custom_field.updated",
        "custom_field.created",
    ]
    assert events[0].before["name"] == sender["name"]
    assert {c.outcome for c in config_apply(actor=ACTOR, text=yaml.safe_dump(data))} == {"unchanged"}


def test_help_topic_form_and_department_sla_are_changed_and_cleared(configured):
    data = yaml.safe_load(config_export())
    entry(data, "help_topics", "Security")["form"] = None
    entry(data, "help_topics", "Access requests")["form"] = "Empty form"
    entry(data, "department_sla", "SOC", key="department").update(sla_plan=None, manager="alice")
    changes = outcomes(config_apply(actor=ACTOR, text=yaml.safe_dump(data)))
    assert changes[("help_topics", "Security")] == ("updated", ("form",))
    assert changes[("help_topics", "Access requests")] == ("updated", ("form",))
    assert changes[("department_sla", "SOC")] == ("updated", ("sla_plan", "manager"))
    assert changes[("department_sla", "IT Help Desk")] == ("unchanged", ())
    assert HelpTopic.objects.get(name="Security").form is None
    assert HelpTopic.objects.get(name="Access requests").form.name == "Empty form"
    soc = DepartmentSLA.objects.get(department__name="SOC")
    assert (soc.plan, soc.manager.user.username) == (None, "alice")
    event = AuditEvent.objects.filter(action="department.sla_set").latest("id")
    assert event.actor_label == "cli:config apply (test)"


def test_a_department_left_out_of_department_sla_keeps_its_settings(configured):
    changes = apply(
        """
        version: 1
        department_sla:
          - {department: IT Help Desk}
        """
    )
    assert outcomes(changes) == {("department_sla", "IT Help Desk"): ("updated", ("sla_plan",))}
    assert DepartmentSLA.objects.get(department__name="IT Help Desk").plan is None  # the default plan
    assert DepartmentSLA.objects.get(department__name="SOC").plan.name == "P1"


def test_a_filter_updated_by_apply_keeps_its_webhook_secret(configured):
    data = yaml.safe_load(config_export())
    soar = entry(data, "filters", "Repeated alerts to SOAR")
    soar["on_events"] = ["reopened", "reply_received", "reopened"]  # any order, given twice
    soar["order"] = 40
    changes = outcomes(config_apply(actor=ACTOR, text=yaml.safe_dump(data)))
    assert changes[("filters", "Repeated alerts to SOAR")] == ("updated", ("order", "on_events"))
    rule = FilterRule.objects.get(name="Repeated alerts to SOAR")
    assert rule.on_events == ["reply_received", "reopened"]
    assert rule.webhook_secret == "never-export-this-secret"
    assert {c.outcome for c in config_apply(actor=ACTOR, text=yaml.safe_dump(data))} == {"unchanged"}


def test_dry_run_of_forms_and_department_sla_writes_nothing(configured):
    data = yaml.safe_load(config_export())
    data["custom_forms"].append({"name": "Lost device", "fields": [{"name": "serial", "label": "Serial"}]})
    entry(data, "custom_forms", "Phishing report")["fields"].pop()
    entry(data, "department_sla", "SOC", key="department")["manager"] = None
    entry(data, "help_topics", "Phishing")["form"] = "Lost device"
    text = yaml.safe_dump(data)
    before = state()
    dry = outcomes(config_apply(actor=ACTOR, text=text, dry_run=True))
    assert state() == before
    assert dry[("custom_forms", "Lost device")] == ("created", ())
    assert dry[("custom_forms", "Phishing report")] == ("updated", ("fields",))
    assert dry[("department_sla", "SOC")] == ("updated", ("manager",))
    assert dry[("help_topics", "Security / Phishing")] == ("updated", ("form",))
    assert outcomes(config_apply(actor=ACTOR, text=text)) == dry
    assert state() != before


# --- broken files: the line and key named, nothing applied ----------------------------------------------


def test_names_that_name_nothing_are_refused_by_line_and_key(configured):
    problems = refused(
        """\
        version: 1
        custom_forms:
          - name: Lost device
        department_sla:
          - department: Threat Intel
            sla_plan: P9
            manager: nobody
        help_topics:
          - name: Lost laptop
            form: Lost devices
        """
    )
    assert problems == [
        "line 5, department_sla[0].department: there is no department named 'Threat Intel' in the file "
        "or in this installation.",
        "line 6, department_sla[0].sla_plan: there is no SLA plan named 'P9' in the file or in this "
        "installation.",
        "line 7, department_sla[0].manager: there is no agent with the username 'nobody' in this "
        "installation.",
        "line 10, help_topics[0].form: there is no custom form named 'Lost devices' in the file or in this "
        "installation.",
    ]
    assert not CustomForm.objects.filter(name="Lost device").exists()


def test_bad_fields_and_events_are_named(configured):
    problems = refused(
        """\
        version: 1
        custom_forms:
          - name: Lost device
            fields:
              - {name: Serial Number, label: Serial}
              - {name: owner, label: Owner, type: person}
              - {name: owner, label: Owner again}
        department_sla:
          - {department: SOC}
          - {department: SOC, sla_plan: P1}
        filters:
          - name: On everything
            conditions: []
            actions: [{type: add_tags, value: [x]}]
            on_events: [reopened, closed]
        """
    )
    assert problems == [
        "line 5, custom_forms[0].fields[0].name: 'Serial Number' is not a machine name: 1 to 64 lower-case "
        "letters, digits and _, starting with a letter (e.g. affected_host).",
        "line 6, custom_forms[0].fields[1].type: must be one of text, long_text, number, datetime, choice, "
        "multi_choice, checkbox, email, ip, not the text 'person'.",
        "line 10, department_sla[1].department: 'SOC' is already in this list (line 9).",
        "line 15, filters[0].on_events[1]: must be one of reply_received, alert_repeated, severity_raised, "
        "reopened, not the text 'closed'.",
    ]
    problems = refused(
        """\
        version: 1
        custom_forms:
          - name: Lost device
            fields:
              - {name: owner, label: Owner}
              - {name: owner, label: Owner again}
        """
    )
    assert problems == ["line 6, custom_forms[0].fields[1].name: the form already has a field 'owner'."]


def test_service_refusals_are_named_and_roll_everything_back(configured):
    people = configured
    people.carol.user.is_active = False
    people.carol.user.save()
    problems = refused(
        """\
        version: 1
        departments:
          - name: Threat Intel
        department_sla:
          - {department: SOC, manager: carol}
        custom_forms:
          - name: Lost device
            fields:
              - {name: kind, label: Kind, type: choice}
        """
    )
    assert problems == [
        f"line 5, department_sla[0].manager: {people.carol.name} is not an active agent; choose an active "
        "one as manager.",
        "line 7, custom_forms[0]: Custom form 'Lost device', field 'kind': a choice field needs 1 to 200 "
        "choices of 1 to 100 characters each.",
    ]
    assert not Department.objects.filter(name="Threat Intel").exists()


def test_prune_refuses_a_form_a_topic_uses_and_never_removes_department_sla(configured):
    before = state()
    with pytest.raises(ConfigInvalid) as caught:
        apply("version: 1\ncustom_forms: []\ndepartment_sla: []\n", prune=True)
    assert state() == before
    assert [str(p) for p in caught.value.problems] == [
        "line 2, custom_forms: 'Phishing report' could not be removed: Custom form 'Phishing report' is used "
        "by help topic(s) Security; give them another form first."
    ]
    changes = outcomes(
        apply("version: 1\ncustom_forms: [{name: Phishing report}]\n", prune=True, dry_run=True)
    )
    assert changes[("custom_forms", "Empty form")] == ("deleted", ())
    assert changes[("custom_forms", "Phishing report")] == ("updated", ("description", "fields"))
    assert outcomes(apply("version: 1\ndepartment_sla: []\n", prune=True)) == {}
    assert DepartmentSLA.objects.count() == 2
