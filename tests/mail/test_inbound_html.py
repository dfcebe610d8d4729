"""A received e-mail's HTML version: kept sanitised, linked under its message on the ticket, served to
agents who see the ticket as a sandboxed page of its own that loads nothing and runs nothing."""

from __future__ import annotations

import pytest

from socdesk.core.actor import Actor
from socdesk.mail.bans import ban_add
from socdesk.mail.inbound import mail_receive
from socdesk.mail.models import InboundMessage
from tests.console_helpers import client_for
from tests.mail import corpus

PIPE = Actor.system("mail:pipe")
pytestmark = pytest.mark.django_db


def receive(raw: bytes):
    return mail_receive(raw, actor=PIPE, channel="pipe")


def test_the_html_part_is_kept_sanitised_and_linked_under_its_message(people):
    ticket = receive(corpus.alternative()).ticket
    stored = InboundMessage.objects.get()
    assert "<b>HTML</b>" in stored.html and "<script>" not in stored.html and "alert(1)" not in stored.html
    page = client_for(people.alice).get(f"/tickets/{ticket.number}/").content.decode()
    assert f'href="/mail/inbound/{stored.pk}/html" target="_blank" rel="noopener noreferrer"' in page
    # The message's text is what the thread shows; the HTML is never put into the console's page.
    assert "The plain text." in page and "<b>HTML</b>" not in page


def test_the_html_version_is_a_sandboxed_page_that_loads_nothing_unless_asked(people):
    receive(corpus.alternative())
    stored = InboundMessage.objects.get()
    response = client_for(people.alice).get(f"/mail/inbound/{stored.pk}/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<p>The <b>HTML</b> text.</p>" in html and "<script>" not in html
    assert "Remote images are blocked" in html
    policy = response["Content-Security-Policy"]
    assert policy == "default-src 'none'; style-src 'self'; img-src data:; form-action 'none'; sandbox"
    assert response["Referrer-Policy"] == "no-referrer" and response["X-Frame-Options"] == "DENY"
    shown = client_for(people.alice).get(f"/mail/inbound/{stored.pk}/html?images=1")
    assert "img-src data: https: http:;" in shown["Content-Security-Policy"]
    assert (
        "sandbox" in shown["Content-Security-Policy"] and "Remote images are shown" in shown.content.decode()
    )


def test_another_departments_agent_gets_404(people):
    receive(corpus.alternative())
    stored = InboundMessage.objects.get()
    assert client_for(people.carol).get(f"/mail/inbound/{stored.pk}/html").status_code == 404
    assert client_for(people.alice).get(f"/mail/inbound/{stored.pk + 1}/html").status_code == 404


def test_a_text_only_message_has_no_html_version(people):
    ticket = receive(corpus.plain("Only text.\n")).ticket
    stored = InboundMessage.objects.get()
    assert stored.html == ""
    assert "HTML version" not in client_for(people.alice).get(f"/tickets/{ticket.number}/").content.decode()
    assert client_for(people.alice).get(f"/mail/inbound/{stored.pk}/html").status_code == 404


def test_a_banned_senders_html_is_not_kept(people):
    ban_add(actor=Actor.system("test"), entry="ann.analyst@example.com")
    assert receive(corpus.alternative()).outcome == "banned"
    assert InboundMessage.objects.get().html == ""
