"""Alert detail on the ticket page: the header summary, the alerts panel, source links, raw payloads."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from socdesk.alerts import adapters
from socdesk.alerts.adapters.base import AdapterSettings, web_link
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert, AlertRaw
from socdesk.alerts.payload_view import payload_text
from socdesk.tickets.models import Ticket

from .conftest import sample

pytestmark = pytest.mark.django_db


def login(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def ingest(integration, body: bytes, adapter: str = "alertmanager") -> None:
    delivery_process(delivery_id=delivery_receive(adapter=adapter, body=body, integration=integration).pk)


@pytest.fixture
def grouped_ticket(make_integration):
    """One ticket, two Alertmanager alerts (grouped by alertname), each seen 3 times; web01 resolved."""
    integration = make_integration("alertmanager", name="prometheus-prod", grouping_key="labels.alertname")
    two = sample("alertmanager_v4_two_alerts.json")
    for _ in range(3):
        ingest(integration, two)
    ingest(integration, sample("alertmanager_v4_resolved.json"))
    return Ticket.objects.get()


# --- source links: extracted by the adapters, http(s) only ------------------------------------------


@pytest.mark.parametrize(
    ("adapter", "fixture", "expected"),
    [
        ("alertmanager", "alertmanager_v4.json", "http://prometheus:9090/graph?g0.expr=..."),
        ("grafana", "grafana_webhook.json", "https://grafana/alerting/grafana/abc123/view"),
        ("splunk", "splunk_webhook.json", "http://splunk:8000/app/search/@go?sid="),
        ("thehive", "thehive_v1_alert.json", "https://wazuh/app/"),
        ("elastic", "kibana_alert_doc.json", "https://kibana/app/security/alerts/redirect/"),
    ],
)
def test_adapters_extract_the_link_to_the_alert_at_its_source(adapter, fixture, expected):
    module = adapters.ADAPTERS[adapter]
    alerts = module.parse(module.load(sample(fixture)), AdapterSettings())
    assert alerts[0].source_url.startswith(expected)


def test_alertmanager_falls_back_to_the_external_url_without_a_generator_url():
    body = json.loads(sample("alertmanager_v4.json"))
    for alert in body["alerts"]:
        alert.pop("generatorURL", None)
    parsed = adapters.ADAPTERS["alertmanager"].parse(body, AdapterSettings())
    assert parsed[0].source_url == "http://alertmanager:9093"


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "http://",
        "https://evil.example/\nx",
        "ftp://files.example/a",
        "https://example.test/" + "a" * 2000,
        "http://[",  # urlsplit raises on these malformed hosts (found by the adapters' fuzz test)
        "A://[]",
    ],
)
def test_only_absolute_http_links_are_kept(bad):
    assert web_link(bad) == ""
    assert web_link(bad, "https://ok.example/alert") == "https://ok.example/alert"


def test_generic_adapter_reads_a_mapped_source_url():
    settings = AdapterSettings(field_map={"source_url": "meta.link"})
    parsed = adapters.ADAPTERS["generic"].parse(
        {"title": "Disk full", "meta": {"link": "https://nagios.example/host/db1"}}, settings
    )
    assert parsed[0].source_url == "https://nagios.example/host/db1"


def test_generic_adapter_does_not_take_an_observed_url_for_the_source_link():
    """A proxy or EDR event's `url` is what was visited (maybe the malware's), not the alert's page."""
    parsed = adapters.ADAPTERS["generic"].parse(
        {"title": "Proxy hit", "url": "http://evil.example/payload", "link": "http://evil.example/"},
        AdapterSettings(),
    )
    assert parsed[0].source_url == ""


# --- the ticket page and the alerts panel -------------------------------------------------------------


def test_ticket_header_sums_up_the_alerts(people, grouped_ticket):
    html = login(people.alice).get(f"/tickets/{grouped_ticket.number}/").content.decode()
    total = sum(Alert.objects.filter(ticket=grouped_ticket).values_list("occurrence_count", flat=True))
    assert total == 6
    assert "Alerts (2) \u00d76</strong>" in html
    assert "first seen" in html and "last seen" in html
    assert '<span class="alert-state firing">1 firing</span>' in html
    assert f'hx-get="/tickets/{grouped_ticket.number}/alerts"' in html


def test_header_says_resolved_once_every_alert_resolved(people, make_integration):
    integration = make_integration("alertmanager")
    ingest(integration, sample("alertmanager_v4.json"))
    ingest(integration, sample("alertmanager_v4_resolved.json"))
    ticket = Ticket.objects.get()
    html = login(people.alice).get(f"/tickets/{ticket.number}/").content.decode()
    assert "Alert \u00d71</strong>" in html and '<span class="alert-state resolved">resolved</span>' in html


def test_ticket_without_alerts_has_no_alert_summary_nor_panel(people, soc_ticket):
    html = login(people.alice).get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert "data-alert-summary" not in html and "/alerts" not in html


def test_panel_lists_each_alert_with_status_times_source_integration_and_link(
    people, grouped_ticket, django_assert_max_num_queries
):
    client = login(people.alice)
    with django_assert_max_num_queries(12):
        response = client.get(f"/tickets/{grouped_ticket.number}/alerts")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html.lower() and 'id="alerts-panel"' in html
    assert 'Alerts <span class="count">(2)</span>' in html
    web01 = Alert.objects.get(ticket=grouped_ticket, title__contains="web01")
    web02 = Alert.objects.get(ticket=grouped_ticket, title__contains="web02")
    for alert, state, count in ((web01, "Resolved", 3), (web02, "Firing", 3)):
        card = html.split(f'data-alert="{alert.pk}"')[1].split("</li>")[0]
        assert f">{state}</span>" in card and f"\u00d7{count}" in card
        assert "First seen" in card and "Last seen" in card
        assert "Alertmanager · prometheus-prod" in card
        assert 'href="http://prometheus:9090/graph?g0.expr=..."' in card
        assert f'hx-get="/tickets/{grouped_ticket.number}/alerts/{alert.pk}/raw"' in card
        assert 'hx-trigger="toggle once"' in card
    assert "Resolved</dt>" in html.split(f'data-alert="{web01.pk}"')[1].split("</li>")[0]


def test_a_javascript_link_in_a_stored_alert_is_not_rendered_as_a_link(people, grouped_ticket):
    """Even a row stored before the adapters checked links (or written by hand) never becomes a link."""
    Alert.objects.filter(ticket=grouped_ticket).update(source_url="javascript:alert(document.cookie)")
    html = login(people.alice).get(f"/tickets/{grouped_ticket.number}/alerts").content.decode()
    assert "javascript:" not in html and "alert-link" not in html


def test_an_ingested_javascript_url_is_not_stored(people, make_integration):
    body = json.loads(sample("alertmanager_v4.json"))
    body["externalURL"] = "javascript:alert(1)"
    for alert in body["alerts"]:
        alert["generatorURL"] = "javascript:alert(2)"
    ingest(make_integration("alertmanager"), json.dumps(body).encode())
    assert Alert.objects.get().source_url == ""


# --- raw payload on demand ------------------------------------------------------------------------------


def test_raw_payload_is_pretty_printed_escaped_and_offered_for_download(people, grouped_ticket):
    alert = Alert.objects.filter(ticket=grouped_ticket).first()
    AlertRaw.objects.filter(alert=alert).update(payload={"note": "<script>alert(1)</script>", "n": [1, 2]})
    client = login(people.alice)
    response = client.get(f"/tickets/{grouped_ticket.number}/alerts/{alert.pk}/raw")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Indented JSON (PostgreSQL's jsonb keeps keys in its own order, so no order is assumed).
    assert "\n  &quot;note&quot;: &quot;&lt;script&gt;" in html and "[\n    1,\n    2\n  ]" in html
    assert "Cut here" not in html
    assert f'href="/tickets/{grouped_ticket.number}/alerts/{alert.pk}/raw/download"' in html
    download = client.get(f"/tickets/{grouped_ticket.number}/alerts/{alert.pk}/raw/download")
    assert download.status_code == 200 and download["Content-Type"] == "application/json"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert json.loads(download.content) == {"note": "<script>alert(1)</script>", "n": [1, 2]}


def test_a_large_payload_is_cut_in_the_page_with_a_note_and_a_full_download(people, grouped_ticket, settings):
    alert = Alert.objects.filter(ticket=grouped_ticket).first()
    big = {"full_log": "x" * 200_000}
    AlertRaw.objects.filter(alert=alert).update(payload=big)
    client = login(people.alice)
    html = client.get(f"/tickets/{grouped_ticket.number}/alerts/{alert.pk}/raw").content.decode()
    assert "Cut here: the payload is 200020 characters long and the page shows the first 65536." in html
    assert len(html) < 70_000
    assert "Download the full payload" in html
    full = client.get(f"/tickets/{grouped_ticket.number}/alerts/{alert.pk}/raw/download")
    assert json.loads(full.content) == big


def test_a_payload_stored_as_text_is_shown_as_text():
    shown = payload_text("<event>not json</event>")
    assert shown.text == "<event>not json</event>" and not shown.is_json and not shown.truncated


def test_a_payload_removed_by_retention_says_so(people, grouped_ticket):
    alert = Alert.objects.filter(ticket=grouped_ticket).first()
    AlertRaw.objects.filter(alert=alert).delete()
    client = login(people.alice)
    response = client.get(f"/tickets/{grouped_ticket.number}/alerts/{alert.pk}/raw")
    assert response.status_code == 200  # htmx swaps it in: the panel says why instead of staying blank
    assert "No payload is stored for this alert any more: retention removed it" in response.content.decode()
    download = client.get(f"/tickets/{grouped_ticket.number}/alerts/{alert.pk}/raw/download")
    assert download.status_code == 404


def test_another_department_gets_404_for_the_panel_and_payloads(people, grouped_ticket):
    carol = login(people.carol)
    alert = Alert.objects.filter(ticket=grouped_ticket).first()
    base = f"/tickets/{grouped_ticket.number}/alerts"
    for url in (base, f"{base}/{alert.pk}/raw", f"{base}/{alert.pk}/raw/download"):
        assert carol.get(url).status_code == 404, url


def test_an_alert_is_read_only_through_its_own_ticket(people, grouped_ticket, make_integration):
    """Alice may see both tickets, but /tickets/A/alerts/<alert of B>/raw is a 404, not B's payload."""
    ingest(make_integration("wazuh"), sample("wazuh_alert.json"), adapter="wazuh")
    other = Alert.objects.exclude(ticket=grouped_ticket).get()
    response = login(people.alice).get(f"/tickets/{grouped_ticket.number}/alerts/{other.pk}/raw")
    assert response.status_code == 404


def test_the_alert_endpoints_answer_only_get(people, grouped_ticket):
    alert = Alert.objects.filter(ticket=grouped_ticket).first()
    response = login(people.alice).post(f"/tickets/{grouped_ticket.number}/alerts/{alert.pk}/raw")
    assert response.status_code == 405


def test_the_api_gives_the_source_link_of_an_alert(people, grouped_ticket):
    from socdesk.accounts.services import apikey_create
    from socdesk.core.actor import Actor

    _key, raw = apikey_create(actor=Actor.system("test"), name="soar", scopes=["tickets:read"])
    alert = Alert.objects.filter(ticket=grouped_ticket).first()
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(f"/api/v1/alerts/{alert.pk}")
    assert response.status_code == 200, response.content
    assert response.json()["source_url"] == "http://prometheus:9090/graph?g0.expr=..."


def test_a_large_group_lists_the_newest_alerts_and_says_how_many_in_all(people, grouped_ticket, monkeypatch):
    from socdesk.alerts import selectors

    monkeypatch.setattr(selectors, "TICKET_ALERTS_SHOWN", 1)
    html = login(people.alice).get(f"/tickets/{grouped_ticket.number}/alerts").content.decode()
    newest = Alert.objects.filter(ticket=grouped_ticket).order_by("-last_seen", "-id").first()
    assert html.count('class="alert-card"') == 1 and f'data-alert="{newest.pk}"' in html
    assert "The newest 1 of 2 alerts are listed." in html
