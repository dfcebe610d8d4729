"""Every adapter on every fixture: the normalised fields the pipeline relies on (pure, no database)."""

from __future__ import annotations

import pytest

from socdesk.alerts import adapters
from socdesk.alerts.adapters import AdapterError, AdapterSettings
from socdesk.alerts.adapters.base import lookup, parse_time
from socdesk.alerts.adapters.wazuh import level_severity

from .conftest import sample

GENERIC = AdapterSettings(
    field_map={
        "title": "event.name",
        "description": "event.details",
        "severity": "event.prio",
        "fingerprint": "event.key",
        "occurred_at": "event.at",
        "observables": "iocs",
    },
    severity_map={"P1": "critical"},
)

SSH = "SSH brute force on web01"
AM_TIME = "2024-04-14T02:10:05.123000+00:00"
KIBANA = "MyDFIR-SSH-Brute-Force on web01"
KIBANA_UUID = "5d1f0c6e9b0a2f7e8c4b1a3d9e6f7a8b"
WAZUH = "sshd: brute force trying to get access to the system. Non existent user. on web01"
ET_POST = "ET HUNTING GENERIC SUSPICIOUS POST to Dotted Quad with Fake Browser 1"
ET_SQL = "ET POLICY Suspicious inbound to MSSQL port 1433"

# adapter, fixture, settings, expected [(title, severity, status, fingerprint prefix, occurred ISO)]
CASES = [
    ("alertmanager", "alertmanager_v4.json", None,
     [(SSH, "critical", "firing", "1a30ba71cca2921f", AM_TIME)]),
    ("alertmanager", "alertmanager_v4_resolved.json", None,
     [(SSH, "critical", "resolved", "1a30ba71cca2921f", AM_TIME)]),
    ("alertmanager", "alertmanager_v4_two_alerts.json", None,
     [(SSH, "critical", "firing", "1a30ba71cca2921f", None),
      ("SSH brute force on web02", "medium", "firing", "2b41cb82ddb3a32f", None)]),
    ("grafana", "grafana_webhook.json", None,
     [(SSH, "high", "firing", "c6eadffa33fcdf37", "2024-04-14T02:10:00+00:00")]),
    ("splunk", "splunk_webhook.json", None, [("SSH Brute Force (203.0.113.7)", "medium", "firing", "", None)]),  # noqa: E501
    ("elastic", "kibana_alert_doc.json", None,
     [(KIBANA, "medium", "firing", KIBANA_UUID,
       "2024-04-14T02:09:58+00:00")]),
    ("elastic", "kibana_action_body.json", None,
     [(KIBANA, "medium", "firing", KIBANA_UUID, None)]),
    ("elastic", "kibana_nested_doc.json", None, [("Nested Rule on db01", "high", "firing", "aa11", None)]),
    ("wazuh", "wazuh_alert.json", None,
     [(WAZUH, "high", "firing",
       "wazuh:wazuh-manager:1713060605.1234567", AM_TIME)]),
    ("suricata", "suricata_eve_alert.json", None,
     [(ET_POST, "medium", "firing",
       "suricata:1:LQU9qZlK+B5F3KDmev6m5PMibrg=:2018358", "2024-04-14T02:10:05.251547+00:00")]),
    ("suricata", "suricata_eve.ndjson", None,
     [(ET_POST, "medium", "firing", "suricata:", None),
      (ET_SQL, "high", "firing", "suricata:1:other:2019401", None)]),
    ("suricata", "suricata_eve_array.json", None,
     [(ET_POST, "medium", "firing", "suricata:", None),
      (ET_SQL, "high", "firing", "suricata:", None)]),
    ("azure-monitor", "azure_common_alert.json", None,
     [("Failed sign-ins spike (ws)", "high", "firing", "/subscriptions/", "2024-04-14T02:10:05+00:00")]),
    ("azure-monitor", "azure_common_alert_resolved.json", None,
     [("Failed sign-ins spike (ws)", "high", "resolved", "/subscriptions/", None)]),
    ("thehive", "thehive_v1_alert.json", None,
     [("sshd: brute force (5712) on web01", "high", "firing", "thehive:", AM_TIME)]),
    ("thehive", "thehive_v0_elastalert.json", None,
     [("SSH brute force", "medium", "firing", "thehive:", "2024-04-14T02:10:05+00:00")]),
    ("generic", "generic_custom.json", GENERIC,
     [("Impossible travel for jdoe", "critical", "firing", "it-jdoe", "2024-04-14T02:10:05+00:00")]),
]  # fmt: skip


@pytest.mark.parametrize("adapter, fixture, config, expected", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_adapter_reads_fixture(adapter, fixture, config, expected):
    config = config or AdapterSettings()
    payload = adapters.check(adapter, sample(fixture), config)
    alerts = adapters.normalise(adapter, payload, config)
    assert len(alerts) == len(expected)
    for alert, (title, severity, status, fingerprint, occurred) in zip(alerts, expected, strict=True):
        assert (alert.title, alert.severity, alert.status) == (title, severity, status)
        assert alert.fingerprint.startswith(fingerprint) and alert.fingerprint
        if occurred:
            assert alert.occurred_at.isoformat() == occurred
        assert alert.raw is not None


OBSERVABLE_CASES = [
    ("alertmanager", "alertmanager_v4.json", {("host", "web01")}),
    ("splunk", "splunk_webhook.json", {("ip", "203.0.113.7"), ("user", "root")}),
    ("elastic", "kibana_alert_doc.json", {("ip", "203.0.113.7"), ("host", "web01"), ("user", "root")}),
    ("elastic", "kibana_nested_doc.json", {("ip", "198.51.100.9"), ("host", "db01")}),
    (
        "wazuh",
        "wazuh_alert.json",
        {("ip", "203.0.113.7"), ("user", "admin"), ("host", "web01"), ("ip", "10.0.0.5")},
    ),
    (
        "suricata",
        "suricata_eve_alert.json",
        {("ip", "192.168.2.14"), ("url", "http://209.53.113.5/gate.php")},
    ),
    ("thehive", "thehive_v1_alert.json", {("ip", "203.0.113.7"), ("hostname", "web01")}),
    ("thehive", "thehive_v0_elastalert.json", {("ip", "203.0.113.7")}),
]


@pytest.mark.parametrize("adapter, fixture, expected", OBSERVABLE_CASES)
def test_adapter_observable_fields(adapter, fixture, expected):
    [alert, *_] = adapters.normalise(adapter, sample(fixture), AdapterSettings())
    assert expected <= set(alert.observables)


def test_dedup_defaults_follow_the_readme():
    """Kibana and Wazuh group per rule + host + source IP; Splunk ignores the run-specific sid and count."""
    kibana = adapters.normalise("elastic", sample("kibana_alert_doc.json"), AdapterSettings())[0]
    other_event = sample("kibana_alert_doc.json").replace(b"5d1f0c6e9b0a", b"0000000000aa")
    kibana2 = adapters.normalise("elastic", other_event, AdapterSettings())[0]
    assert kibana.fingerprint != kibana2.fingerprint and kibana.group_key == kibana2.group_key
    wazuh = adapters.normalise("wazuh", sample("wazuh_alert.json"), AdapterSettings())[0]
    wazuh2 = adapters.normalise(
        "wazuh",
        sample("wazuh_alert.json").replace(b"1713060605.1234567", b"1713060699.42"),
        AdapterSettings(),
    )[0]
    assert wazuh.fingerprint != wazuh2.fingerprint and wazuh.group_key == wazuh2.group_key
    splunk = adapters.normalise("splunk", sample("splunk_webhook.json"), AdapterSettings())[0]
    rerun = (
        sample("splunk_webhook.json").replace(b"1713060600_42", b"1713060900_77").replace(b'"52"', b'"61"')
    )
    assert adapters.normalise("splunk", rerun, AdapterSettings())[0].fingerprint == splunk.fingerprint
    other_src = sample("splunk_webhook.json").replace(b"203.0.113.7", b"203.0.113.8")
    assert adapters.normalise("splunk", other_src, AdapterSettings())[0].fingerprint != splunk.fingerprint
    hive = adapters.normalise("thehive", sample("thehive_v1_alert.json"), AdapterSettings())[0]
    assert hive.external_id == "1713060605.1234567"


def test_integration_grouping_key_and_severity_map():
    config = AdapterSettings(grouping_key="labels.alertname", severity_map={"warning": "low"})
    a, b = adapters.normalise("alertmanager", sample("alertmanager_v4_two_alerts.json"), config)
    assert a.group_key == b.group_key != "" and a.fingerprint != b.fingerprint
    assert b.severity == "low"


@pytest.mark.parametrize(
    "level, severity", [(0, "info"), (3, "low"), (7, "medium"), (10, "high"), (12, "high"), (13, "critical"),
                        (15, "critical"), ("x", None)]
)  # fmt: skip
def test_wazuh_levels(level, severity):
    assert level_severity(level) == severity


def test_elastic_tolerates_concatenated_alerts_from_a_mustache_loop():
    doc = sample("kibana_alert_doc.json").decode()
    body = ('{"rule_name": "R", "alerts": [' + doc + doc.replace("5d1f0c6e", "77777777") + "]}").encode()
    assert len(adapters.normalise("elastic", body, AdapterSettings())) == 2


def test_lookup_reads_flat_dotted_and_nested_keys():
    assert lookup({"kibana.alert.uuid": 1}, "kibana.alert.uuid") == 1
    assert lookup({"kibana": {"alert": {"uuid": 2}}}, "kibana.alert.uuid") == 2
    assert lookup({"kibana.alert": {"uuid": 3}}, "kibana.alert.uuid") == 3
    assert lookup({"kibana": "x"}, "kibana.alert.uuid") is None


@pytest.mark.parametrize(
    "raw, iso",
    [
        ("2024-04-14T02:10:05Z", "2024-04-14T02:10:05+00:00"),
        ("2024-04-14T02:10:05.251547+0000", "2024-04-14T02:10:05.251547+00:00"),
        (1713060605123, AM_TIME),
        (1713060605, "2024-04-14T02:10:05+00:00"),
        ("0001-01-01T00:00:00Z", None),
        ("yesterday", None),
        (True, None),
    ],
)
def test_parse_time(raw, iso):
    parsed = parse_time(raw)
    assert (parsed.isoformat() if parsed else None) == iso


@pytest.mark.parametrize(
    "adapter, body, missing",
    [
        ("alertmanager", b'{"status": "firing"}', ["alerts"]),
        ("wazuh", b'{"id": "1"}', ["rule"]),
        ("wazuh", b'{"rule": {"level": 3}}', ["rule.id", "rule.description"]),
        ("splunk", b'{"result": {}}', ["search_name"]),
        ("azure-monitor", b'{"schemaId": "x"}', ["data.essentials"]),
        ("thehive", b'{"title": "t"}', ["type", "source", "sourceRef"]),
        ("suricata", b'{"event_type": "flow"}', ["alert"]),
        ("generic", b'{"nothing": 1}', ["title"]),
    ],
)
def test_missing_required_fields_are_listed(adapter, body, missing):
    with pytest.raises(AdapterError) as caught:
        adapters.check(adapter, body, AdapterSettings())
    assert caught.value.missing == missing
    for name in missing:
        assert name in caught.value.message


@pytest.mark.parametrize("adapter", list(adapters.ADAPTERS))
def test_malformed_json_names_line_and_column(adapter):
    with pytest.raises(AdapterError) as caught:
        adapters.check(adapter, b'{"alerts": [\n  {"a": 1,,}\n]}', AdapterSettings())
    assert "line 2" in caught.value.message and "column" in caught.value.message


def test_suricata_ndjson_error_names_the_line():
    body = sample("suricata_eve.ndjson") + b'{"event_type": "alert", oops}\n'
    with pytest.raises(AdapterError, match="Line 4"):
        adapters.check("suricata", body, AdapterSettings())


def test_generic_bad_expression_is_a_clear_error():
    with pytest.raises(AdapterError, match="title expression"):
        adapters.normalise("generic", b"{}", AdapterSettings(field_map={"title": "a[?"}))


def test_unknown_adapter():
    with pytest.raises(AdapterError, match="no adapter called"):
        adapters.get("nagios")


def test_elastic_technique_that_is_not_a_list_is_ignored():
    """Found by the fuzzer on PostgreSQL: `technique: false` crashed the adapter with a TypeError."""
    from socdesk.alerts.adapters import normalise

    body = (
        b'{"alerts": [{"kibana.alert.rule.name": "R", "kibana.alert.rule.threat": [{"technique": false}]}]}'
    )
    alerts = normalise("elastic", body, AdapterSettings())
    assert len(alerts) == 1 and "MITRE" not in alerts[0].description
