"""Portal fixtures: the demo's three portal forms, a requester with a ticket, and signing a test client in
through the real link (written by the service, spent by the page)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from socdesk.accounts.models import Contact
from socdesk.core.actor import Actor
from socdesk.demo.portal_forms import portal_forms_create
from socdesk.portal.models import SignInLink
from socdesk.portal.signin import link_hash
from socdesk.tickets.services import ticket_create

FIXTURES = Path(__file__).parent / "fixtures"
PHISH_EML = FIXTURES / "suspicious-invoice.eml"


@pytest.fixture
def forms(people):
    """The three portal topics by name: suspicious e-mail (SOC), lost device and access (IT)."""
    return {
        topic.name: topic for topic in portal_forms_create({"SOC": people.soc, "IT Help Desk": people.it})
    }


@pytest.fixture
def dana_ticket(people):
    """A SOC ticket an agent opened for dana@example.test (its description is the agent's note), with a
    message from Dana, a reply and an internal note."""
    from socdesk.portal.signin import requester_actor
    from socdesk.tickets.services import ticket_add_message, ticket_note, ticket_reply

    alice = Actor.for_agent(people.alice, ip="10.0.0.5")
    ticket = ticket_create(
        actor=alice,
        subject="Odd login prompt",
        department=people.soc,
        body="A page asked for my password twice.",
        requester_email="dana@example.test",
        requester_name="Dana Reyes",
    )
    ticket_add_message(actor=requester_actor(ticket.requester, None), ticket=ticket, body="It asked again.")
    ticket_reply(actor=alice, ticket=ticket, body="Thanks Dana, we are looking at it.")
    ticket_note(actor=alice, ticket=ticket, body="INTERNAL-ONLY: host WS-042 isolated, hash 9f86d081.")
    return ticket


def make_link(email: str, *, minutes: int = 15, used: bool = False) -> str:
    """A sign-in link row as `link_send` writes it; returns its secret (the part only the mail holds)."""
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    SignInLink.objects.create(
        email=email,
        token_hash=link_hash(secret),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
        used_at=now if used else None,
    )
    return secret


def sign_in(client, email: str) -> Contact:
    """Sign the client in to the portal as `email` through the link page."""
    response = client.post(f"/portal/sign-in/{make_link(email)}")
    assert response.status_code == 302, response.content[:500]
    return Contact.objects.get(email=email)
