"""The ticket observables panel: listing, 'seen in N other tickets', private IPs, agent edits, access."""

from __future__ import annotations

import pytest
from django.test import Client

from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Observable, TicketObservable
from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket

from .conftest import sample

pytestmark = pytest.mark.django_db


def login(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


@pytest.fixture
def alert_ticket(make_integration):
    """A ticket from the Wazuh sample (203.0.113.7, 10.0.0.5, web01, admin), and another sharing the IP."""
    integration = make_integration("wazuh")
    for body in (
        sample("wazuh_alert.json"),
        sample("wazuh_alert.json")
        .replace(b'"id":"001"', b'"id":"002"')
        .replace(b'"name":"web01"', b'"name":"web02"'),
    ):
        delivery_process(delivery_id=delivery_receive(adapter="wazuh", body=body, integration=integration).pk)
    return Ticket.objects.order_by("id").first()


def test_panel_lists_observables_with_other_tickets_and_scopes(people, alert_ticket):
    response = login(people.alice).get(f"/tickets/{alert_ticket.number}/observables")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html.lower() and 'id="observables-panel"' in html  # a partial, not a page
    ip = Observable.objects.get(type="ip", value="203.0.113.7")
    assert "203.0.113.7" in html and "seen in 1 other ticket</a>" in html
    assert f'href="/tickets/?queue=all&amp;observable={ip.pk}"' in html
    assert "private</span>" in html  # 10.0.0.5, the agent IP
    assert "documentation</span>" in html
    assert "web01" in html and "only here" in html


def test_seen_in_other_tickets_link_leads_to_exactly_those_tickets(people, alert_ticket, soc_ticket):
    """The panel's link opens the console queue filtered to the tickets carrying that observable,
    and nothing else (soc_ticket has no such observable)."""
    alice = login(people.alice)
    html = alice.get(f"/tickets/{alert_ticket.number}/observables").content.decode()
    ip = Observable.objects.get(type="ip", value="203.0.113.7")
    web01 = Observable.objects.get(value="web01")
    sharing = set(Ticket.objects.filter(ticket_observables__observable=ip).values_list("number", flat=True))
    assert len(sharing) == 2

    queue = alice.get(f"/tickets/?queue=all&observable={ip.pk}").content.decode()
    assert all(number in queue for number in sharing) and soc_ticket.number not in queue
    assert 'name="observable"' in queue  # kept when the filter form is submitted again
    by_value = alice.get("/tickets/?queue=all&observable=ip:203.0.113[.]7").content.decode()
    assert all(number in by_value for number in sharing) and soc_ticket.number not in by_value
    only = alice.get(f"/tickets/?queue=all&observable={web01.pk}").content.decode()
    assert alert_ticket.number in only and (sharing - {alert_ticket.number}).pop() not in only
    bad = alice.get("/tickets/?queue=all&observable=nonsense").content.decode()
    assert "observable must be an observable id or &lt;type&gt;:&lt;value&gt;" in bad
    # Carol (IT) sees none of these tickets, filtered or not.
    carol_queue = login(people.carol).get(f"/tickets/?queue=all&observable={ip.pk}").content.decode()
    assert not any(number in carol_queue for number in sharing)
    assert html  # the panel rendered


def test_carol_in_another_department_gets_404_everywhere(people, alert_ticket):
    carol = login(people.carol)
    link = TicketObservable.objects.filter(ticket=alert_ticket).first()
    base = f"/tickets/{alert_ticket.number}/observables"
    assert carol.get(base).status_code == 404
    assert carol.post(base + "/add", {"type": "ip", "value": "8.8.8.8"}).status_code == 404
    assert carol.post(f"{base}/{link.pk}/remove").status_code == 404
    assert carol.post(f"{base}/{link.pk}/flag", {"flag": "ioc", "on": "1"}).status_code == 404
    assert TicketObservable.objects.filter(pk=link.pk, ioc=False).exists()
    assert not Observable.objects.filter(value="8.8.8.8").exists()


def test_anonymous_is_sent_to_login(alert_ticket, settings):
    settings.LOGIN_URL = "/login/"  # the console's login view is not on this branch
    response = Client().get(f"/tickets/{alert_ticket.number}/observables")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_agent_adds_refanged_observable_with_audit(people, alert_ticket):
    response = login(people.alice).post(
        f"/tickets/{alert_ticket.number}/observables/add",
        {"type": "url", "value": "hxxps://Bad[.]Example/p", "ioc": "on"},
    )
    assert response.status_code == 200 and "https://bad.example/p" in response.content.decode()
    link = TicketObservable.objects.get(ticket=alert_ticket, observable__value="https://bad.example/p")
    assert link.ioc and link.origin == "agent" and link.observable.ioc
    event = AuditEvent.objects.get(action="observable.added")
    assert event.actor_label == "alice" and event.target_id == str(alert_ticket.pk)


def test_invalid_or_duplicate_value_is_a_clear_400_and_writes_nothing(people, alert_ticket):
    client = login(people.alice)
    count = Observable.objects.count()
    bad = client.post(f"/tickets/{alert_ticket.number}/observables/add", {"type": "ip", "value": "999.1.1.1"})
    assert bad.status_code == 400 and "999.1.1.1&#x27; is not a valid IP address." in bad.content.decode()
    again = client.post(
        f"/tickets/{alert_ticket.number}/observables/add", {"type": "ip", "value": "203.0.113.7"}
    )
    assert again.status_code == 400 and "already on this ticket" in again.content.decode()
    assert (
        Observable.objects.count() == count
        and not AuditEvent.objects.filter(action="observable.added").exists()
    )


def test_flag_and_unflag_ioc_and_sighted(people, alert_ticket):
    client = login(people.bob)
    link = TicketObservable.objects.get(ticket=alert_ticket, observable__value="203.0.113.7")
    base = f"/tickets/{alert_ticket.number}/observables/{link.pk}/flag"
    assert client.post(base, {"flag": "ioc", "on": "1"}).status_code == 200
    assert client.post(base, {"flag": "sighted", "on": "1"}).status_code == 200
    link.refresh_from_db()
    assert link.ioc and link.sighted and link.observable.ioc and link.observable.sighted
    # the other ticket sharing the IP keeps its own verdict
    other = TicketObservable.objects.exclude(ticket=alert_ticket).get(observable__value="203.0.113.7")
    assert not other.ioc
    client.post(base, {"flag": "ioc", "on": "0"})
    link.refresh_from_db()
    assert not link.ioc and not link.observable.ioc
    assert AuditEvent.objects.filter(action="observable.flagged").count() == 3
    assert client.post(base, {"flag": "bogus", "on": "1"}).status_code == 400


def test_remove_keeps_the_observable_and_other_tickets(people, alert_ticket):
    link = TicketObservable.objects.get(ticket=alert_ticket, observable__value="203.0.113.7")
    response = login(people.alice).post(f"/tickets/{alert_ticket.number}/observables/{link.pk}/remove")
    assert response.status_code == 200 and "ip:203.0.113.7" not in response.content.decode()
    assert Observable.objects.filter(value="203.0.113.7").exists()
    assert TicketObservable.objects.filter(observable__value="203.0.113.7").count() == 1
    assert AuditEvent.objects.filter(action="observable.removed").exists()


def test_admin_preview_shows_normalised_alerts_without_storing(people, make_integration):
    from socdesk.alerts.models import Alert, WebhookDelivery

    integration = make_integration("generic", field_map={"title": "event.name", "fingerprint": "event.key"})
    people.admin.user.is_staff = people.admin.user.is_superuser = True
    people.admin.user.save()
    client = login(people.admin)
    url = f"/admin/alerts/integration/{integration.pk}/preview/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"payload": sample("generic_custom.json").decode()})
    html = response.content.decode()
    assert response.status_code == 200 and "Impossible travel for jdoe" in html and "it-jdoe" in html
    assert "198.51.100.23" in html
    broken = client.post(url, {"payload": '{"event": '})
    assert "not valid JSON" in broken.content.decode()
    assert not WebhookDelivery.objects.exists() and not Alert.objects.exists()


def test_admin_refuses_a_bad_field_map(people):
    people.admin.user.is_staff = people.admin.user.is_superuser = True
    people.admin.user.save()
    response = login(people.admin).post(
        "/admin/alerts/integration/add/",
        {
            "adapter": "generic", "name": "x", "token": "t" * 20, "enabled": "on",
            "default_severity": "medium", "default_tags": "[]", "severity_map": '{"P1": "urgent"}',
            "grouping_key": "", "field_map": '{"title": "a[?"}',
            "hmac_secret": "", "hmac_header": "X-Grafana-Alert-Signature",
        },
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200 and "not valid JMESPath" in html and "unknown severities" in html


def test_alert_selectors_are_scoped_to_the_agent(people, alert_ticket):
    from socdesk.alerts.models import Alert
    from socdesk.alerts.selectors import (
        alert_get_for_agent,
        alert_raw_payload,
        alerts_visible_to,
        ticket_alerts,
    )
    from socdesk.core.errors import NotFound

    alert = ticket_alerts(alert_ticket).get()
    assert alert_get_for_agent(people.alice, alert.pk) == alert
    assert alert_raw_payload(people.bob, alert.pk)["rule"]["id"] == "5712"
    assert alerts_visible_to(people.alice).count() == Alert.objects.count() == 2
    assert not alerts_visible_to(people.carol).exists()
    with pytest.raises(NotFound):
        alert_get_for_agent(people.carol, alert.pk)
    with pytest.raises(NotFound):
        alert_raw_payload(people.carol, alert.pk)
