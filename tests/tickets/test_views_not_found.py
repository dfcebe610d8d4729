"""carol (IT) gets the same 404 for alice's SOC ticket on every page and action URL, and nothing changes."""

import pytest

from socdesk.audit.models import AuditEvent
from socdesk.tickets.attachments import IncomingFile
from socdesk.tickets.models import ThreadEntry, Ticket
from socdesk.tickets.services import ticket_note
from socdesk.tickets.views import ACTIONS
from tests.console_helpers import client_for

ACTION_DATA = {
    "compose": {"body": "hi", "kind": "reply"},
    "claim": {},
    "release": {},
    "assign": {"assignee": ""},
    "transfer": {"department": "", "reason": "not mine"},
    "status": {"status": "in_progress"},
    "severity": {"severity": "low"},
    "tags": {"tags": "x"},
    "edit": {"subject": "mine now"},
    "collaborator_add": {"email": "eve@example.test"},
    "collaborator_remove": {"email": "dana@example.test"},
    "link_add": {"number": "SOC-1", "kind": "related"},
    "link_remove": {"number": "SOC-1"},
    "merge_undo": {"number": "SOC-1"},
}


def test_every_action_is_covered():
    assert set(ACTION_DATA) == set(ACTIONS)


@pytest.fixture
def carol(people):
    return client_for(people.carol)


def _state(ticket):
    t = Ticket.objects.get(pk=ticket.pk)
    return t.version, ThreadEntry.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("action", sorted(ACTION_DATA))
def test_carol_gets_404_on_every_action(carol, people, soc_ticket, action, htmx):
    ACTION_DATA["transfer"]["department"] = people.it.pk
    before = _state(soc_ticket)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = carol.post(
        f"/tickets/{soc_ticket.number}/{action}",
        {"version": soc_ticket.version, **ACTION_DATA[action]},
        **headers,
    )
    assert response.status_code == 404
    assert "Suspicious PowerShell" not in response.content.decode()
    assert _state(soc_ticket) == before


@pytest.mark.parametrize("htmx", [False, True])
def test_carol_gets_404_on_pages_presence_and_downloads(carol, people, soc_ticket, htmx):
    entry = ticket_note(
        actor=people.actor(people.alice),
        ticket=soc_ticket,
        body="x",
        attachments=[IncomingFile("a.txt", b"a")],
    )
    attachment = entry.attachments.get()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    number = soc_ticket.number
    assert carol.get(f"/tickets/{number}/", **headers).status_code == 404
    assert carol.get(f"/tickets/{number.lower()}/", **headers).status_code == 404
    assert carol.post(f"/tickets/{number}/presence", **headers).status_code == 404
    assert carol.post(f"/tickets/{number}/presence", {"leave": "1"}, **headers).status_code == 404
    assert carol.post(f"/tickets/{number}/merge", {"number": number}, **headers).status_code == 404
    assert carol.get(f"/tickets/attachments/{attachment.pk}/", **headers).status_code == 404
    # A missing ticket and a hidden one look the same.
    missing = carol.get("/tickets/SOC-999999/", **headers)
    hidden = carol.get(f"/tickets/{number}/", **headers)
    assert missing.status_code == hidden.status_code == 404
    assert carol.get("/tickets/attachments/999999/").status_code == 404
    # The console's own pages do not list it either.
    assert f'value="{number}" aria-label' not in carol.get("/tickets/?queue=all").content.decode()
    assert "No tickets match." in carol.get(f"/tickets/?queue=all&q={number}").content.decode()


def test_carol_bulk_on_a_hidden_ticket_reports_not_found(carol, soc_ticket):
    before = _state(soc_ticket)
    html = carol.post(
        "/tickets/bulk", {"ticket": [soc_ticket.number], "action": "severity", "severity": "low"}, follow=True
    ).content.decode()
    assert f"Ticket {soc_ticket.number} was not found." in html
    assert _state(soc_ticket) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_wrong_methods_are_refused(carol, soc_ticket, method):
    # Actions are POST only, pages GET only: a 405 never reveals more than the 404 would.
    response = getattr(carol, method)(f"/tickets/{soc_ticket.number}/severity")
    assert response.status_code in (404, 405)
