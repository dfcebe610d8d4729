"""The ban list and a department's auto-response switch as configuration (socdesk config export / apply)."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from socdesk.accounts.models import Department
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.mail.bans import ban_add
from socdesk.mail.models import BannedSender
from socdesk.ops.config.document import ConfigInvalid
from socdesk.ops.config.engine import config_apply, config_export

ACTOR = Actor.system("config")
pytestmark = pytest.mark.django_db


def apply(text: str, **kwargs):
    return {
        (c.kind, c.name): c.outcome for c in config_apply(actor=ACTOR, text=textwrap.dedent(text), **kwargs)
    }


def test_bans_are_exported_applied_and_pruned(people):
    ban_add(actor=ACTOR, entry="*@spam.example.test", note="Invoice spam")
    data = yaml.safe_load(config_export())
    assert data["banned_senders"] == [{"value": "*@spam.example.test", "note": "Invoice spam"}]
    assert {d["name"]: d["auto_response"] for d in data["departments"]} == {"IT Help Desk": True, "SOC": True}

    text = """\
        version: 1
        banned_senders:
          - value: "*@spam.example.test"
            note: Invoice spam
          - value: mallory@phish.example.test
    """
    assert apply(text) == {
        ("banned_senders", "*@spam.example.test"): "unchanged",
        ("banned_senders", "mallory@phish.example.test"): "created",
    }
    assert apply(text) == {
        ("banned_senders", "*@spam.example.test"): "unchanged",
        ("banned_senders", "mallory@phish.example.test"): "unchanged",
    }
    only_one = "version: 1\nbanned_senders:\n  - value: mallory@phish.example.test\n"
    assert apply(only_one, prune=True)[("banned_senders", "*@spam.example.test")] == "deleted"
    assert list(BannedSender.objects.values_list("value", flat=True)) == ["mallory@phish.example.test"]


@pytest.mark.parametrize(
    "value, sentence",
    [
        ("not a domain", "is neither an e-mail address nor a domain"),
        ("Mallory@Phish.example.test", "write it as 'mallory@phish.example.test'"),
        ("spam.example.test", "write it as '*@spam.example.test'"),
    ],
)
def test_a_bad_entry_is_refused_with_its_sentence_and_nothing_is_written(people, value, sentence):
    text = f"version: 1\nbanned_senders:\n  - value: ok@example.test\n  - value: {value}\n"
    with pytest.raises(ConfigInvalid) as refused:
        apply(text)
    [problem] = [str(problem) for problem in refused.value.problems]
    assert problem.startswith("line 4, banned_senders[1].value: ") and sentence in problem
    assert not BannedSender.objects.exists()


def test_a_departments_auto_response_is_applied_through_its_service(people):
    data = yaml.safe_load(config_export())
    for department in data["departments"]:
        department["auto_response"] = department["name"] != "SOC"
    config_apply(actor=ACTOR, text=yaml.safe_dump(data))
    assert dict(Department.objects.values_list("name", "auto_response")) == {
        "IT Help Desk": True,
        "SOC": False,
    }
    event = AuditEvent.objects.get(action="department.auto_response_changed")
    assert event.actor_label == "config" and event.after == {"auto_response": False}
