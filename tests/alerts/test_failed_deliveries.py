"""Failed deliveries are visible (console page, navigation, API, /healthz) and can be retried, audited,
by admins and by the leads of the integration's department only (404 for everyone else)."""

from __future__ import annotations

import re

import pytest

from socdesk.accounts.choices import Perm
from socdesk.accounts.services import access_grant, role_create
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import WebhookDelivery
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from tests.api.conftest import ApiClient, make_key
from tests.console_helpers import client_for

from .conftest import sample

HOSTILE = b'{"event": {"name": "<script>alert(1)</script>", "key": "x"}, "note": "</pre><b>bold</b>"}'


@pytest.fixture
def world(people, make_integration):
    """alice leads SOC, carol leads IT (their role has `manage`); bob works in SOC without it.
    One failed delivery from a SOC integration, one from an IT integration."""
    setup = Actor.system("test-setup")
    worker = role_create(actor=setup, name="Analyst without manage", permissions=[Perm.VIEW, Perm.EDIT])
    access_grant(actor=setup, agent=people.bob, department=people.soc, role=worker)
    broken = {"title": "nothing.here"}  # a field map that finds no title: the adapter refuses the body
    soc = make_integration("generic", name="soc-siem", department=people.soc, field_map=broken)
    it = make_integration("generic", name="it-monitor", department=people.it, field_map=broken)
    soc_failed = _fail(soc, HOSTILE)
    it_failed = _fail(it, sample("generic_custom.json"))
    return people, soc_failed, it_failed


def _fail(integration, body: bytes) -> WebhookDelivery:
    delivery = delivery_receive(adapter="generic", body=body, integration=integration, client_ip="192.0.2.10")
    delivery_process(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed", delivery.error
    return delivery


def _listed(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="delivery" value="(\d+)"', html)}


# --- the console page ------------------------------------------------------------------------------


def test_admins_see_every_failed_delivery_and_leads_their_departments_only(world):
    people, soc_failed, it_failed = world
    page = client_for(people.admin).get("/deliveries/failed")
    assert page.status_code == 200
    assert _listed(page.content.decode()) == {soc_failed.pk, it_failed.pk}
    assert _listed(client_for(people.alice).get("/deliveries/failed").content.decode()) == {soc_failed.pk}
    assert _listed(client_for(people.carol).get("/deliveries/failed").content.decode()) == {it_failed.pk}
    # Not a lead anywhere: the page does not exist for bob, and his navigation has no link to it.
    assert client_for(people.bob).get("/deliveries/failed").status_code == 404
    assert "Failed deliveries" not in client_for(people.bob).get("/").content.decode()


def test_the_page_shows_error_source_integration_time_attempts_and_an_escaped_preview(world):
    people, soc_failed, _it = world
    html = client_for(people.alice).get("/deliveries/failed").content.decode()
    assert soc_failed.error and soc_failed.error in html.replace("&#x27;", "'").replace("&quot;", '"')
    assert "Generic JSON" in html and "soc-siem" in html and "SOC" in html
    assert f'<td class="mono">{soc_failed.attempts}</td>' in html
    assert "192.0.2.10" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "&lt;/pre&gt;&lt;b&gt;bold&lt;/b&gt;" in html


def test_the_navigation_links_to_failed_deliveries_with_the_count_for_those_allowed(world, people):
    people, soc_failed, _it = world
    assert "Failed deliveries (2)" in client_for(people.admin).get("/").content.decode()
    assert "Failed deliveries (1)" in client_for(people.alice).get("/").content.decode()
    WebhookDelivery.objects.filter(pk=soc_failed.pk).update(status="processed")
    assert "Failed deliveries" not in client_for(people.alice).get("/").content.decode()  # none left


def test_retry_one_requeues_it_audited_and_the_engine_runs_it_again(world):
    people, soc_failed, it_failed = world
    client = client_for(people.alice)
    reply = client.post("/deliveries/failed/retry", {"one": soc_failed.pk, "delivery": [it_failed.pk]})
    assert reply.status_code == 302
    soc_failed.refresh_from_db()
    assert soc_failed.status == "pending" and soc_failed.attempts == 0 and soc_failed.error == ""
    assert WebhookDelivery.objects.get(pk=it_failed.pk).status == "failed"  # only the row's own
    event = AuditEvent.objects.get(action="delivery.requeued")
    assert event.actor_label == people.alice.name or "alice" in event.actor_label
    assert event.after == {"deliveries": [soc_failed.pk]}
    assert event.before["failed"][0]["error"] == "Alert 0 has no title (the title expression found nothing)."
    assert "1 delivery queued again" in client.get("/deliveries/failed").content.decode()
    # Still broken integration: it fails again and comes back to the list with the reason.
    assert delivery_process(delivery_id=soc_failed.pk) == "failed"
    assert _listed(client.get("/deliveries/failed").content.decode()) == {soc_failed.pk}


def test_a_lead_cannot_retry_another_departments_delivery_and_nothing_changes(world):
    people, soc_failed, _it = world
    reply = client_for(people.carol).post("/deliveries/failed/retry", {"one": soc_failed.pk})
    assert reply.status_code == 404
    assert client_for(people.bob).post("/deliveries/failed/retry", {"all": "1"}).status_code == 404
    assert WebhookDelivery.objects.get(pk=soc_failed.pk).status == "failed"
    assert not AuditEvent.objects.filter(action="delivery.requeued").exists()


def test_retry_selected_and_retry_all(world, make_integration):
    people, soc_failed, it_failed = world
    admin = client_for(people.admin)
    assert admin.post("/deliveries/failed/retry", {}).status_code == 302
    assert "Select at least one delivery" in admin.get("/deliveries/failed").content.decode()
    admin.post("/deliveries/failed/retry", {"delivery": [it_failed.pk]})
    assert WebhookDelivery.objects.get(pk=it_failed.pk).status == "pending"
    assert WebhookDelivery.objects.get(pk=soc_failed.pk).status == "failed"
    admin.post("/deliveries/failed/retry", {"all": "1"})
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"pending"}
    assert AuditEvent.objects.filter(action="delivery.requeued").count() == 2


def test_healthz_counts_failed_deliveries(world, client):
    assert client.get("/healthz").json()["ingest"]["failed"] == 2


# --- the API -----------------------------------------------------------------------------------------


def test_api_lists_and_retries_with_an_admin_key(world):
    _people, soc_failed, it_failed = world
    api = ApiClient(make_key(["admin"], name="ops"))
    listing = api.get("deliveries/failed?limit=1")
    assert listing.status_code == 200, listing.content
    body = listing.json()
    assert body["count"] == 2 and [item["id"] for item in body["items"]] == [it_failed.pk]
    item = body["items"][0]
    assert item["integration"] == {
        "id": it_failed.integration_id,
        "name": "it-monitor",
        "department": "it-help-desk",
    }
    assert item["error"] == it_failed.error and item["attempts"] == it_failed.attempts
    assert item["payload_preview"].startswith("{") and item["size"] == len(sample("generic_custom.json"))
    older = api.get(f"deliveries/failed?before={body['next_before']}").json()
    assert [i["id"] for i in older["items"]] == [soc_failed.pk] and older["next_before"] is None

    # Unknown ids: a 404 naming them, and nothing is requeued (all or nothing).
    refused = api.post("deliveries/failed/retry", {"ids": [soc_failed.pk, 999999]})
    assert refused.status_code == 404 and "999999" in refused.json()["error"]["message"]
    assert WebhookDelivery.objects.get(pk=soc_failed.pk).status == "failed"
    bad = api.post("deliveries/failed/retry", {"ids": [], "all": False})
    assert bad.status_code == 400 and "either ids" in bad.json()["error"]["message"]

    done = api.post(item["retry_url"])
    assert done.status_code == 200 and done.json() == {"requeued": 1, "ids": [it_failed.pk]}
    assert api.post(item["retry_url"]).status_code == 404  # not failed any more
    assert api.post("deliveries/failed/retry", {"all": True}).json() == {
        "requeued": 1,
        "ids": [soc_failed.pk],
    }
    assert AuditEvent.objects.filter(action="delivery.requeued", actor_type="apikey").count() == 2


def test_api_refuses_keys_without_the_admin_scope_and_agents_who_lead_nothing(world):
    people, soc_failed, _it = world
    reader = ApiClient(make_key(["tickets:read", "tickets:write", "alerts:ingest"], name="reader"))
    refused = reader.get("deliveries/failed")
    assert refused.status_code == 403 and "admin scope" in refused.json()["error"]["message"]
    assert reader.post(f"deliveries/{soc_failed.pk}/retry").status_code == 403
    # A lead's personal token without the admin scope is a key like any other.
    alice_token = ApiClient(make_key(["tickets:read"], agent=people.alice, name="a"))
    assert alice_token.get("deliveries/failed").status_code == 403
    bob = ApiClient(client=client_for(people.bob))
    assert bob.get("deliveries/failed").status_code == 403
    assert WebhookDelivery.objects.get(pk=soc_failed.pk).status == "failed"


def test_api_in_a_leads_session_is_scoped_to_their_departments(world):
    people, soc_failed, it_failed = world
    carol = ApiClient(client=client_for(people.carol))
    assert [i["id"] for i in carol.get("deliveries/failed").json()["items"]] == [it_failed.pk]
    assert carol.post(f"deliveries/{soc_failed.pk}/retry").status_code == 404
    assert carol.post("deliveries/failed/retry", {"ids": [soc_failed.pk]}).status_code == 404
    assert WebhookDelivery.objects.get(pk=soc_failed.pk).status == "failed"
    assert carol.post("deliveries/failed/retry", {"all": True}).json()["ids"] == [it_failed.pk]


def test_the_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/deliveries/failed",
        "/api/v1/deliveries/failed/retry",
        "/api/v1/deliveries/{delivery_id}/retry",
    } <= set(paths)
