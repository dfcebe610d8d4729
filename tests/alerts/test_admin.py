"""The Django admin's alert pages: integrations through their audited services; evidence is read-only."""

from __future__ import annotations

import pytest

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert, AlertRaw, Integration, Observable, WebhookDelivery
from socdesk.audit.models import AuditEvent
from tests.console_helpers import admin_integration_form, client_for

from .conftest import sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(people):
    return client_for(people.admin)


@pytest.fixture
def wazuh_alert(make_integration):
    """One Wazuh alert, received and processed like a webhook delivery."""
    integration = make_integration("wazuh")
    delivery = delivery_receive(adapter="wazuh", body=sample("wazuh_alert.json"), integration=integration)
    delivery_process(delivery_id=delivery.pk)
    return Alert.objects.get()


_integration_form = admin_integration_form


def test_integration_add_change_rotate_and_delete_go_through_the_services(admin_client, people):
    response = admin_client.post(
        "/admin/alerts/integration/add/", _integration_form(department=people.soc.pk)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    integration = Integration.objects.get(name="SIEM")
    assert AuditEvent.objects.get(action="integration.created").actor_label == "admin"

    url = f"/admin/alerts/integration/{integration.pk}/change/"
    response = admin_client.post(
        url, _integration_form(department=people.soc.pk, default_severity="high", hmac_secret="s3cret")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    updated = AuditEvent.objects.get(action="integration.updated")
    assert updated.after == {"default_severity": "high", "hmac_secret": "(set)"}
    assert "s3cret" not in str(updated.after)

    token = integration.token
    admin_client.post(
        "/admin/alerts/integration/",
        {"action": "rotate_tokens", "_selected_action": [integration.pk]},
    )
    assert Integration.objects.get(pk=integration.pk).token != token
    assert AuditEvent.objects.filter(action="integration.token_rotated").exists()

    admin_client.post(f"/admin/alerts/integration/{integration.pk}/delete/", {"post": "yes"})
    assert not Integration.objects.filter(pk=integration.pk).exists()
    assert AuditEvent.objects.get(action="integration.deleted").actor_label == "admin"


def test_a_used_integration_is_disabled_not_deleted(admin_client, wazuh_alert):
    integration = wazuh_alert.integration
    response = admin_client.post(
        f"/admin/alerts/integration/{integration.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert "Disabled, not deleted" in response.content.decode()
    assert not Integration.objects.get(pk=integration.pk).enabled
    assert AuditEvent.objects.filter(action="integration.disabled", actor_label="admin").exists()


def test_the_token_is_not_editable_in_the_admin(admin_client, make_integration, people):
    integration = make_integration("generic", name="SIEM")
    token = integration.token
    admin_client.post(
        f"/admin/alerts/integration/{integration.pk}/change/",
        _integration_form(department=people.soc.pk, token="chosen-by-hand-token"),
    )
    assert Integration.objects.get(pk=integration.pk).token == token


def test_alerts_and_raw_payloads_cannot_be_deleted_or_changed(admin_client, wazuh_alert):
    alert = wazuh_alert
    counts = (Alert.objects.count(), AlertRaw.objects.count())
    assert admin_client.post(f"/admin/alerts/alert/{alert.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post(
        "/admin/alerts/alert/", {"action": "delete_selected", "_selected_action": [alert.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert (Alert.objects.count(), AlertRaw.objects.count()) == counts
    assert admin_client.post(f"/admin/alerts/alert/{alert.pk}/change/", {"title": "x"}).status_code == 403
    assert admin_client.get(f"/admin/alerts/alert/{alert.pk}/change/").status_code == 200  # still shown


def test_observables_and_deliveries_are_read_only(admin_client, wazuh_alert):
    observable = Observable.objects.first()
    response = admin_client.post(
        f"/admin/alerts/observable/{observable.pk}/change/", {"type": "ip", "value": "1.2.3.4", "ioc": "on"}
    )
    assert response.status_code == 403
    assert (
        admin_client.post(f"/admin/alerts/observable/{observable.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    delivery = WebhookDelivery.objects.first()
    assert admin_client.post(f"/admin/alerts/webhookdelivery/{delivery.pk}/change/", {}).status_code == 403
    assert admin_client.get(f"/admin/alerts/webhookdelivery/{delivery.pk}/change/").status_code == 200
    # re-running failed deliveries stays available: it is an audited service, not an edit
    assert 'value="requeue_deliveries"' in admin_client.get("/admin/alerts/webhookdelivery/").content.decode()
    assert Observable.objects.get(pk=observable.pk).value == observable.value
