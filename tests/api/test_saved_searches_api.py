"""Saved searches over the v1 API: the calling agent's own and shared ones, created and deleted."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.tickets.models import SavedSearch
from socdesk.tickets.services import saved_search_create, ticket_create
from tests.api.conftest import ApiClient, make_key
from tests.tickets.conftest import lead  # noqa: F401  (the SOC lead persona)

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_api(lead):  # noqa: F811
    return ApiClient(make_key(["tickets:read"], agent=lead, name="d"))


def _critical(people, n=2):
    for i in range(n):
        ticket_create(
            actor=people.actor(people.admin), subject=f"C{i}", department=people.soc, severity="critical"
        )


def test_create_then_list_with_counts(alice_api, people):
    _critical(people)
    r = alice_api.post("me/saved-searches", {"name": "Criticals", "query": "severity=critical&page=4"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["query"], body["department"], body["count"], body["count_capped"]) == (
        "queue=open&severity=critical",
        None,
        2,
        False,
    )
    assert body["console_url"] == f"/tickets/saved/{body['id']}/"
    listed = alice_api.get("me/saved-searches").json()["items"]
    assert [s["name"] for s in listed] == ["Criticals"]
    # Its tickets_url lists exactly what it counts.
    assert len(alice_api.get(body["tickets_url"]).json()["items"]) == 2
    assert AuditEvent.objects.filter(action="saved_search.created", actor_type="apikey").exists()


def test_an_analyst_cannot_share_and_nothing_is_saved(alice_api, people):
    r = alice_api.post(
        "me/saved-searches", {"name": "x", "query": "queue=open", "department_id": people.soc.pk}
    )
    assert r.status_code == 403
    assert "may not share searches with SOC" in r.json()["error"]["message"]
    assert not SavedSearch.objects.exists()


def test_a_lead_shares_with_their_department_and_others_there_see_it(lead_api, alice_api, carol_api, people):
    r = lead_api.post(
        "me/saved-searches", {"name": "SOC", "query": "queue=all", "department_id": people.soc.pk}
    )
    assert r.status_code == 201, r.content
    assert r.json()["department"] == {"id": people.soc.pk, "name": "SOC"}
    assert [s["name"] for s in alice_api.get("me/saved-searches").json()["items"]] == ["SOC"]
    assert carol_api.get("me/saved-searches").json()["items"] == []
    assert carol_api.delete(f"me/saved-searches/{r.json()['id']}").status_code == 404
    refused = lead_api.post(
        "me/saved-searches", {"name": "IT", "query": "queue=all", "department_id": people.it.pk}
    )
    assert refused.status_code == 403
    assert SavedSearch.objects.count() == 1


def test_bad_input_gets_a_clear_error(alice_api):
    for body, field in (
        ({"name": "", "query": "queue=open"}, "name"),
        ({"name": "x", "query": "severity=apocalyptic"}, "query"),
        ({"name": "x", "query": "queue=open", "department_id": 999999}, "department_id"),
    ):
        r = alice_api.post("me/saved-searches", body)
        assert r.status_code in (400, 404), r.content
        assert field in r.json()["error"]["fields"], r.content
    assert not SavedSearch.objects.exists()


def test_delete_own(alice_api, people):
    saved = saved_search_create(actor=Actor.for_agent(people.alice), name="x", query="queue=open")
    assert alice_api.delete(f"me/saved-searches/{saved.pk}").status_code == 204
    assert not SavedSearch.objects.exists()


def test_a_key_without_an_agent_is_told_why(tool):
    r = tool.get("me/saved-searches")
    assert r.status_code == 403
    assert "not an agent's personal token" in r.json()["error"]["message"]
