"""GET/PUT /api/v1/me/availability: an agent's own availability through a personal token or session."""

from __future__ import annotations

from socdesk.accounts.models import Agent
from socdesk.audit.models import AuditEvent
from tests.api.conftest import ApiClient, make_key
from tests.console_helpers import client_for


def test_an_agent_reads_and_sets_their_availability_with_a_personal_token(people, alice_api):
    response = alice_api.get("me/availability")
    assert response.status_code == 200 and response.json() == {"available": True, "changed_at": None}
    response = alice_api.call("PUT", "me/availability", {"available": False})
    assert response.status_code == 200 and response.json()["available"] is False
    assert response.json()["changed_at"] is not None
    assert Agent.objects.get(pk=people.alice.pk).available is False
    assert Agent.objects.get(pk=people.bob.pk).available is True
    event = AuditEvent.objects.get(action="agent.availability_changed")
    assert event.actor_type == "apikey" and event.target_id == str(people.alice.pk)


def test_a_console_session_sets_it_too(people):
    api = ApiClient(client=client_for(people.bob))
    assert api.call("PUT", "me/availability", {"available": False}).status_code == 200
    assert Agent.objects.get(pk=people.bob.pk).available is False


def test_a_key_that_is_no_agents_is_refused_with_a_sentence(people, tool):
    response = tool.call("PUT", "me/availability", {"available": False})
    assert response.status_code == 403
    assert "not an agent's personal token" in response.json()["error"]["message"]
    assert not AuditEvent.objects.filter(action="agent.availability_changed").exists()


def test_a_bad_body_is_refused_and_nothing_changes(people, alice_api):
    for body in ({"available": "perhaps"}, {}, {"available": False, "agent": people.bob.pk}):
        response = alice_api.call("PUT", "me/availability", body)
        assert response.status_code in (400, 422), body
        assert response.json()["error"]["message"]
    assert Agent.objects.get(pk=people.alice.pk).available is True
    assert Agent.objects.get(pk=people.bob.pk).available is True


def test_without_credentials_it_is_a_401(db):
    assert ApiClient().get("me/availability").status_code == 401


def test_a_read_only_personal_token_may_switch_its_own_agent(people):
    api = ApiClient(make_key(["tickets:read"], agent=people.carol, name="ro"))
    assert api.call("PUT", "me/availability", {"available": False}).json()["available"] is False
