"""Collaborators: contacts copied on a ticket, added and removed by address through audited services."""

from __future__ import annotations

import pytest

from socdesk.accounts.models import Contact
from socdesk.accounts.services import access_grant, agent_create, role_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.tickets import services
from socdesk.tickets.history import describe_event
from socdesk.tickets.models import Collaborator, Ticket
from socdesk.tickets.selectors import collaborator_addresses, collaborator_of, ticket_collaborators
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db


def written():
    """What a refused call must leave unchanged."""
    return Collaborator.objects.count(), Contact.objects.count(), AuditEvent.objects.count()


def add(people, ticket, email, agent=None, **kwargs):
    return services.collaborator_add(
        actor=people.actor(agent or people.alice), ticket=ticket, email=email, **kwargs
    )


# --- services -----------------------------------------------------------------------------------------


def test_adding_an_address_creates_the_contact_and_records_it(people, soc_ticket):
    version = Ticket.objects.get(pk=soc_ticket.pk).version
    added = add(people, soc_ticket, "  Eve.Manager@Example.TEST ", name="Eve Manager")
    assert added.contact.email == "eve.manager@example.test" and added.contact.name == "Eve Manager"
    assert (added.source, added.added_by) == ("manual", "alice")
    assert collaborator_addresses(soc_ticket) == ["eve.manager@example.test"]
    assert collaborator_of(soc_ticket, "EVE.manager@example.test")
    event = AuditEvent.objects.get(action="ticket.collaborator_added")
    assert event.actor_label == "alice" and event.target_id == str(soc_ticket.pk)
    assert event.after["email"] == "eve.manager@example.test" and event.after["source"] == "manual"
    assert describe_event(event) == "added the collaborator eve.manager@example.test"
    assert AuditEvent.objects.filter(
        action="contact.created", after__email="eve.manager@example.test"
    ).exists()
    # Who is copied changes nothing an agent may be editing: an open form does not go stale.
    assert Ticket.objects.get(pk=soc_ticket.pk).version == version


def test_an_existing_contact_is_reused(people, soc_ticket):
    Contact.objects.create(email="frank@example.test", name="Frank")
    added = add(people, soc_ticket, "frank@example.test", name="Someone else")
    assert Contact.objects.filter(email="frank@example.test").count() == 1 and added.contact.name == "Frank"


def test_addresses_are_listed_in_the_order_they_were_added(people, soc_ticket):
    for address in ("zed@example.test", "amy@example.test", "mia@example.test"):
        add(people, soc_ticket, address)
    assert collaborator_addresses(soc_ticket) == ["zed@example.test", "amy@example.test", "mia@example.test"]
    assert ticket_collaborators(soc_ticket).first().contact.email == "zed@example.test"


@pytest.mark.parametrize(
    ("email", "sentence"),
    [
        ("", "Write the collaborator's e-mail address"),
        ("   ", "Write the collaborator's e-mail address"),
        ("not an address", "'not an address' is not an e-mail address; write it as name@example.com."),
        ("eve@", "'eve@' is not an e-mail address"),
        ("eve@example", "'eve@example' is not an e-mail address"),
        ("a" * 250 + "@example.test", "is not an e-mail address"),
    ],
)
def test_an_invalid_address_is_refused_and_nothing_is_written(people, soc_ticket, email, sentence):
    before = written()
    with pytest.raises(ServiceError) as err:
        add(people, soc_ticket, email)
    assert sentence in err.value.message and "email" in err.value.fields
    assert written() == before


def test_the_requester_is_refused(people, soc_ticket):
    before = written()
    with pytest.raises(ServiceError) as err:
        add(people, soc_ticket, "DANA@example.test")
    assert (
        err.value.message == "dana@example.test is the ticket's requester, who receives its replies already."
    )
    assert err.value.fields == {"email": "requester"} and written() == before


def test_a_duplicate_is_refused(people, soc_ticket):
    add(people, soc_ticket, "eve@example.test")
    before = written()
    with pytest.raises(ServiceError) as err:
        add(people, soc_ticket, "Eve@Example.test", agent=people.bob)
    assert err.value.message == f"eve@example.test is already a collaborator on {soc_ticket.number}."
    assert err.value.fields == {"email": "duplicate"} and written() == before


def test_an_agents_address_is_refused(people, soc_ticket):
    before = written()
    with pytest.raises(ServiceError) as err:
        add(people, soc_ticket, "Bob@example.test")
    assert "bob@example.test is an agent's address" in err.value.message and written() == before


def test_another_departments_agent_gets_not_found(people, soc_ticket):
    before = written()
    with pytest.raises(NotFound):
        add(people, soc_ticket, "eve@example.test", agent=people.carol)
    add(people, soc_ticket, "eve@example.test")
    before = written()
    with pytest.raises(NotFound) as err:
        services.collaborator_remove(
            actor=people.actor(people.carol), ticket=soc_ticket, email="eve@example.test"
        )
    assert err.value.message == f"Ticket {soc_ticket.number} was not found." and written() == before


def test_an_agent_who_may_not_reply_is_refused(people, soc_ticket):
    setup = Actor.system("test-setup")
    viewer = role_create(actor=setup, name="Viewer", permissions=["view"])
    dave = agent_create(actor=setup, username="dave", email="dave@example.test", password=None)
    access_grant(actor=setup, agent=dave, department=people.soc, role=viewer)
    before = written()
    with pytest.raises(PermissionDenied) as err:
        add(people, soc_ticket, "eve@example.test", agent=dave)
    assert "reply" in err.value.message.lower() and written() == before


def test_removing_takes_them_off_and_keeps_the_contact(people, soc_ticket):
    add(people, soc_ticket, "eve@example.test")
    services.collaborator_remove(actor=people.actor(people.bob), ticket=soc_ticket, email=" EVE@example.test")
    assert (
        collaborator_addresses(soc_ticket) == [] and Contact.objects.filter(email="eve@example.test").exists()
    )
    event = AuditEvent.objects.get(action="ticket.collaborator_removed")
    assert event.actor_label == "bob" and describe_event(event) == "removed the collaborator eve@example.test"


def test_removing_someone_not_on_the_ticket_is_refused(people, soc_ticket):
    before = written()
    with pytest.raises(NotFound) as err:
        services.collaborator_remove(
            actor=people.actor(people.alice), ticket=soc_ticket, email="eve@example.test"
        )
    assert err.value.message == f"eve@example.test is not a collaborator on {soc_ticket.number}."
    assert written() == before


def test_adding_from_an_email_skips_what_an_agent_would_be_told_about(people, soc_ticket):
    add(people, soc_ticket, "eve@example.test")
    sender = Actor(kind="user", label="Dana Reyes <dana@example.test>")
    added = services.collaborators_add_from_email(
        actor=sender,
        ticket=soc_ticket,
        people=[
            ("Eve", "eve@example.test"),  # already on the ticket
            ("Dana", "dana@example.test"),  # the requester
            ("Alice", "ALICE@example.test"),  # an agent
            ("", "not-an-address"),
            ("Gus Grant", "Gus@Example.test"),
            ("Gus again", "gus@example.test"),
        ],
    )
    assert [c.contact.email for c in added] == ["gus@example.test"]
    assert added[0].source == "email_cc" and added[0].contact.name == "Gus Grant"
    event = AuditEvent.objects.get(action="ticket.collaborator_added", after__email="gus@example.test")
    assert describe_event(event) == "added the collaborator gus@example.test (copied on their e-mail)"
    assert collaborator_addresses(soc_ticket) == ["eve@example.test", "gus@example.test"]


# --- the ticket page ----------------------------------------------------------------------------------


def test_the_ticket_page_shows_collaborators_and_adds_and_removes_them(people, soc_ticket):
    alice = client_for(people.alice)
    url = f"/tickets/{soc_ticket.number}/"
    assert "Nobody besides the requester receives the replies." in alice.get(url).content.decode()
    response = alice.post(f"{url}collaborator_add", {"email": "Eve@Example.test"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-collaborator="eve@example.test"' in html
    assert f"eve@example.test is now a collaborator on {soc_ticket.number}." in html
    assert "added the collaborator eve@example.test" in html  # the history panel
    response = alice.post(f"{url}collaborator_remove", {"email": "eve@example.test"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert (
        'data-collaborator="eve@example.test"' not in html
        and "eve@example.test is no longer a collaborator." in html
    )
    assert "removed the collaborator eve@example.test" in html


def test_the_ticket_page_says_why_an_address_is_refused_and_keeps_it(people, soc_ticket):
    alice = client_for(people.alice)
    before = written()
    response = alice.post(f"/tickets/{soc_ticket.number}/collaborator_add", {"email": "eve at example"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "&#x27;eve at example&#x27; is not an e-mail address; write it as name@example.com." in html
    assert 'value="eve at example"' in html and written() == before
    response = alice.post(f"/tickets/{soc_ticket.number}/collaborator_add", {"email": ""})
    assert response.status_code == 400 and "Write the collaborator" in response.content.decode()


def test_the_ticket_page_of_another_department_is_not_found(people, soc_ticket):
    carol = client_for(people.carol)
    before = written()
    response = carol.post(f"/tickets/{soc_ticket.number}/collaborator_add", {"email": "eve@example.test"})
    assert response.status_code == 404 and written() == before


def test_an_agent_who_may_not_reply_sees_the_list_without_the_forms(people, soc_ticket):
    add(people, soc_ticket, "eve@example.test")
    setup = Actor.system("test-setup")
    viewer = role_create(actor=setup, name="Viewer", permissions=["view"])
    dave = agent_create(actor=setup, username="dave", email="dave@example.test", password=None)
    access_grant(actor=setup, agent=dave, department=people.soc, role=viewer)
    html = client_for(dave).get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert 'data-collaborator="eve@example.test"' in html
    assert "Add collaborator" not in html and 'data-action="collaborator_remove"' not in html
