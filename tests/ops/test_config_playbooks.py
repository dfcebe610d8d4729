"""Configuration as code for playbooks: exported with their current tasks, team and topic names; applied
through the services (a changed task list is a new version, a second apply changes nothing); filters
name them in apply_playbook actions; bad entries named with nothing written."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from socdesk.accounts.services import team_create
from socdesk.cases.models import Playbook
from socdesk.core.actor import Actor
from socdesk.ops.config.document import ConfigInvalid
from socdesk.ops.config.engine import config_apply, config_export
from socdesk.routing.models import FilterRule
from socdesk.routing.services.topics import TopicDefinition, help_topic_create
from tests.cases.helpers import SETUP

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("cli:config apply (test)")

FILE = """
version: 1
playbooks:
  - name: Phishing triage
    block_resolution: true
    help_topics: [Phishing]
    tasks:
      - title: Collect the reported message
        due_minutes: 30
        team: Tier 1
      - title: Close with a verdict
        required: false
filters:
  - name: Phishing reports
    conditions:
      - {field: subject, operator: contains, value: phish}
    actions:
      - {type: apply_playbook, value: Phishing triage}
"""


def apply(text: str):
    return {(c.kind, c.name): c.outcome for c in config_apply(actor=ACTOR, text=textwrap.dedent(text))}


def test_apply_export_round_trip_and_versions(people):
    help_topic_create(actor=SETUP, definition=TopicDefinition(name="Phishing", department=people.soc))
    changes = apply(FILE)
    assert changes[("playbooks", "Phishing triage")] == "created"
    playbook = Playbook.objects.get()
    assert [(t.title, t.team.name if t.team else None) for t in playbook.current.templates.all()] == [
        ("Collect the reported message", "Tier 1"),
        ("Close with a verdict", None),
    ]
    assert FilterRule.objects.get().actions == [{"type": "apply_playbook", "value": playbook.pk}]
    data = yaml.safe_load(config_export())
    [entry] = data["playbooks"]
    assert entry["help_topics"] == ["Phishing"] and entry["tasks"][0]["team"] == "Tier 1"
    assert data["filters"][0]["actions"] == [{"type": "apply_playbook", "value": "Phishing triage"}]
    assert set(apply(config_export()).values()) == {"unchanged"}
    apply(FILE.replace("Close with a verdict", "Close with the verdict"))
    assert list(Playbook.objects.get().versions.values_list("number", flat=True)) == [2, 1]


def test_bad_entries_are_named_and_nothing_is_written(people):
    team_create(actor=SETUP, name="Desk", department=people.it)
    with pytest.raises(ConfigInvalid) as caught:
        apply(FILE.replace("team: Tier 1", "team: Nobody").replace("due_minutes: 30", "due_minutes: 0"))
    problems = [str(p) for p in caught.value.problems]
    assert any("tasks[0].due_minutes: must be at least 1" in p for p in problems), problems
    assert any("there is no team named 'Nobody'" in p for p in problems), problems
    assert not Playbook.objects.exists() and not FilterRule.objects.exists()
