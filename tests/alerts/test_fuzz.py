"""Hypothesis fuzzing: adapters raise only AdapterError; the HTTP layer never answers 5xx or loses a body."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socdesk.alerts import adapters
from socdesk.alerts.adapters import AdapterError, AdapterSettings
from socdesk.alerts.models import WebhookDelivery

from .conftest import sample

FIXTURE_FOR = {
    "alertmanager": "alertmanager_v4_two_alerts.json",
    "grafana": "grafana_webhook.json",
    "splunk": "splunk_webhook.json",
    "elastic": "kibana_action_body.json",
    "wazuh": "wazuh_alert.json",
    "suricata": "suricata_eve_array.json",
    "azure-monitor": "azure_common_alert.json",
    "generic": "generic_custom.json",
    "thehive": "thehive_v1_alert.json",
}
GENERIC_MAP = {
    "title": "event.name",
    "severity": "event.prio",
    "fingerprint": "event.key",
    "observables": "iocs",
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        ["", "resolved", "firing", "Sev0", "0001-01-01T00:00:00Z", "1:abc=", "10", "hxxp://x[.]y"]
    )
    # what JSON may carry but databases refuse: NUL, a lone surrogate
    | st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def mutated(draw, value):
    """The fixture with some subtrees replaced by random JSON, some keys dropped, some types changed."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            action = draw(st.integers(0, 9))
            if action == 0:
                continue  # drop the key
            result[key] = draw(json_values) if action == 1 else draw(mutated(item))
        return result
    if isinstance(value, list):
        return [draw(mutated(item)) for item in value if draw(st.integers(0, 9)) > 0]
    return draw(json_values) if draw(st.integers(0, 4)) == 0 else value


def config_for(name: str) -> AdapterSettings:
    return AdapterSettings(field_map=GENERIC_MAP if name == "generic" else {}, grouping_key="")


def run_adapter(name: str, payload) -> None:
    module = adapters.get(name)
    try:
        alerts = module.parse(payload, config_for(name))  # the module itself, not the safety net
    except AdapterError as exc:
        assert exc.message
        return
    for alert in alerts:
        assert isinstance(alert.title, str) and isinstance(alert.fingerprint, str) and alert.fingerprint
        assert alert.severity in ("info", "low", "medium", "high", "critical")
        assert alert.status in ("firing", "resolved")


@pytest.mark.parametrize("name", list(adapters.ADAPTERS))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_adapters_survive_mutated_fixtures(name, data):
    run_adapter(name, data.draw(mutated(json.loads(_fixture_json(name)))))


@pytest.mark.parametrize("name", list(adapters.ADAPTERS))
@settings(max_examples=100, deadline=None)
@given(payload=json_values)
def test_adapters_survive_arbitrary_json(name, payload):
    run_adapter(name, payload)


@pytest.mark.parametrize("name", list(adapters.ADAPTERS))
@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_loading_arbitrary_bytes_raises_only_adapter_error(name, body):
    try:
        adapters.check(name, body, config_for(name))
    except AdapterError as exc:
        assert exc.message


def _fixture_json(name: str) -> str:
    return sample(FIXTURE_FOR[name]).decode()


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(list(adapters.ADAPTERS)), data=st.data())
def test_http_never_5xx_and_never_loses_an_accepted_body(
    client, ingest_key, people, huey_immediate, django_capture_on_commit_callbacks, name, data
):
    if data.draw(st.booleans()):
        body = json.dumps(data.draw(mutated(json.loads(_fixture_json(name))))).encode()
    else:
        body = data.draw(st.binary(max_size=300))
    before = WebhookDelivery.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/hooks/{name}",
            data=body,
            content_type="application/json",
            headers={"X-API-Key": ingest_key},
        )
    assert response.status_code in (202, 400), response.content
    if response.status_code == 202:
        delivery = WebhookDelivery.objects.get(pk=response.json()["delivery"])
        assert bytes(delivery.body) == body
        assert delivery.status in ("processed", "failed")
        assert delivery.status == "processed" or delivery.error
    else:
        assert WebhookDelivery.objects.count() == before
        assert response.json()["error"]["message"]
