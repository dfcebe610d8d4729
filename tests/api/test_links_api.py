"""The REST API's links (/tickets/{number}/links and in the ticket detail) and merge (/merge, /merge/undo)."""

from __future__ import annotations

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.tickets import services
from socdesk.tickets.models import ThreadEntry, Ticket, TicketLink, TicketMerge
from tests.api.conftest import ApiClient, make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_api(people):
    return ApiClient(make_key(["tickets:read", "tickets:write"], agent=people.alice, name="a"))


@pytest.fixture
def carol_api(people):
    return ApiClient(make_key(["tickets:read", "tickets:write"], agent=people.carol, name="c"))


def make(people, subject, department=None, agent=None):
    return services.ticket_create(
        actor=people.actor(agent or people.alice),
        subject=subject,
        department=department or people.soc,
        body="x",
    )


def written():
    return (
        TicketLink.objects.count(),
        TicketMerge.objects.count(),
        ThreadEntry.objects.count(),
        AuditEvent.objects.count(),
    )


def test_links_listed_added_in_the_detail_and_removed(people, alice_api):
    a, b = make(people, "Incident"), make(people, "Host")
    url = f"tickets/{a.number}/links"
    assert alice_api.get(url).json() == {"items": []}
    r = alice_api.post(url, {"number": b.number.lower(), "kind": "parent_of"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["kind"], body["ticket"]["number"], body["created_by"]) == ("parent_of", b.number, "key:a")
    assert body["ticket"]["url"] == f"/api/v1/tickets/{b.number}"
    other = alice_api.get(f"tickets/{b.number}").json()["links"]
    assert [(item["kind"], item["ticket"]["number"]) for item in other] == [("child_of", a.number)]
    assert alice_api.delete(f"{url}/{b.number}").status_code == 204
    assert alice_api.get(url).json() == {"items": []}
    assert alice_api.delete(f"{url}/{b.number}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"number": "SOC-999999", "kind": "related"}, 404, "Ticket SOC-999999 was not found."),
        ({"number": "SELF", "kind": "related"}, 400, "cannot be linked to itself"),
        ({"number": "OTHER", "kind": "sibling"}, 400, ""),
        ({"kind": "related"}, 400, ""),
    ],
)
def test_bad_links_are_refused_with_nothing_written(people, alice_api, body, status, message):
    a, b = make(people, "One"), make(people, "Two")
    body = {**body}
    if body.get("number") == "SELF":
        body["number"] = a.number
    if body.get("number") == "OTHER":
        body["number"] = b.number
    before = written()
    r = alice_api.post(f"tickets/{a.number}/links", body)
    assert r.status_code == status, r.content
    assert message in r.json()["error"]["message"]
    assert written() == before


def test_merge_and_undo(people, alice_api):
    target, source = make(people, "Main case"), make(people, "Duplicate report")
    r = alice_api.post(f"tickets/{source.number}/merge", {"into": target.number})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["source"], body["target"], body["merged_by"], body["undone_at"]) == (
        source.number,
        target.number,
        "key:a",
        None,
    )
    assert body["moved"]["thread"] == 1
    detail = alice_api.get(f"tickets/{source.number}").json()
    assert (detail["status"], detail["resolution"]) == ("closed", "duplicate")
    assert [(i["kind"], i["ticket"]["number"]) for i in detail["links"]] == [("duplicate_of", target.number)]
    r = alice_api.post(f"tickets/{source.number}/merge", {"into": target.number})
    assert (
        r.status_code == 400
        and r.json()["error"]["message"] == f"{source.number} was already merged into {target.number}."
    )
    r = alice_api.post(f"tickets/{source.number}/merge/undo")
    assert r.status_code == 200 and r.json()["undone_by"] == "key:a"
    assert Ticket.objects.get(pk=source.pk).status == "new"
    r = alice_api.post(f"tickets/{source.number}/merge/undo")
    assert r.status_code == 404 and "is not merged" in r.json()["error"]["message"]


def test_bad_merges_are_refused_with_nothing_written(people, alice_api):
    a = make(people, "One")
    before = written()
    r = alice_api.post(f"tickets/{a.number}/merge", {"into": a.number})
    assert r.status_code == 400 and "cannot be merged into itself" in r.json()["error"]["message"]
    r = alice_api.post(f"tickets/{a.number}/merge", {"into": "SOC-424242"})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Ticket SOC-424242 was not found."
    r = alice_api.post(f"tickets/{a.number}/merge", {})
    assert r.status_code == 400
    assert written() == before


def test_carol_gets_404_on_every_link_and_merge_endpoint_and_nothing_changes(people, carol_api):
    soc = make(people, "SOC case with a secret subject")
    other = make(people, "Other SOC case")
    hers = make(people, "IT case", department=people.it, agent=people.carol)
    services.ticket_link(actor=people.actor(people.alice), ticket=soc, other=other, kind="related")
    before = written()
    calls = [
        ("get", f"tickets/{soc.number}/links", None),
        ("post", f"tickets/{soc.number}/links", {"number": hers.number, "kind": "related"}),
        ("post", f"tickets/{hers.number}/links", {"number": soc.number, "kind": "related"}),
        ("delete", f"tickets/{soc.number}/links/{other.number}", None),
        ("post", f"tickets/{soc.number}/merge", {"into": hers.number}),
        ("post", f"tickets/{hers.number}/merge", {"into": soc.number}),
        ("post", f"tickets/{soc.number}/merge/undo", None),
    ]
    for method, url, body in calls:
        r = carol_api.call(method.upper(), url, body)
        assert r.status_code == 404, (url, r.content)
        assert "secret subject" not in r.content.decode()
    assert written() == before


def test_a_department_key_sees_no_link_to_another_department(people):
    soc = make(people, "SOC case")
    hers = make(people, "IT case", department=people.it, agent=people.carol)
    services.ticket_link(actor=people.actor(people.admin), ticket=hers, other=soc, kind="related")
    from socdesk.accounts.services import apikey_create
    from socdesk.core.actor import Actor

    _key, raw = apikey_create(
        actor=Actor.system("t"), name="it-tool", scopes=["tickets:read"], department=people.it
    )
    it_tool = ApiClient(raw)
    assert it_tool.get(f"tickets/{hers.number}/links").json() == {"items": []}
    assert it_tool.get(f"tickets/{soc.number}/links").status_code == 404


def test_a_tools_key_links_and_merges_in_its_scope(people, tool):
    target, source = make(people, "Main case"), make(people, "Duplicate from the SOAR")
    r = tool.post(f"tickets/{source.number}/links", {"number": target.number, "kind": "related"})
    assert r.status_code == 201 and r.json()["created_by"] == "key:soar"
    r = tool.post(f"tickets/{source.number}/merge", {"into": target.number})
    assert r.status_code == 200 and r.json()["merged_by"] == "key:soar"
    event = AuditEvent.objects.get(action="ticket.merged")
    assert event.actor_label == "key:soar" and event.before == {"status": "new", "resolution": ""}
    assert tool.post(f"tickets/{source.number}/merge/undo").status_code == 200
    # The related link the two had comes back after the undo.
    assert [i["kind"] for i in tool.get(f"tickets/{source.number}/links").json()["items"]] == ["related"]
