"""/metrics: the exposition parses, every metric moves when its thing happens, and only allowed scrapers
see it (a token or an allowed address; anyone else gets a 404)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from huey.contrib.djhuey import HUEY
from prometheus_client.parser import text_string_to_metric_families

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import WebhookDelivery
from socdesk.api.fastpath import MachineFastPath
from socdesk.audit.services import seal_pending
from socdesk.core import metrics
from socdesk.core.env import env_networks
from socdesk.core.tasks import ping
from socdesk.mail.models import OutboundMessage
from socdesk.routing.services.sla_scan import sla_scan
from socdesk.tickets.models import Ticket
from tests.alerts.conftest import sample
from tests.console_helpers import client_for
from tests.routing.sla_fixtures import clock_of, make_plans, open_ticket

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-scrape-token"
COUNTERS = {
    "socdesk_http_requests",
    "socdesk_deliveries_received",
    "socdesk_deliveries_acknowledged",
    "socdesk_deliveries_refused",
    "socdesk_deliveries_failed",
    "socdesk_alerts_processed",
    "socdesk_sla_breaches",
}
READINGS = {
    "socdesk_ingest_backlog_deliveries",
    "socdesk_ingest_backlog_oldest_age_seconds",
    "socdesk_deliveries_failed_kept",
    "socdesk_tickets_open",
    "socdesk_sla_clocks",
    "socdesk_audit_events_unsealed",
    "socdesk_worker_queue_tasks",
    "socdesk_mail_outgoing_waiting",
    "socdesk_mail_spool_messages",
    "socdesk_metrics_reading_up",
}

Samples = dict[tuple[str, frozenset], float]


@pytest.fixture
def queued():
    """Tasks wait in the queue (no worker here) instead of running at once."""
    old = HUEY.immediate
    HUEY.immediate = False
    yield HUEY
    HUEY.flush()
    HUEY.immediate = old


@pytest.fixture(autouse=True)
def _fresh_readings(settings):
    """Every scrape reads the database again (the cache has its own test below)."""
    settings.SOCDESK_METRICS_CACHE_SECONDS = 0


def scrape(client, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample_ in family.samples:
            samples[(sample_.name, frozenset(sample_.labels.items()))] = sample_.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def names(samples: Samples) -> set[str]:
    return {name for name, _labels in samples}


def test_the_exposition_parses_with_every_metric_named_by_prometheus_conventions(client):
    client.get("/healthz")
    response = client.get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    assert set(families) >= COUNTERS | READINGS
    for name in COUNTERS:
        assert families[name].type == "counter"
        assert all(s.name.endswith(("_total", "_created")) for s in families[name].samples)
    duration = families["socdesk_http_request_duration_seconds"]
    assert duration.type == "histogram"
    assert {s.name for s in duration.samples} >= {
        "socdesk_http_request_duration_seconds_bucket",
        "socdesk_http_request_duration_seconds_count",
        "socdesk_http_request_duration_seconds_sum",
    }
    for name in READINGS:
        assert families[name].type == "gauge"
    up = {s.labels["reading"]: s.value for s in families["socdesk_metrics_reading_up"].samples}
    assert up == {"audit": 1, "ingest": 1, "mail": 1, "sla": 1, "tickets": 1, "worker_queue": 1}


@pytest.mark.parametrize(
    ("method", "path", "group", "status"),
    [
        ("get", "/healthz", "healthz", "2xx"),
        ("get", "/login", "console", "2xx"),
        ("get", "/tickets/", "console", "3xx"),  # to the login page
        ("get", "/api/v1/tickets", "api_v1", "4xx"),  # no key
        ("post", "/api/v1/hooks/alertmanager", "webhooks", "4xx"),
        ("post", "/api/tickets.json", "osticket", "4xx"),
        ("get", "/api/alert", "api_v1", "4xx"),
        ("get", "/admin/login/", "admin", "3xx"),  # to the console's sign-in
        ("get", "/static/socdesk/no-such-file.css", "static", "4xx"),
        ("get", "/no/such/page", "unmatched", "4xx"),
        ("get", "/metrics", "metrics", "2xx"),
    ],
)
def test_each_request_is_counted_and_timed_by_route_group_method_and_status_class(
    client, method, path, group, status
):
    before = scrape(client)
    getattr(client, method)(path)
    after = scrape(client)
    labels = {"group": group, "method": method.upper(), "status": status}
    # /metrics counts the first scrape too, after it was answered.
    assert value(after, "socdesk_http_requests_total", **labels) - value(
        before, "socdesk_http_requests_total", **labels
    ) == (2 if group == "metrics" else 1)
    timed = {"group": group, "method": method.upper()}
    count = "socdesk_http_request_duration_seconds_count"
    assert value(after, count, **timed) > value(before, count, **timed)


def test_an_unusual_method_is_one_label_not_a_new_series_per_verb(client):
    before = scrape(client)
    client.generic("PROPFIND", "/healthz")
    after = scrape(client)
    labels = {"group": "healthz", "method": "other", "status": "4xx"}
    assert (
        value(after, "socdesk_http_requests_total", **labels)
        == value(before, "socdesk_http_requests_total", **labels) + 1
    )
    assert not any(("method", "PROPFIND") in key for _name, key in after)


def test_an_accepted_webhook_counts_received_acknowledged_alerts_and_the_ticket_it_opens(
    client, ingest_key, make_integration, huey_immediate, django_capture_on_commit_callbacks
):
    make_integration("alertmanager")
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/hooks/alertmanager",
            data=sample("alertmanager_v4.json"),
            content_type="application/json",
            headers={"X-API-Key": ingest_key},
        )
    assert response.status_code == 202
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("socdesk_deliveries_received_total", adapter="alertmanager") == 1
    assert moved("socdesk_deliveries_acknowledged_total", adapter="alertmanager") == 1
    assert moved("socdesk_deliveries_refused_total", adapter="alertmanager", reason="unauthorized") == 0
    alerts = WebhookDelivery.objects.get().alert_count
    assert alerts >= 1 and moved("socdesk_alerts_processed_total") == alerts
    ticket = Ticket.objects.get()
    assert moved("socdesk_tickets_open", severity=ticket.severity) == 1
    assert value(after, "socdesk_ingest_backlog_deliveries") == 0


def test_a_refused_webhook_counts_received_and_refused_with_the_reason_and_stores_nothing(
    client, make_integration
):
    make_integration("alertmanager")
    before = scrape(client)
    response = client.post(
        "/api/v1/hooks/alertmanager",
        data=sample("alertmanager_v4.json"),
        content_type="application/json",
        headers={"X-API-Key": "not-a-key"},
    )
    assert response.status_code == 401
    after = scrape(client)
    refused = {"adapter": "alertmanager", "reason": "unauthorized"}
    assert value(after, "socdesk_deliveries_refused_total", **refused) == (
        value(before, "socdesk_deliveries_refused_total", **refused) + 1
    )
    assert value(after, "socdesk_deliveries_received_total", adapter="alertmanager") == (
        value(before, "socdesk_deliveries_received_total", adapter="alertmanager") + 1
    )
    acknowledged = "socdesk_deliveries_acknowledged_total"
    assert value(after, acknowledged, adapter="alertmanager") == value(
        before, acknowledged, adapter="alertmanager"
    )
    assert not WebhookDelivery.objects.exists()


def test_webhooks_taking_the_wsgi_short_way_are_counted_as_on_djangos(client):
    """Under `socdesk serve` webhook and osTicket POSTs skip Django's middleware (socdesk.api.fastpath)."""

    def django_app(environ, start_response):
        raise AssertionError("the short way was not taken")

    short_way = MachineFastPath(django_app)
    before = scrape(client)
    for path in ("/api/v1/hooks/alertmanager", "/api/tickets.json"):
        environ = RequestFactory().post(path, data=b"{}", content_type="application/json").environ
        short_way(environ, lambda status, headers: None)
    after = scrape(client)
    for group in ("webhooks", "osticket"):
        labels = {"group": group, "method": "POST", "status": "4xx"}
        assert value(after, "socdesk_http_requests_total", **labels) == (
            value(before, "socdesk_http_requests_total", **labels) + 1
        )
        count = "socdesk_http_request_duration_seconds_count"
        assert (
            value(after, count, group=group, method="POST")
            == value(before, count, group=group, method="POST") + 1
        )
    refused = {"adapter": "alertmanager", "reason": "unauthorized"}
    assert value(after, "socdesk_deliveries_refused_total", **refused) == (
        value(before, "socdesk_deliveries_refused_total", **refused) + 1
    )


def test_an_unknown_adapter_is_not_a_label(client):
    client.post("/api/v1/hooks/no-such-tool", data=b"{}", content_type="application/json")
    samples = scrape(client)
    assert not any(("adapter", "no-such-tool") in key for _name, key in samples)


def test_a_delivery_that_fails_counts_failed_once_and_waits_as_kept(
    client, make_integration, django_capture_on_commit_callbacks
):
    # A field map that finds no title: the adapter refuses the body when the worker processes it.
    integration = make_integration("generic", field_map={"title": "nothing.here"})
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        body = b'{"event": {"name": "x"}}'
        delivery = delivery_receive(adapter="generic", body=body, integration=integration)
        delivery_process(delivery_id=delivery.pk)
    assert WebhookDelivery.objects.get().status == "failed"
    after = scrape(client)
    assert value(after, "socdesk_deliveries_failed_total", adapter="generic") == (
        value(before, "socdesk_deliveries_failed_total", adapter="generic") + 1
    )
    assert value(after, "socdesk_deliveries_failed_kept") == 1


def test_waiting_deliveries_show_as_backlog_with_the_oldest_age(client, make_integration, ingest_key, queued):
    make_integration("alertmanager")  # with no worker here, the delivery waits for the ingest loop
    response = client.post(
        "/api/v1/hooks/alertmanager",
        data=sample("alertmanager_v4.json"),
        content_type="application/json",
        headers={"X-API-Key": ingest_key},
    )
    assert response.status_code == 202
    WebhookDelivery.objects.update(
        received_at=WebhookDelivery.objects.get().received_at - timedelta(minutes=3)
    )
    samples = scrape(client)
    assert value(samples, "socdesk_ingest_backlog_deliveries") == 1
    assert 180 <= value(samples, "socdesk_ingest_backlog_oldest_age_seconds") < 240


def test_open_tickets_by_severity_and_unsealed_audit_events(client, soc_ticket):
    samples = scrape(client)
    assert value(samples, "socdesk_tickets_open", severity="high") == 1
    assert value(samples, "socdesk_tickets_open", severity="low") == 0
    assert value(samples, "socdesk_audit_events_unsealed") >= 1
    seal_pending()
    assert value(scrape(client), "socdesk_audit_events_unsealed") == 0


def test_sla_breaches_are_counted_as_the_scan_finds_them_and_breached_clocks_shown(
    client, people, django_capture_on_commit_callbacks
):
    make_plans(people)
    ticket = open_ticket(people, assignee=people.bob, team=people.tier1)
    before = scrape(client)
    assert value(before, "socdesk_sla_clocks", state="breached") == 0
    with django_capture_on_commit_callbacks(execute=True):
        sla_scan(now=clock_of(ticket).response_due_at + timedelta(seconds=1))
    after = scrape(client)
    breaches = "socdesk_sla_breaches_total"
    assert value(after, breaches, target="response") == value(before, breaches, target="response") + 1
    assert value(after, breaches, target="resolution") == value(before, breaches, target="resolution")
    assert value(after, "socdesk_sla_clocks", state="breached") == 1
    # Scanning again finds it breached already: not a second breach.
    with django_capture_on_commit_callbacks(execute=True):
        sla_scan(now=clock_of(ticket).response_due_at + timedelta(minutes=5))
    assert value(scrape(client), breaches, target="response") == value(after, breaches, target="response")


def test_the_worker_queue_length(client, queued):
    queued.flush()
    assert value(scrape(client), "socdesk_worker_queue_tasks") == 0
    ping("one")
    ping("two")
    assert value(scrape(client), "socdesk_worker_queue_tasks") == 2


def test_outgoing_mail_waiting(client, people, soc_ticket, smtp):
    # The ticket's auto-response to its requester waits already.
    before = value(scrape(client), "socdesk_mail_outgoing_waiting", status="queued")
    assert before == OutboundMessage.objects.filter(status="queued").count() == 1
    ticket = Ticket.objects.get(pk=soc_ticket.pk)
    # After-commit work (the send) never runs inside the test's transaction: the message stays queued.
    client_for(people.alice).post(
        f"/tickets/{ticket.number}/compose",
        {"version": ticket.version, "body": "We blocked the sender.", "kind": "reply"},
        HTTP_HX_REQUEST="true",
    )
    assert value(scrape(client), "socdesk_mail_outgoing_waiting", status="queued") == before + 1


def test_the_mail_spool_is_counted_by_state(client, people, settings, tmp_path):
    from socdesk.mail.spool import spool_write

    settings.DATA_DIR = tmp_path
    spool_write(b"Subject: one\n\nx\n", base=tmp_path)
    spool_write(b"Subject: two\n\nx\n", base=tmp_path)
    samples = scrape(client)
    assert value(samples, "socdesk_mail_spool_messages", state="waiting") == 2
    assert value(samples, "socdesk_mail_spool_messages", state="failed") == 0


def test_readings_are_cached_for_the_configured_seconds(client, people, settings):
    scrape(client)  # read now
    settings.SOCDESK_METRICS_CACHE_SECONDS = 60
    before = value(scrape(client), "socdesk_tickets_open", severity="medium")
    open_ticket(people, severity="medium")
    assert value(scrape(client), "socdesk_tickets_open", severity="medium") == before
    settings.SOCDESK_METRICS_CACHE_SECONDS = 0
    assert value(scrape(client), "socdesk_tickets_open", severity="medium") == before + 1


def test_a_failing_reading_says_so_and_the_others_still_show(client):
    def broken():
        raise RuntimeError("database unreachable")

    metrics.reading_register("broken", broken)
    try:
        samples = scrape(client)
    finally:
        del metrics._READINGS["broken"]
    assert value(samples, "socdesk_metrics_reading_up", reading="broken") == 0
    assert value(samples, "socdesk_metrics_reading_up", reading="tickets") == 1
    assert "socdesk_tickets_open" in names(samples)


# --- who may scrape ---------------------------------------------------------------------------------


def test_loopback_may_scrape_by_default_and_any_other_address_gets_a_404(client):
    assert client.get("/metrics").status_code == 200
    outside = client.get("/metrics", REMOTE_ADDR="198.51.100.7")
    assert outside.status_code == 404
    assert b"socdesk_" not in outside.content
    # Not even the method is told to a stranger.
    assert client.post("/metrics", REMOTE_ADDR="198.51.100.7").status_code == 404
    assert client.post("/metrics").status_code == 405


def test_the_token_lets_a_scraper_in_from_anywhere_and_a_wrong_one_does_not(client, settings):
    settings.SOCDESK_METRICS_TOKEN = TOKEN
    settings.SOCDESK_METRICS_ALLOW = []
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, **far).status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}, **far).status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}, **far).status_code == 404
    assert client.get("/metrics", **far).status_code == 404
    # With an empty allow-list, loopback needs the token too.
    assert client.get("/metrics").status_code == 404


def test_the_allow_list_takes_networks_and_believes_forwarded_addresses_only_from_trusted_proxies(
    client, settings
):
    settings.SOCDESK_METRICS_ALLOW = ["10.20.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.21.3.4").status_code == 404
    spoofed = {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "10.20.3.4"}
    assert client.get("/metrics", **spoofed).status_code == 404
    settings.TRUSTED_PROXIES = ["198.51.100.7"]
    assert client.get("/metrics", **spoofed).status_code == 200
    # A proxy on this machine that SOCdesk was not told about: every client would look local.
    settings.SOCDESK_METRICS_ALLOW = ["127.0.0.1/32"]
    settings.TRUSTED_PROXIES = []
    for header in ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP"):
        assert client.get("/metrics", **{header: "198.51.100.7"}).status_code == 404
    settings.TRUSTED_PROXIES = ["198.51.100.7"]
    # Behind a trusted proxy, the proxy's own address is not the client's.
    settings.SOCDESK_METRICS_ALLOW = ["198.51.100.7/32"]
    assert client.get("/metrics", **spoofed).status_code == 404


def test_a_bad_allow_list_fails_at_start_naming_the_variable(monkeypatch):
    monkeypatch.setenv("SOCDESK_METRICS_ALLOW", "10.0.0.0/8, not-a-network")
    with pytest.raises(ImproperlyConfigured, match="SOCDESK_METRICS_ALLOW: 'not-a-network' is not an IP"):
        env_networks("SOCDESK_METRICS_ALLOW", [])
    monkeypatch.setenv("SOCDESK_METRICS_ALLOW", "192.0.2.1, 2001:db8::/32")
    assert env_networks("SOCDESK_METRICS_ALLOW", []) == ["192.0.2.1/32", "2001:db8::/32"]
    monkeypatch.setenv("SOCDESK_METRICS_ALLOW", "")
    assert env_networks("SOCDESK_METRICS_ALLOW", ["127.0.0.1/32"]) == []


# --- the docs ---------------------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_metric_is_documented_and_the_dashboard_uses_only_metrics_that_exist(client):
    # A labelled counter shows no sample until its first increment, but its family is exposed (and
    # named) from the start: what the dashboard may use, whatever ran in this process before.
    response = client.get("/metrics")
    families = list(text_string_to_metric_families(response.content.decode()))
    exposed = {sample_.name for family in families for sample_ in family.samples} | {
        family.name + ("_total" if family.type == "counter" else "") for family in families
    }
    exposed = {name for name in exposed if name.startswith("socdesk_")}
    families = {re.sub(r"_(total|bucket|count|sum|created)$", "", name) for name in exposed}
    documented = set(re.findall(r"`(socdesk_[a-z_]+)`", (DOCS / "metrics.md").read_text()))
    documented = {re.sub(r"_total$", "", name) for name in documented}
    assert families - documented == set(), "document these in docs/metrics.md"
    dashboard = json.loads((DOCS / "grafana/socdesk.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"socdesk_[a-z_]+", target["expr"])
    }
    assert used and used <= exposed | {"socdesk_http_request_duration_seconds_bucket"}
