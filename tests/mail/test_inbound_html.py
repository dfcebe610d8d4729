"""A received e-mail's HTML version: kept sanitised, linked under its message on the ticket, served to
agents who see the ticket as a sandboxed page of its own that loads nothing and runs nothing."""

from __future__ import annotations

import base64

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


# --- inline (cid:) images ------------------------------------------------------------------------------

POLICY = "default-src 'none'; style-src 'self'; img-src data:; form-action 'none'; sandbox"


def test_inline_images_are_drawn_as_data_uris_under_the_same_policy(people):
    receive(corpus.inline_images())
    stored = InboundMessage.objects.get()
    assert set(stored.inline_images) == {"shield@example.test", "fake@example.test"}
    response = client_for(people.alice).get(f"/mail/inbound/{stored.pk}/html")
    page = response.content.decode()
    logo = "data:image/png;base64," + base64.b64encode(corpus.png()).decode()
    # Both references to the picture drawn; the text posing as a picture and the unknown cid: left alone.
    assert page.count(f'src="{logo}"') == 2
    assert 'src="cid:fake@example.test"' in page and 'src="cid:missing@example.test"' in page
    assert "Not drawn: x.png (not a picture: text/plain)" in page
    assert response["Content-Security-Policy"] == POLICY  # data: was already allowed: nothing widened


def test_an_image_over_the_cap_is_not_drawn_and_the_bar_says_so(people, monkeypatch):
    monkeypatch.setattr("socdesk.mail.inbound_html.INLINE_IMAGE_MAX_BYTES", 50)
    receive(corpus.inline_images())
    stored = InboundMessage.objects.get()
    page = client_for(people.alice).get(f"/mail/inbound/{stored.pk}/html").content.decode()
    assert "data:image/png" not in page and 'src="cid:shield@example.test"' in page
    assert f"shield.png (too large to draw here: {len(corpus.png()):,} bytes)" in page


def test_inline_images_only_for_agents_who_see_the_ticket(people):
    receive(corpus.inline_images())
    stored = InboundMessage.objects.get()
    response = client_for(people.carol).get(f"/mail/inbound/{stored.pk}/html")
    assert response.status_code == 404 and b"data:image" not in response.content
    assert client_for(people.bob).get(f"/mail/inbound/{stored.pk}/html").status_code == 200


def test_an_inline_image_over_the_attachment_limit_is_not_mapped(people, settings):
    settings.ATTACHMENT_MAX_BYTES = 100  # the PNG (and the raw message) are not stored
    receive(corpus.inline_images())
    stored = InboundMessage.objects.get()
    assert stored.inline_images == {"fake@example.test": stored.inline_images["fake@example.test"]}
    page = client_for(people.alice).get(f"/mail/inbound/{stored.pk}/html").content.decode()
    assert "data:image" not in page
