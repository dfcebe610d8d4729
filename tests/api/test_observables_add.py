"""POST /api/v1/tickets/{number}/observables: a hand-typed list, typed and added in one audited call."""

from __future__ import annotations

import pytest

from socdesk.alerts.models import TicketObservable
from socdesk.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def url(ticket) -> str:
    return f"tickets/{ticket.number}/observables"


def test_a_list_with_commas_spaces_and_new_lines_is_typed_and_added(alice_api, soc_ticket):
    response = alice_api.post(
        url(soc_ticket), {"values": "203.0.113.7, evil[.]example\nhxxp://bad[.]example/x nope!", "ioc": True}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["added"] == [
        {"type": "ip", "value": "203.0.113.7"},
        {"type": "domain", "value": "evil.example"},
        {"type": "url", "value": "http://bad.example/x"},
    ]
    assert data["not_valid"] == ["nope!"] and "'nope!' is not a valid observable" in data["message"]
    assert TicketObservable.objects.filter(ticket=soc_ticket, ioc=True, origin="agent").count() == 3
    assert AuditEvent.objects.filter(action="observable.added").count() == 1


def test_nothing_valid_is_a_400_naming_the_entries_and_nothing_is_written(alice_api, soc_ticket):
    response = alice_api.post(url(soc_ticket), {"values": "nope! never!"})
    assert response.status_code == 400
    assert "These are not valid: 'nope!', 'never!'" in response.json()["error"]["message"]
    assert not TicketObservable.objects.filter(ticket=soc_ticket).exists()
    assert not AuditEvent.objects.filter(action="observable.added").exists()


def test_one_chosen_type(alice_api, soc_ticket):
    response = alice_api.post(url(soc_ticket), {"values": "203.0.113.7 evil.example", "type": "ip"})
    assert response.status_code == 201
    assert response.json()["not_valid"] == ["evil.example"]


def test_another_departments_ticket_is_a_404(carol_api, soc_ticket):
    response = carol_api.post(url(soc_ticket), {"values": "203.0.113.7"})
    assert response.status_code == 404
    assert not TicketObservable.objects.exists()


def test_unknown_type_is_a_400(alice_api, soc_ticket):
    assert alice_api.post(url(soc_ticket), {"values": "x", "type": "colour"}).status_code in (400, 422)
