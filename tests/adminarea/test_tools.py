"""The admin area's integrations (form checks shared with the API, the sample preview) and API keys (the
key shown once, revoke refused from then on, last use shown), each written through its audited service."""

from __future__ import annotations

import json
import re
from pathlib import Path

from socdesk.accounts.models import ApiKey
from socdesk.alerts.forms import IntegrationForm
from socdesk.alerts.models import Alert, Integration
from socdesk.audit.models import AuditEvent
from tests.api.conftest import ApiClient
from tests.console_helpers import admin_integration_form, client_for

SAMPLES = Path(__file__).resolve().parents[1] / "alerts" / "fixtures"


def test_an_integration_is_created_through_the_service_and_opens_with_its_webhook_url(people):
    admin = client_for(people.admin)
    form = admin_integration_form(name="Prometheus", adapter="alertmanager", department=people.soc.pk)
    response = admin.post("/admin-area/integrations/new", form)
    integration = Integration.objects.get(name="Prometheus")
    assert (
        response.status_code == 302 and response["Location"] == f"/admin-area/integrations/{integration.pk}"
    )
    assert AuditEvent.objects.filter(action="integration.created", target_id=str(integration.pk)).exists()
    page = admin.get(response["Location"]).content.decode()
    assert f"/api/v1/hooks/alertmanager/{integration.token}" in page


def test_the_integration_page_renders_every_field_the_form_requires(people):
    # A field the form validates but the page does not show refuses every save with nothing marked.
    admin = client_for(people.admin)
    integration = Integration.objects.create(adapter="alertmanager", name="Prom", department=people.soc)
    for path in ("/admin-area/integrations/new", f"/admin-area/integrations/{integration.pk}"):
        page = admin.get(path).content.decode()
        missing = [name for name in IntegrationForm.base_fields if f'name="{name}"' not in page]
        assert missing == [], f"{path} does not render {missing}"


def test_an_integration_with_a_bad_severity_map_is_refused_with_the_apis_sentence(people):
    form = admin_integration_form(name="Broken", severity_map=json.dumps({"warning": "loud"}))
    response = client_for(people.admin).post("/admin-area/integrations/new", form)
    assert response.status_code == 400
    assert "These map to unknown severities" in response.content.decode()
    assert not Integration.objects.filter(name="Broken").exists()


def test_editing_an_integration_records_only_what_changed(people):
    integration = Integration.objects.create(adapter="generic", name="SIEM", department=people.soc)
    form = admin_integration_form(name="SIEM", department=people.soc.pk, default_severity="high")
    response = client_for(people.admin).post(f"/admin-area/integrations/{integration.pk}", form)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="integration.updated")
    assert event.before == {"default_severity": "medium"} and event.after == {"default_severity": "high"}


def test_the_sample_preview_shows_alerts_and_stores_nothing(people):
    integration = Integration.objects.create(adapter="alertmanager", name="Prom", department=people.soc)
    admin = client_for(people.admin)
    payload = (SAMPLES / "alertmanager_v4.json").read_text()
    before = AuditEvent.objects.count()
    response = admin.post(
        f"/admin-area/integrations/{integration.pk}/try", {"payload": payload}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page  # the htmx fragment only
    assert re.search(r"\d+ alerts?</h3>", page)
    assert not Alert.objects.exists() and AuditEvent.objects.count() == before
    broken = admin.post(f"/admin-area/integrations/{integration.pk}/try", {"payload": "{not json"})
    assert broken.status_code == 200 and 'class="alert error"' in broken.content.decode()
    assert "<html" in broken.content.decode()  # without htmx: a page of its own


def test_a_lead_cannot_reach_an_integration_or_its_preview(people):
    integration = Integration.objects.create(adapter="generic", name="SIEM", department=people.soc)
    alice = client_for(people.alice)
    assert alice.get(f"/admin-area/integrations/{integration.pk}").status_code == 404
    assert alice.post(f"/admin-area/integrations/{integration.pk}/try", {"payload": "{}"}).status_code == 404


def test_the_integrations_list_takes_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    for n in range(10):
        Integration.objects.create(adapter="generic", name=f"tool {n}", department=people.soc)
    admin = client_for(people.admin)
    with django_assert_max_num_queries(8):
        page = admin.get("/admin-area/integrations").content.decode()
    assert page.count("data-row") == 10


def test_a_new_key_is_shown_once_works_and_is_refused_after_revoke(people):
    admin = client_for(people.admin)
    response = admin.post("/admin-area/api-keys/new", {"name": "SOAR", "scopes": ["tickets:read"]})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    raw = re.search(r'value="(sdk_[^"]+)"', response.content.decode())[1]
    key = ApiKey.objects.get(name="SOAR")
    assert AuditEvent.objects.filter(action="apikey.created", target_id=str(key.pk)).exists()
    # Never again: not on the list, not on the form.
    listing = admin.get("/admin-area/api-keys").content.decode()
    assert raw not in listing and key.prefix in listing and "never" in listing

    tool = ApiClient(raw)
    assert tool.get("tickets").status_code == 200
    assert "from 127.0.0.1" in admin.get("/admin-area/api-keys").content.decode()  # last use, shown

    revoked = admin.post(f"/admin-area/api-keys/{key.pk}/revoke")
    assert revoked.status_code == 302
    assert AuditEvent.objects.filter(action="apikey.revoked", target_id=str(key.pk)).exists()
    assert tool.get("tickets").status_code == 401
    assert "revoked" in admin.get("/admin-area/api-keys").content.decode()


def test_a_key_without_scopes_is_refused_and_nothing_is_written(people):
    response = client_for(people.admin).post("/admin-area/api-keys/new", {"name": "SOAR"})
    assert response.status_code == 400 and "Give at least one scope" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_leads_cannot_create_or_revoke_keys(people):
    admin_key = client_for(people.admin).post(
        "/admin-area/api-keys/new", {"name": "SOAR", "scopes": ["tickets:read"]}
    )
    assert admin_key.status_code == 200
    key = ApiKey.objects.get()
    alice = client_for(people.alice)
    assert alice.post("/admin-area/api-keys/new", {"name": "x", "scopes": ["admin"]}).status_code == 404
    assert alice.post(f"/admin-area/api-keys/{key.pk}/revoke").status_code == 404
    assert ApiKey.objects.get().revoked_at is None


def test_the_keys_list_takes_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    admin = client_for(people.admin)
    for i in range(12):
        admin.post("/admin-area/api-keys/new", {"name": f"k{i}", "scopes": ["tickets:read"]})
    # The sign-in and the top bar (with the notification bell's count) take 7, the keys with department,
    # owner and replacement one.
    with django_assert_max_num_queries(8):
        page = admin.get("/admin-area/api-keys").content.decode()
    assert page.count("data-row") == 12


def test_the_new_key_form_takes_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    admin = client_for(people.admin)
    with django_assert_max_num_queries(9):  # sign-in and top bar, departments, agents with their logins
        page = admin.get("/admin-area/api-keys/new").content.decode()
    assert page.count("<option") >= 6
