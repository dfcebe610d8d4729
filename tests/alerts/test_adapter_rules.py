"""Each adapter names the detection rule that fired (the SOC metrics' noisiest-rules key), and ingest
stores it on the alert."""

from __future__ import annotations

from pathlib import Path

import pytest

from socdesk.alerts import adapters
from socdesk.alerts.adapters import AdapterSettings
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert

from .conftest import sample
from .test_adapters import GENERIC

SAMPLES = Path("/work/shared/samples/alerts")
SSHD = "sshd: brute force trying to get access to the system. Non existent user."
ET_POST = "ET HUNTING GENERIC SUSPICIOUS POST to Dotted Quad with Fake Browser 1"
ET_SQL = "ET POLICY Suspicious inbound to MSSQL port 1433"

# adapter, fixture (tests/alerts/fixtures), settings, the rule of each alert
RULES = [
    ("alertmanager", "alertmanager_v4.json", None, ["SSHBruteForce"]),  # labels.alertname
    ("alertmanager", "alertmanager_v4_two_alerts.json", None, ["SSHBruteForce", "SSHBruteForce"]),
    ("grafana", "grafana_webhook.json", None, ["SSHBruteForce"]),  # the Grafana alert rule's name
    ("splunk", "splunk_webhook.json", None, ["SSH Brute Force"]),  # search_name
    ("elastic", "kibana_alert_doc.json", None, ["MyDFIR-SSH-Brute-Force"]),  # kibana.alert.rule.name
    ("elastic", "kibana_action_body.json", None, ["MyDFIR-SSH-Brute-Force"]),
    ("elastic", "kibana_nested_doc.json", None, ["Nested Rule"]),
    ("wazuh", "wazuh_alert.json", None, [SSHD]),  # rule.description
    ("suricata", "suricata_eve_alert.json", None, [ET_POST]),  # alert.signature
    ("suricata", "suricata_eve.ndjson", None, [ET_POST, ET_SQL]),
    ("azure-monitor", "azure_common_alert.json", None, ["Failed sign-ins spike"]),  # essentials.alertRule
    ("thehive", "thehive_v1_alert.json", None, ["siem"]),  # the alert's type
    ("thehive", "thehive_v0_elastalert.json", None, ["external"]),
    ("generic", "generic_custom.json", GENERIC, ["Impossible travel for jdoe"]),  # its title
]


@pytest.mark.parametrize("adapter, fixture, config, rules", RULES, ids=[f"{c[0]}:{c[1]}" for c in RULES])
def test_adapter_names_the_rule(adapter, fixture, config, rules):
    config = config or AdapterSettings()
    alerts = adapters.normalise(adapter, adapters.check(adapter, sample(fixture), config), config)
    assert [alert.rule for alert in alerts] == rules


SHARED = [
    ("alertmanager", "alertmanager_v4.json", "SSHBruteForce"),
    ("grafana", "grafana_webhook.json", "SSHBruteForce"),
    ("splunk", "splunk_webhook.json", "SSH Brute Force"),
    ("elastic", "kibana_alert_doc.json", "MyDFIR-SSH-Brute-Force"),
    ("wazuh", "wazuh_alert.json", SSHD),
    ("suricata", "suricata_eve_alert.json", ET_POST),
    ("azure-monitor", "azure_common_alert.json", "Failed sign-ins spike"),
    ("thehive", "thehive_v1_alert.json", "siem"),
]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the shared samples directory is not on this machine")
@pytest.mark.parametrize("adapter, name, rule", SHARED)
def test_adapter_names_the_rule_of_the_shared_samples(adapter, name, rule):
    body = (SAMPLES / name).read_bytes()
    [alert, *_] = adapters.normalise(
        adapter, adapters.check(adapter, body, AdapterSettings()), AdapterSettings()
    )
    assert alert.rule == rule


@pytest.mark.django_db
def test_ingest_stores_the_rule_on_the_alert(make_integration):
    integration = make_integration("suricata")
    delivery = delivery_receive(
        adapter="suricata", body=sample("suricata_eve.ndjson"), integration=integration, client_ip="192.0.2.1"
    )
    delivery_process(delivery_id=delivery.pk)
    assert sorted(Alert.objects.values_list("rule", flat=True)) == [ET_POST, ET_SQL]
