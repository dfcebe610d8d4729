"""Scheduled reports in configuration as code: exported, applied through the audited services (a second
apply changes nothing), refusals named with nothing written, pruned on request."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.ops.config.document import ConfigInvalid
from socdesk.ops.config.engine import config_apply, config_export
from socdesk.reports.models import ReportSchedule
from socdesk.reports.schedules import ScheduleDefinition, schedule_create

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("cli:config apply (test)")


def apply(text: str, **kwargs):
    return config_apply(actor=ACTOR, text=textwrap.dedent(text), **kwargs)


def test_exported_and_applied_back_unchanged(people):
    definition = ScheduleDefinition(
        name="soc-weekly", department=people.soc, team=people.tier1, recipients=["lead@example.test"]
    )
    schedule_create(actor=ACTOR, definition=definition)
    text = config_export()
    [entry] = yaml.safe_load(text)["report_schedules"]
    assert entry == {
        "name": "soc-weekly",
        "department": "SOC",
        "team": "Tier 1",
        "frequency": "weekly",
        "recipients": ["lead@example.test"],
        "enabled": True,
    }
    before = AuditEvent.objects.count()
    assert {c.outcome for c in apply(text)} == {"unchanged"} and AuditEvent.objects.count() == before

    changes = apply(text.replace("frequency: weekly", "frequency: monthly"))
    assert [(c.kind, c.name, c.outcome) for c in changes if c.outcome != "unchanged"] == [
        ("report_schedules", "soc-weekly", "updated")
    ]
    assert ReportSchedule.objects.get().frequency == "monthly"


def test_a_file_creates_one_and_refusals_write_nothing(people):
    entry = """
        version: 1
        report_schedules:
          - name: it-monthly
            department: IT Help Desk
            frequency: monthly
            recipients: [it-lead@example.test, not-an-address]
        """
    with pytest.raises(ConfigInvalid) as refused:
        apply(entry)
    assert "'not-an-address' is not an e-mail address" in str(refused.value.problems)
    assert not ReportSchedule.objects.exists()

    with pytest.raises(ConfigInvalid) as refused:
        apply(entry.replace("frequency: monthly", "frequency: daily"))
    assert "daily" in str(refused.value.problems)

    apply(entry.replace(", not-an-address", ""))
    schedule = ReportSchedule.objects.get()
    assert (schedule.department, schedule.frequency, schedule.recipients) == (
        people.it,
        "monthly",
        ["it-lead@example.test"],
    )


def test_prune_removes_a_schedule_the_file_does_not_name(people):
    schedule_create(
        actor=ACTOR,
        definition=ScheduleDefinition(name="old", department=people.soc, recipients=["a@example.test"]),
    )
    apply("version: 1\nreport_schedules: []\n", prune=True)
    assert not ReportSchedule.objects.exists()
    assert AuditEvent.objects.filter(action="report_schedule.deleted").count() == 1
