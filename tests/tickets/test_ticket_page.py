"""The ticket page's header and the composer's draft marker, over HTTP."""

import pytest

from socdesk.tickets.models import Ticket
from tests.console_helpers import client_for


@pytest.fixture
def alice(people):
    return client_for(people.alice)


def test_ticket_header_shows_no_internal_version(alice, soc_ticket):
    html = alice.get(f"/tickets/{soc_ticket.number}/").content.decode()
    head = html.split('<header class="ticket-head">', 1)[1].split("</header>", 1)[0]
    assert soc_ticket.number in head
    assert f"v{soc_ticket.version}" not in head
    # The version still travels in every form, so a stale edit is refused.
    assert f'name="version" value="{soc_ticket.version}"' in html


def test_composer_is_marked_sent_only_after_a_reply_went_out(alice, soc_ticket):
    page = alice.get(f"/tickets/{soc_ticket.number}/").content.decode()
    assert f'data-draft-key="{soc_ticket.number}"' in page and "data-draft-sent" not in page

    severity = alice.post(
        f"/tickets/{soc_ticket.number}/severity",
        {"version": soc_ticket.version, "severity": "critical"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "data-draft-sent" not in severity  # a sidebar action leaves the draft alone

    version = Ticket.objects.get(pk=soc_ticket.pk).version
    sent = alice.post(
        f"/tickets/{soc_ticket.number}/compose",
        {"version": version, "body": "Blocked the sender.", "kind": "reply"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Reply queued for e-mail to dana@example.test." in sent and "data-draft-sent" in sent

    refused = alice.post(
        f"/tickets/{soc_ticket.number}/compose",
        {"version": version, "body": "Stale text.", "kind": "reply"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "changed since you loaded it" in refused and "data-draft-sent" not in refused
