"""Issue 14's case journey over HTTP (Django's client), fast, for the non-browser suite: a portal phishing
report gets the Phishing triage playbook by the demo's filter, alice works the checklist through the panel
(a skip without a reason and a resolve with a required task open are refused, nothing written), replies
with the canned response, links the report to the alert ticket for the same URL (webhook) and merges a
mailed duplicate into it; Dana then reads the outcome in the portal and nothing internal, carol and
another requester get 404s. The browser version is tests/browser/test_case_journey_browser.py."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from socdesk.accounts.services import apikey_create, contact_get_or_create
from socdesk.alerts.integrations import integration_create
from socdesk.cases.models import Task
from socdesk.core.actor import Actor
from socdesk.demo.playbooks import PHISHING_TASKS, phishing_filters
from socdesk.mail.canned import canned_render, canned_response_create
from socdesk.mail.inbound import mail_receive
from socdesk.routing.services.filters import filter_create
from socdesk.tickets.models import Ticket
from socdesk.tickets.services import ticket_link, ticket_merge, ticket_note, ticket_reply
from tests.cases.helpers import make_playbook
from tests.console_helpers import client_for
from tests.portal.conftest import PHISH_EML, sign_in

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
PHISH_URL = "https://northwind-payments-portal.com/invoice/20931"
TITLES = [title for title, *_rest in PHISHING_TASKS]


def _forwarded_by_erin() -> bytes:
    """Erin's mail client forwards the phishing as an attached message, base64-encoded."""
    import base64

    encoded = base64.encodebytes(PHISH_EML.read_bytes())
    return (
        b"From: Erin Lopez <erin@northwind.example>\r\nTo: " + settings.DEFAULT_FROM_EMAIL.encode() + b"\r\n"
        b"Subject: Fwd: Overdue invoice INV-20931\r\nMessage-ID: <erin-1@northwind.example>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nERIN-OWN-WORDS: is it real?\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + encoded
        + b"\r\n--b--\r\n"
    )


def test_case_journey_over_http(client, people, forms, huey_immediate, django_capture_on_commit_callbacks):
    admin = Actor.for_agent(people.admin)
    playbook = make_playbook(
        tasks=[(t, minutes, required) for t, _d, minutes, required, _team in PHISHING_TASKS]
    )
    for definition in phishing_filters(playbook):
        filter_create(actor=admin, definition=definition)
    canned = canned_response_create(
        actor=admin,
        title="Phishing confirmed",
        body="Hello {{ requester.name }}, {{ ticket.number }} was phishing: the link is blocked.",
        department=people.soc,
    )
    integration_create(actor=admin, adapter="generic", name="Web proxy", department=people.soc)
    _key, key = apikey_create(actor=admin, name="Web proxy", scopes=["alerts:ingest"])
    contact_get_or_create(actor=admin, email="dana@example.test", name="Dana")

    # Dana's report through the portal form: the demo's portal filter applies the playbook.
    sign_in(client, "dana@example.test")
    response = client.post(
        f"/portal/report/{forms['Report a suspicious e-mail'].pk}",
        {
            "subject": "",
            "body": "I opened the link.",
            "cf_clicked_link": "I clicked a link",
            "eml": SimpleUploadedFile("invoice.eml", PHISH_EML.read_bytes(), content_type="message/rfc822"),
            "website": "",
        },
    )
    report = Ticket.objects.get(requester__email="dana@example.test")
    assert response.status_code == 302
    tasks = {t.title: t for t in Task.objects.filter(ticket=report)}
    assert sorted(tasks) == sorted(TITLES)

    # The proxy's alert for the URL, through the webhook; Erin's forward of the same mail.
    alert = {
        "title": "Proxy: phishing page requested",
        "fingerprint": "px-1",
        "observables": [["url", PHISH_URL]],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(people.alice).post(
            "/api/v1/hooks/generic",
            data=json.dumps(alert),
            content_type="application/json",
            headers={"X-API-Key": key},
        )
    assert response.status_code == 202
    alert_ticket = Ticket.objects.get(source="alert")
    duplicate = mail_receive(_forwarded_by_erin(), actor=Actor.system("mail:pipe"), channel="pipe").ticket
    found = set(duplicate.ticket_observables.values_list("observable__type", "observable__value"))
    assert ("url", PHISH_URL) in found  # the base64-encoded forward was read

    # Carol (IT) does not see the report; her tick is a 404 and changes nothing.
    carol = client_for(people.carol)
    panel = f"/tickets/{report.number}/tasks"
    assert carol.get(f"/tickets/{report.number}/").status_code == 404
    first = tasks[TITLES[0]]
    response = carol.post(panel, {"action": "status", "task": first.pk, "status": "done"}, headers=HTMX)
    assert response.status_code == 404 and Task.objects.get(pk=first.pk).status == "open"

    # Alice works the checklist; a skip without a reason is refused and writes nothing.
    alice = client_for(people.alice)
    for title in TITLES[:3]:
        alice.post(panel, {"action": "status", "task": tasks[title].pk, "status": "done"}, headers=HTMX)
    reset = tasks[TITLES[4]]
    html = alice.post(
        panel, {"action": "status", "task": reset.pk, "status": "skipped", "reason": ""}, headers=HTMX
    ).content.decode()
    assert "reason" in html and Task.objects.get(pk=reset.pk).status == "open"
    alice.post(
        panel,
        {"action": "status", "task": reset.pk, "status": "skipped", "reason": "No password typed"},
        headers=HTMX,
    )

    # Resolving is refused while "Block the URL" is open: the sentence, the ticket unchanged.
    report.refresh_from_db()
    response = alice.post(
        f"/tickets/{report.number}/status",
        {"version": report.version, "status": "resolved", "resolution": "true_positive"},
    )
    assert response.status_code == 400
    assert "the required task “Block the URL” is still open" in response.content.decode()
    assert Ticket.objects.get(pk=report.pk).status == report.status
    for title in TITLES[3], TITLES[5]:
        alice.post(panel, {"action": "status", "task": tasks[title].pk, "status": "done"}, headers=HTMX)

    # The canned reply, a note, the link to the alert ticket and the merge of Erin's duplicate.
    alice_actor = Actor.for_agent(people.alice)
    body = canned_render(canned, report, agent=people.alice)
    assert body == f"Hello Dana, {report.number} was phishing: the link is blocked."
    ticket_reply(actor=alice_actor, ticket=report, body=body)
    ticket_note(actor=alice_actor, ticket=report, body="INTERNAL-NOTE: 3 mailboxes reached.")
    ticket_link(actor=alice_actor, ticket=report, other=alert_ticket, kind="related")
    ticket_merge(actor=alice_actor, source=duplicate, target=report)
    report.refresh_from_db()
    response = alice.post(
        f"/tickets/{report.number}/status",
        {"version": report.version, "status": "resolved", "resolution": "true_positive"},
    )
    assert response.status_code in (200, 302), response.content[:300]
    report.refresh_from_db()
    assert (report.status, report.resolution) == ("resolved", "true_positive")

    # Dana reads the outcome: status and reply; no note, task, observable or alert.
    html = client.get(f"/portal/tickets/{report.number}").content.decode()
    assert "Resolved" in html and body in html
    hidden = ["INTERNAL-NOTE", *TITLES, "198.51.100.23", alert_ticket.number, "Proxy: phishing page"]
    assert [text for text in hidden if text in html] == []
    # Another requester gets a 404 for Dana's ticket.
    client.post("/portal/sign-out")
    sign_in(client, "pat@example.test")
    assert client.get(f"/portal/tickets/{report.number}").status_code == 404
