"""In a real Chromium: an agent opens a received e-mail's HTML version from its ticket and sees its inline
(cid:) image drawn, under the page's strict policy; an agent of another department gets a 404."""

from __future__ import annotations

import pytest

from socdesk.accounts.testing import PERSONA_PASSWORD, make_personas
from socdesk.core.actor import Actor
from socdesk.mail.inbound import mail_receive
from socdesk.mail.models import InboundMessage
from tests.browser.conftest import sign_in
from tests.mail import corpus

pytestmark = pytest.mark.browser


def test_the_html_version_draws_the_inline_image(page, live_server, transactional_db, screenshots):
    make_personas()
    ticket = mail_receive(corpus.inline_images(), actor=Actor.system("mail:pipe"), channel="pipe").ticket
    stored = InboundMessage.objects.get()
    page.set_viewport_size({"width": 1000, "height": 700})
    base = live_server.url
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="HTML version of this e-mail").click()
    html_page = opened.value
    html_page.wait_for_load_state()
    assert html_page.url == f"{base}/mail/inbound/{stored.pk}/html"
    logo = html_page.locator("img[alt=shield]")
    logo.wait_for()
    # Drawn: the browser decoded the picture (a cid: it cannot load has no natural size).
    assert logo.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]") == [True, 48, 24]
    assert html_page.locator("img[alt=again]").evaluate("img => img.naturalWidth") == 48
    assert html_page.locator("img[alt=fake]").evaluate("img => img.naturalWidth") == 0
    assert "Not drawn: x.png" in html_page.locator("[data-html-version]").inner_text()
    html_page.screenshot(path=screenshots / "mail-html-inline-image.png", full_page=True)
    # Drawn under the unchanged policy: data: images only, no script, an origin of its own.
    reloaded = html_page.reload()
    assert reloaded is not None
    assert reloaded.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'self'; img-src data:; form-action 'none'; sandbox"
    )
    assert html_page.locator("img[alt=shield]").evaluate("img => img.naturalWidth") == 48

    other = page.context.browser.new_context().new_page()  # carol's own session
    sign_in(other, base, "carol", PERSONA_PASSWORD)
    response = other.goto(f"{base}/mail/inbound/{stored.pk}/html")
    assert response is not None and response.status == 404
    drawn = "imgs => imgs.filter(i => i.src.startsWith('data:')).length"
    assert other.locator("img").evaluate_all(drawn) == 0
    other.context.close()
