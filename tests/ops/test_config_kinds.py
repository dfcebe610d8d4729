"""The pieces of configuration as code that need no database: service definitions made from entries."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from socdesk.ops.config.kinds.base import definition


@dataclass(frozen=True)
class TopicLike:
    name: str
    severity: str = ""
    form: str | None = None  # a setting the file format does not carry


def test_a_setting_the_file_does_not_carry_keeps_the_stored_value():
    stored = SimpleNamespace(name="Phishing", severity="low", form="Phishing report")
    assert definition(TopicLike, stored, name="Phishing", severity="high") == TopicLike(
        "Phishing", "high", "Phishing report"
    )


def test_a_new_object_takes_the_defaults():
    assert definition(TopicLike, None, name="Phishing") == TopicLike("Phishing", "", None)
