"""Unstorable text (NUL, lone surrogates) is scrubbed from every alert, whichever way the payload comes.

`adapters.normalise` skips the walk over every string when the body cannot hold such text; these tests
hold it to what the walk gives on the parsed payload (pure, no database).
"""

from __future__ import annotations

import json
from dataclasses import astuple
from typing import Any

import pytest

from socdesk.alerts import adapters
from socdesk.alerts.adapters import AdapterError, AdapterSettings
from socdesk.core import json_input

from .conftest import sample

FIXTURES = [
    ("alertmanager", "alertmanager_v4_two_alerts.json"),
    ("alertmanager", "alertmanager_v4_resolved.json"),
    ("grafana", "grafana_webhook.json"),
    ("splunk", "splunk_webhook.json"),
    ("elastic", "kibana_action_body.json"),
    ("elastic", "kibana_alert_doc.json"),
    ("wazuh", "wazuh_alert.json"),
    ("suricata", "suricata_eve_array.json"),
    ("suricata", "suricata_eve.ndjson"),
    ("azure-monitor", "azure_common_alert.json"),
    ("generic", "generic_custom.json"),
    ("thehive", "thehive_v1_alert.json"),
    ("thehive", "thehive_v0_elastalert.json"),
]
GENERIC = AdapterSettings(
    field_map={
        "title": "event.name",
        "severity": "event.prio",
        "fingerprint": "event.key",
        "observables": "iocs",
    }
)


def settings_for(name: str) -> AdapterSettings:
    return GENERIC if name == "generic" else AdapterSettings()


def outcome(name: str, payload: Any, settings: AdapterSettings) -> Any:
    """The alerts as plain tuples, or the error's message."""
    try:
        return [astuple(alert) for alert in adapters.normalise(name, payload, settings)]
    except AdapterError as exc:
        return exc.message


def reference(name: str, body: bytes | str, settings: AdapterSettings) -> Any:
    """What the walk over every string gives: the payload handed over parsed, never as text."""
    return outcome(name, adapters.get(name).load(body), settings)


def spoiled(value: Any) -> Any:
    """Every string value of a payload with a NUL and a lone surrogate in it (keys kept as they are)."""
    if isinstance(value, str):
        return f"{value[:3]}\x00{value[3:]}\ud800"
    if isinstance(value, list):
        return [spoiled(item) for item in value]
    if isinstance(value, dict):
        return {key: spoiled(item) for key, item in value.items()}
    return value


def unstorable(found: Any) -> list[str]:
    """Every string in the outcome (keys too) that a database would refuse."""
    if isinstance(found, str):
        return [found] if "\x00" in found or "\ud800" in found else []
    if isinstance(found, (list, tuple)):
        return [bad for item in found for bad in unstorable(item)]
    if isinstance(found, dict):
        return [bad for pair in found.items() for bad in unstorable(pair)]
    return []


@pytest.mark.parametrize(("name", "fixture"), FIXTURES)
def test_a_clean_body_gives_what_the_walk_gives(name, fixture):
    body = sample(fixture)
    assert outcome(name, body, settings_for(name)) == reference(name, body, settings_for(name))
    assert outcome(name, body.decode(), settings_for(name)) == reference(name, body, settings_for(name))


@pytest.mark.parametrize(("name", "fixture"), [f for f in FIXTURES if not f[1].endswith(".ndjson")])
def test_escaped_nul_and_surrogates_are_scrubbed_from_the_body(name, fixture):
    body = json.dumps(spoiled(json_input.loads(sample(fixture)))).encode()  # as \u0000 and \ud800
    assert b"\\u0000" in body and b"\\ud800" in body
    found = outcome(name, body, settings_for(name))
    assert isinstance(found, list) and found  # alerts, not an error
    assert found == reference(name, body, settings_for(name))
    assert not unstorable(found)


@pytest.mark.parametrize(("name", "fixture"), [f for f in FIXTURES if not f[1].endswith(".ndjson")])
def test_nul_and_surrogates_in_a_text_body_are_scrubbed(name, fixture):
    text = json.dumps(spoiled(json_input.loads(sample(fixture))), ensure_ascii=False)
    assert "\ud800" in text  # the character itself, not its escape
    found = outcome(name, text, settings_for(name))
    assert isinstance(found, list) and found
    assert found == reference(name, text, settings_for(name))
    assert not unstorable(found)


def test_one_escaped_nul_in_an_ndjson_line_is_scrubbed():
    lines = sample("suricata_eve.ndjson").decode().splitlines()
    lines[0] = (
        lines[0].replace('"alert"', '"al\\u0000ert"', 1).replace('"signature":"', '"signature":"\\u0000', 1)
    )
    body = "\n".join(lines).encode()
    found = outcome("suricata", body, AdapterSettings())
    assert found == reference("suricata", body, AdapterSettings())
    assert not unstorable(found)


def test_a_nul_from_the_integrations_field_map_is_scrubbed():
    """A JMESPath literal in the integration's settings is text the body does not hold."""
    settings = AdapterSettings(field_map={"title": '`"SSH\\u0000 brute force"`', "fingerprint": "event.key"})
    body = sample("generic_custom.json")
    [alert] = adapters.normalise("generic", body, settings)
    assert alert.title == "SSH brute force"
    assert outcome("generic", body, settings) == reference("generic", body, settings)
