"""Agents set themselves available or away (top bar switch, audited); only their own."""

from __future__ import annotations

import pytest

from socdesk.accounts.models import Agent
from socdesk.accounts.services import agent_set_availability
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import PermissionDenied
from tests.console_helpers import client_for


def test_an_agent_goes_away_and_comes_back_audited_with_the_time(people):
    agent = agent_set_availability(actor=Actor.for_agent(people.alice), agent=people.alice, available=False)
    assert agent.available is False and agent.available_changed_at is not None
    event = AuditEvent.objects.get(action="agent.availability_changed")
    assert (event.actor_label, event.target_id) == ("alice", str(people.alice.pk))
    assert (event.before, event.after) == ({"available": True}, {"available": False})
    agent_set_availability(actor=Actor.for_agent(people.alice), agent=people.alice, available=True)
    assert Agent.objects.get(pk=people.alice.pk).available is True
    assert AuditEvent.objects.filter(action="agent.availability_changed").count() == 2


def test_the_same_state_again_records_nothing(people):
    agent_set_availability(actor=Actor.for_agent(people.bob), agent=people.bob, available=True)
    assert not AuditEvent.objects.filter(action="agent.availability_changed").exists()


def test_an_agent_cannot_set_anothers_availability_and_nothing_is_written(people):
    with pytest.raises(PermissionDenied, match="only your own availability"):
        agent_set_availability(actor=Actor.for_agent(people.bob), agent=people.alice, available=False)
    assert Agent.objects.get(pk=people.alice.pk).available is True
    assert not AuditEvent.objects.filter(action="agent.availability_changed").exists()


def test_an_admin_may_mark_someone_away(people):
    agent_set_availability(actor=Actor.for_agent(people.admin), agent=people.alice, available=False)
    assert Agent.objects.get(pk=people.alice.pk).available is False


def test_the_top_bar_switch_flips_the_signed_in_agent_only(people):
    client = client_for(people.alice)
    page = client.get("/").content.decode()
    assert 'id="availability"' in page and ">Available</button>" in page
    response = client.post("/account/availability", {"available": "0", "next": "/tickets/"})
    assert response.status_code == 302 and response["Location"] == "/tickets/"
    assert Agent.objects.get(pk=people.alice.pk).available is False
    assert Agent.objects.get(pk=people.bob.pk).available is True
    assert ">Away</button>" in client.get("/").content.decode()


def test_htmx_gets_the_switch_back_in_its_new_state(people):
    response = client_for(people.alice).post(
        "/account/availability", {"available": "0"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and ">Away</button>" in body and 'value="1"' in body
    assert "<html" not in body


def test_a_bad_value_is_refused_with_a_sentence_and_changes_nothing(people):
    response = client_for(people.alice).post("/account/availability", {"available": "maybe"})
    assert response.status_code == 400
    assert "available=1" in response.content.decode()
    assert Agent.objects.get(pk=people.alice.pk).available is True
    assert not AuditEvent.objects.filter(action="agent.availability_changed").exists()


def test_an_offsite_next_is_not_followed(people):
    response = client_for(people.alice).post(
        "/account/availability", {"available": "0", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_signed_out_visitors_are_sent_to_sign_in(db):
    from django.test import Client

    response = Client().post("/account/availability", {"available": "0"})
    assert response.status_code == 302 and "/login" in response["Location"]
