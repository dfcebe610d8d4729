"""A requester who signs in by e-mailed link sets the name agents see: on the portal's "Your name" page
or with a report. Through contact_name_set (audited); a refused name, or a refused report, writes
nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from socdesk.accounts.models import Contact
from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket
from tests.portal.conftest import sign_in

pytestmark = pytest.mark.django_db
LOST = "Report a lost or stolen device"


@pytest.fixture
def dana(client, people):
    sign_in(client, "dana@example.test")
    return client


def dana_contact() -> Contact:
    return Contact.objects.get(email="dana@example.test")


def renames() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="contact.renamed").order_by("pk"))


def lost_device(forms, **extra) -> tuple[str, dict]:
    data = {
        "subject": "Laptop left on the train",
        "cf_device_type": "Laptop",
        "cf_lost_at": "2026-11-29T18:30",
    }
    return f"/portal/report/{forms[LOST].pk}", {**data, **extra}


def test_the_requester_sets_their_name_and_agents_see_it_on_the_ticket(dana, people, dana_ticket):
    Contact.objects.filter(email="dana@example.test").update(name="")
    page = dana.get("/portal/profile")
    assert page.status_code == 200
    assert b'<label for="id_name">Your name' in page.content
    assert b'autocomplete="name"' in page.content

    saved = dana.post("/portal/profile", {"name": "  Dana   Reyes "})
    assert saved.status_code == 302 and saved["Location"] == "/portal/"
    assert dana_contact().name == "Dana Reyes"
    [event] = renames()
    assert (event.before, event.after) == ({"name": ""}, {"name": "Dana Reyes", "email": "dana@example.test"})
    assert event.actor_type == "user" and "dana@example.test" in event.actor_label
    home = dana.get("/portal/")
    assert b"Your name is saved." in home.content and b"Dana Reyes" in home.content

    agent = Client()
    agent.force_login(people.alice.user)
    ticket_page = agent.get(f"/tickets/{dana_ticket.number}/")
    assert "Dana Reyes &lt;dana@example.test&gt;" in ticket_page.content.decode()

    # The same name again is no change (no second event); an empty one clears it.
    dana.post("/portal/profile", {"name": "Dana Reyes"})
    assert len(renames()) == 1
    dana.post("/portal/profile", {"name": ""})
    assert dana_contact().name == "" and renames()[-1].after["name"] == ""


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("D" * 151, "Your name can have at most 150 characters; this one has 151."),
        (
            "Dana <ceo@example.test>",
            "Write your name without an e-mail address or the characters @, &lt; and &gt;.",
        ),
    ],
)
def test_a_refused_name_says_why_at_its_field_and_writes_nothing(dana, people, name, message):
    before = dana_contact().name
    refused = dana.post("/portal/profile", {"name": name})
    assert refused.status_code == 400
    assert message in refused.content.decode()
    assert b'role="alert"' in refused.content
    assert dana_contact().name == before and renames() == []


def test_a_name_given_with_a_report_is_kept_and_shown_on_the_ticket(dana, forms, people):
    url, data = lost_device(forms, requester_name="Dana Reyes")
    form = dana.get(url)
    assert b"Your name (optional)" in form.content
    assert dana.post(url, data).status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.requester.name == "Dana Reyes"
    assert len(renames()) == 1
    # An empty name with the next report leaves it as it is.
    url, data = lost_device(forms, requester_name="")
    assert dana.post(url, data).status_code == 302
    assert dana_contact().name == "Dana Reyes" and len(renames()) == 1


def test_a_refused_report_keeps_the_old_name_and_a_refused_name_opens_no_ticket(dana, forms, people):
    # The report is refused after the name was checked: the name is not half-written.
    access = f"/portal/report/{forms['Request access'].pk}"
    refused = dana.post(
        access,
        {
            "subject": "Finance share",
            "cf_system": "fs01",
            "cf_access_level": "Read",
            "cf_approver": "not-an-address",
            "requester_name": "Dana Reyes",
        },
    )
    assert refused.status_code == 400
    assert dana_contact().name == "" and renames() == []

    url, data = lost_device(forms, requester_name="D" * 151)
    bad_name = dana.post(url, data)
    assert bad_name.status_code == 400
    assert "at most 150 characters" in bad_name.content.decode()
    assert not Ticket.objects.exists() and dana_contact().name == "" and renames() == []


def test_only_a_signed_in_requester_has_a_name_page(client, people):
    assert client.get("/portal/profile")["Location"].startswith("/portal/sign-in?next=")
    assert client.post("/portal/profile", {"name": "Mallory"}).status_code == 302
    # An agent's console session is a stranger in the portal.
    client.force_login(people.carol.user)
    assert client.post("/portal/profile", {"name": "Mallory"})["Location"].startswith("/portal/sign-in")
    assert renames() == []
