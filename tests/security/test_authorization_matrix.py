"""Department isolation, surface by surface: whoever is outside SOC gets a 404 (or an empty search) for
a SOC ticket, its alert, raw payload, attachment and observables, nothing of it shows in the answer,
and nothing changes.

Callers from outside: carol (IT) signed in to the console, carol's personal token, and a tool's key
bound to the IT department. alice (SOC) is the control: the same requests succeed for her, so a 404
here means "hidden", not "broken". Runs on SQLite and on PostgreSQL like every test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client

from socdesk.accounts.services import apikey_create
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert, Integration
from socdesk.alerts.ticket_observables import ticket_observable_add
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.models import Collaborator, ThreadEntry, Ticket, TicketLink, TicketMerge
from socdesk.tickets.services import collaborator_add, ticket_create, ticket_note
from socdesk.tickets.views import ACTIONS
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db

SETUP = Actor.system("test-setup")
SECRET = "Exfiltration from payroll server"  # the SOC ticket's subject: must never show outside SOC
NOTE = "Internal: the CFO's laptop is patient zero"
FIXTURES = Path(__file__).parent.parent / "alerts" / "fixtures"
TICKET_SCOPES = ["tickets:read", "tickets:create", "tickets:write"]


@dataclass
class SocCase:
    """A SOC ticket with an alert (and its raw payload), an attachment and an observable."""

    ticket: Ticket
    alert: Alert
    attachment_id: int
    link_id: int


@pytest.fixture
def case(people) -> SocCase:
    alice = people.actor(people.alice)
    ticket = ticket_create(actor=alice, subject=SECRET, department=people.soc, body="payroll")
    entry = ticket_note(
        actor=alice, ticket=ticket, body=NOTE, attachments=[IncomingFile("evidence.txt", b"secret")]
    )
    link = ticket_observable_add(actor=alice, ticket=ticket, type="domain", value="payroll-exfil.example")
    collaborator_add(actor=alice, ticket=ticket, email="mia@example.com")
    integration = Integration.objects.create(adapter="wazuh", name="wazuh-soc", department=people.soc)
    delivery = delivery_receive(
        adapter="wazuh", body=(FIXTURES / "wazuh_alert.json").read_bytes(), integration=integration
    )
    delivery_process(delivery_id=delivery.pk)
    alert = Alert.objects.get(integration=integration)
    return SocCase(
        ticket=Ticket.objects.get(pk=ticket.pk),
        alert=alert,
        attachment_id=entry.attachments.get().pk,
        link_id=link.pk,
    )


def _state() -> tuple:
    """Everything a refused request must leave as it was."""
    return (
        list(Ticket.objects.order_by("pk").values_list("pk", "version", "department_id", "severity")),
        ThreadEntry.objects.count(),
        AuditEvent.objects.count(),
        list(Collaborator.objects.order_by("pk").values_list("ticket_id", "contact__email")),
        TicketLink.objects.count(),
        TicketMerge.objects.count(),
    )


def _assert_hidden(response, case: SocCase, status: int = 404) -> None:
    assert response.status_code == status, response.content[:500]
    body = response.content.decode(errors="replace")
    for secret in (SECRET, NOTE, "payroll-exfil.example"):
        assert secret not in body


# --- console -----------------------------------------------------------------------------------------

ACTION_DATA = {
    "compose": {"body": "hi", "kind": "reply"},
    "claim": {},
    "release": {},
    "assign": {"assignee": ""},
    "transfer": {"department": "IT"},
    "status": {"status": "in_progress"},
    "severity": {"severity": "low"},
    "tags": {"tags": "x"},
    "edit": {"subject": "mine now"},
    "collaborator_add": {"email": "eve@example.com"},
    "collaborator_remove": {"email": "mia@example.com"},
    "link_add": {"number": "SOC-1", "kind": "related"},
    "link_remove": {"number": "SOC-1"},
    "merge_undo": {"number": "SOC-1"},
}


def test_every_console_action_is_in_the_matrix():
    assert set(ACTION_DATA) == set(ACTIONS)


def _console_requests(case: SocCase, people) -> list[tuple[str, str, dict]]:
    n = case.ticket.number
    requests = [
        ("get", f"/tickets/{n}/", {}),
        ("get", f"/tickets/{n.lower()}/", {}),
        ("post", f"/tickets/{n}/presence", {}),
        ("get", f"/tickets/attachments/{case.attachment_id}/", {}),
        ("get", f"/tickets/{n}/observables", {}),
        ("post", f"/tickets/{n}/observables/add", {"type": "ip", "value": "198.51.100.1"}),
        ("post", f"/tickets/{n}/observables/{case.link_id}/flag", {"flag": "ioc", "on": "1"}),
        ("post", f"/tickets/{n}/observables/{case.link_id}/remove", {}),
        ("post", f"/tickets/{n}/merge", {"number": n}),
    ]
    for action, data in sorted(ACTION_DATA.items()):
        if action == "transfer":
            data = {"department": people.it.pk, "reason": "not mine"}
        requests.append(("post", f"/tickets/{n}/{action}", {"version": case.ticket.version, **data}))
    return requests


CONSOLE_COUNT = 9 + len(ACTION_DATA)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("index", range(CONSOLE_COUNT))
def test_console_outsider_gets_404_and_nothing_changes(people, case, index, htmx):
    method, url, data = _console_requests(case, people)[index]
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    before = _state()
    _assert_hidden(getattr(client_for(people.carol), method)(url, data, **headers), case)
    assert _state() == before
    # The control: alice reaches the same URL (GETs only; her writes are tested elsewhere).
    if method == "get":
        assert client_for(people.alice).get(url, **headers).status_code == 200


def test_console_search_and_bulk_show_nothing_of_another_department(people, case):
    carol = client_for(people.carol)
    for query in (case.ticket.number, "payroll", "payroll-exfil.example"):
        html = carol.get("/tickets/", {"queue": "all", "q": query}).content.decode()
        assert "No tickets match." in html and SECRET not in html
    html = carol.get("/tickets/", {"queue": "all", "observable": str(case.link_id)}).content.decode()
    assert SECRET not in html
    before = _state()
    html = carol.post(
        "/tickets/bulk",
        {"ticket": [case.ticket.number], "action": "severity", "severity": "low"},
        follow=True,
    ).content.decode()
    assert f"Ticket {case.ticket.number} was not found." in html and SECRET not in html
    assert _state() == before
    # alice finds it by the same searches.
    assert (
        SECRET in client_for(people.alice).get("/tickets/", {"queue": "all", "q": "payroll"}).content.decode()
    )


# --- REST v1 -----------------------------------------------------------------------------------------


class Api:
    """A JSON client for /api/v1 with one credential (a key, or a console session with its CSRF token)."""

    def __init__(self, *, key: str = "", client: Client | None = None):
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def call(self, method: str, path: str, body=None):
        kwargs: dict = {"headers": dict(self.headers)}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        if "csrftoken" in self.client.cookies:
            kwargs["headers"]["X-CSRFToken"] = self.client.cookies["csrftoken"].value
        return getattr(self.client, method)(f"/api/v1/{path}", **kwargs)


def _session(agent) -> Api:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)
    client.get("/")  # sets the CSRF cookie the session API wants on writes
    return Api(client=client)


def _caller(kind: str, people) -> Api:
    if kind == "carol-session":
        return _session(people.carol)
    if kind == "carol-token":
        return Api(key=apikey_create(actor=SETUP, name="c", scopes=TICKET_SCOPES, agent=people.carol)[1])
    if kind == "it-key":
        return Api(key=apikey_create(actor=SETUP, name="it", scopes=TICKET_SCOPES, department=people.it)[1])
    if kind == "alice-token":
        return Api(key=apikey_create(actor=SETUP, name="a", scopes=TICKET_SCOPES, agent=people.alice)[1])
    raise ValueError(kind)


OUTSIDERS = ["carol-session", "carol-token", "it-key"]


def _rest_requests(case: SocCase) -> list[tuple[str, str, dict | None]]:
    n = case.ticket.number
    return [
        ("get", f"tickets/{n}", None),
        ("patch", f"tickets/{n}", {"version": case.ticket.version, "severity": "low"}),
        (
            "patch",
            f"tickets/{n}",
            {"version": case.ticket.version, "department": "it-help-desk", "reason": "x"},
        ),
        ("get", f"tickets/{n}/thread", None),
        ("post", f"tickets/{n}/thread", {"kind": "note", "body": "hello"}),
        ("get", f"tickets/{n}/collaborators", None),
        ("post", f"tickets/{n}/collaborators", {"email": "eve@example.com"}),
        ("delete", f"tickets/{n}/collaborators?email=mia@example.com", None),
        ("get", f"tickets/{n}/links", None),
        ("post", f"tickets/{n}/links", {"number": n, "kind": "related"}),
        ("delete", f"tickets/{n}/links/{n}", None),
        ("post", f"tickets/{n}/merge", {"into": n}),
        ("post", f"tickets/{n}/merge/undo", None),
        ("get", f"alerts/{case.alert.pk}", None),
        ("get", f"alerts/{case.alert.pk}/raw", None),
        ("get", f"attachments/{case.attachment_id}", None),
    ]


REST_COUNT = 16


@pytest.mark.parametrize("index", range(REST_COUNT))
@pytest.mark.parametrize("caller", OUTSIDERS)
def test_rest_outsider_gets_404_and_nothing_changes(people, case, caller, index):
    method, path, body = _rest_requests(case)[index]
    api = _caller(caller, people)
    before = _state()
    response = api.call(method, path, body)
    _assert_hidden(response, case)
    assert response.json()["error"]["code"] == "not_found"
    assert _state() == before
    if method == "get":
        assert _caller("alice-token", people).call(method, path).status_code == 200


@pytest.mark.parametrize("caller", OUTSIDERS)
def test_rest_lists_and_searches_show_nothing_of_another_department(people, case, caller):
    api = _caller(caller, people)
    for path in (
        "tickets?queue=all",
        "tickets?queue=all&q=payroll",
        f"tickets?queue=all&q={case.ticket.number}",
        f"tickets?queue=all&observable={case.link_id}",
        "alerts",
        "observables?value=payroll-exfil.example",
        "observables?type=domain",
    ):
        response = api.call("get", path)
        _assert_hidden(response, case, status=200)
        assert case.ticket.number not in response.content.decode()
    assert api.call("get", "observables?value=payroll-exfil.example").json()["items"] == []
    exported = api.call("get", "tickets/export?queue=all&format=json")
    assert (
        exported.status_code == 200
        and case.ticket.number not in b"".join(exported.streaming_content).decode()
    )
    # The control: alice finds the same ticket and observable.
    alice = _caller("alice-token", people)
    assert SECRET in alice.call("get", "tickets?queue=all&q=payroll").content.decode()
    assert alice.call("get", "observables?value=payroll-exfil.example").json()["items"]


# --- osTicket-compatible API -------------------------------------------------------------------------


@pytest.mark.parametrize("caller", ["carol-token", "it-key"])
def test_osticket_outsider_cannot_open_tickets_in_soc(people, case, caller):
    key = {
        "carol-token": lambda: apikey_create(
            actor=SETUP, name="c", scopes=["tickets:create"], agent=people.carol
        )[1],
        "it-key": lambda: apikey_create(
            actor=SETUP, name="it", scopes=["tickets:create"], department=people.it
        )[1],
    }[caller]()
    before = _state()
    body = {
        "email": "x@example.test",
        "name": "X",
        "subject": "into SOC",
        "message": "hi",
        "deptId": people.soc.pk,
    }
    response = Client().post(
        "/api/tickets.json",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-API-Key": key},
    )
    assert response.status_code == 403, response.content
    assert "open tickets in" in response.content.decode()
    assert _state() == before


# --- finding 8: a department-bound key cannot move its ticket out of its department ------------------


def test_department_bound_key_cannot_patch_its_ticket_into_another_department(people):
    key = apikey_create(actor=SETUP, name="soc-soar", scopes=TICKET_SCOPES, department=people.soc)[1]
    api = Api(key=key)
    created = api.call("post", "tickets", {"subject": "Phish reported", "body": "see mail"})
    assert created.status_code == 201, created.content
    number, version = created.json()["number"], created.json()["version"]
    before = _state()
    for department in ("it-help-desk", people.it.pk):
        response = api.call("patch", f"tickets/{number}", {"version": version, "department": department})
        assert response.status_code == 403, response.content
        error = response.json()["error"]
        assert error["code"] == "forbidden"
        assert error["message"] == (
            "This API key is limited to the SOC department; it may not move tickets to IT Help Desk."
        )
    # The same PATCH with other changes is all or nothing: the severity is not half-applied.
    response = api.call(
        "patch",
        f"tickets/{number}",
        {"version": version, "severity": "critical", "department": "it-help-desk"},
    )
    assert response.status_code == 403
    assert _state() == before
    assert Ticket.objects.get(number=number).department == people.soc
    # Its own department is fine, and an agent's token may still transfer as their role allows.
    assert api.call("patch", f"tickets/{number}", {"version": version, "severity": "low"}).status_code == 200
    alice = _caller("alice-token", people)
    moved = alice.call(
        "patch",
        f"tickets/{number}",
        {"version": version + 1, "department": "it-help-desk", "reason": "IT's phish"},
    )
    assert moved.status_code == 200, moved.content


def test_department_bound_key_cannot_open_tickets_elsewhere_through_osticket(people):
    key = apikey_create(actor=SETUP, name="soc-mail", scopes=["tickets:create"], department=people.soc)[1]
    before = _state()
    body = {"email": "x@example.test", "name": "X", "subject": "s", "message": "m"}
    body["department"] = "it-help-desk"
    response = Client().post(
        "/api/tickets.json",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-API-Key": key},
    )
    assert response.status_code == 403
    assert response.content.decode() == "This API key may only open tickets in its own department."
    assert _state() == before
    body["department"] = "soc"
    response = Client().post(
        "/api/tickets.json",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-API-Key": key},
    )
    assert response.status_code == 201


# --- finding 7: observable first/last seen and flags over visible tickets only -----------------------


def test_observable_times_and_flags_come_from_visible_tickets_only(people):
    soc_ticket = ticket_create(actor=people.actor(people.alice), subject="s", department=people.soc)
    it_ticket = ticket_create(actor=people.actor(people.carol), subject="i", department=people.it)
    soc_link = ticket_observable_add(
        actor=people.actor(people.alice), ticket=soc_ticket, type="ip", value="203.0.113.99"
    )
    it_link = ticket_observable_add(
        actor=people.actor(people.carol), ticket=it_ticket, type="ip", value="203.0.113.99", ioc=True
    )
    assert it_link.added_at > soc_link.added_at

    def search(agent):
        token = apikey_create(actor=SETUP, name=f"t-{agent.pk}", scopes=["tickets:read"], agent=agent)[1]
        (hit,) = Api(key=token).call("get", "observables?value=203.0.113.99").json()["items"]
        return hit

    alice, carol, admin = search(people.alice), search(people.carol), search(people.admin)
    # alice sees only her SOC ticket: its time, and no IOC flag set by IT.
    assert alice["first_seen"] == alice["last_seen"] == _iso(soc_link.added_at)
    assert alice["ioc"] is False and alice["ticket_count"] == 1
    # carol sees only IT's: nothing tells her when SOC saw it.
    assert carol["first_seen"] == carol["last_seen"] == _iso(it_link.added_at)
    assert carol["ioc"] is True and carol["ticket_count"] == 1
    # An admin sees both tickets.
    assert (admin["first_seen"], admin["last_seen"]) == (_iso(soc_link.added_at), _iso(it_link.added_at))
    assert admin["ioc"] is True and admin["ticket_count"] == 2


def _iso(value) -> str:
    from ninja.responses import NinjaJSONEncoder

    return json.loads(json.dumps(value, cls=NinjaJSONEncoder))
