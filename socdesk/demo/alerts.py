"""Each security tool's sample alert sent through the real ingest pipeline: alert tickets, observables."""

from __future__ import annotations

from pathlib import Path

from socdesk.accounts.models import Department
from socdesk.alerts.ingest import delivery_receive_and_process
from socdesk.alerts.integrations import integration_create
from socdesk.demo.people import SETUP

SAMPLE_ALERTS = Path(__file__).resolve().parent / "sample_alerts"
# (adapter, sample payload, times sent): a repeat shows de-duplication (one ticket, a count of 2).
DEMO_DELIVERIES = [
    ("alertmanager", "alertmanager_v4.json", 2),
    ("wazuh", "wazuh_alert.json", 2),
    ("suricata", "suricata_eve_alert.json", 1),
    ("elastic", "kibana_alert_doc.json", 1),
    ("grafana", "grafana_webhook.json", 1),
    ("azure-monitor", "azure_common_alert.json", 1),
    ("splunk", "splunk_webhook.json", 1),
]


def seed_demo_alerts(department: Department) -> int:
    """Send each tool's sample alert through the real ingest pipeline: alert tickets with observables."""
    sent = 0
    for adapter, sample, times in DEMO_DELIVERIES:
        integration = integration_create(
            actor=SETUP, adapter=adapter, name=f"Demo {adapter}", department=department
        )
        body = (SAMPLE_ALERTS / sample).read_bytes()
        for _ in range(times):
            delivery_receive_and_process(
                adapter=adapter, body=body, content_type="application/json", integration=integration
            )
            sent += 1
    return sent
