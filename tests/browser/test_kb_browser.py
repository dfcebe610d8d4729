"""The knowledge base in a real browser: by category, search, reading, writing with a preview, and the
ticket page's suggested articles."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from socdesk.accounts.testing import PERSONA_PASSWORD
from socdesk.core.actor import Actor
from socdesk.kb.models import Article
from socdesk.kb.services import article_create, category_create
from socdesk.tickets.services import ticket_create
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

TRIAGE = """Work a reported phishing e-mail in this order:

1. Collect the reported message (`.eml`).
2. Check **SPF**, **DKIM** and DMARC.
3. Search the mail logs for other recipients.

| Verdict | Next step |
|---|---|
| Malicious | Block the URL, reset the password |
| Benign | Close with a verdict |

<script>alert("never runs")</script>
"""


def _knowledge(cast):
    admin, alice = Actor.for_agent(cast.admin), Actor.for_agent(cast.alice)
    phishing = category_create(actor=admin, name="Phishing", description="Reported and detected e-mail")
    endpoint = category_create(actor=admin, name="Endpoint", order=1)
    article_create(actor=alice, title="Phishing triage", body=TRIAGE, category=phishing)
    article_create(
        actor=alice,
        title="How to report a suspicious e-mail",
        body="Use **Report phishing** in your mail client.",
        visibility="public",
        category=phishing,
    )
    article_create(
        actor=Actor.for_agent(cast.bob),
        title="Isolating a host",
        body="Isolate the host in the EDR console, then collect memory.",
        category=endpoint,
    )


def test_browse_search_read_and_write_with_preview(page, live_server, cast, screenshots):
    _knowledge(cast)
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 860})
    sign_in(page, base, "alice", PERSONA_PASSWORD)
    page.get_by_role("link", name="Knowledge base").click()
    expect(page.get_by_role("heading", name="Knowledge base")).to_be_visible()
    expect(page.get_by_role("region", name="Phishing")).to_contain_text("Phishing triage")
    expect(page.get_by_role("region", name="Endpoint")).to_contain_text("Isolating a host")
    page.screenshot(path=screenshots / "kb_home.png", full_page=True)

    page.get_by_label("Search articles").fill("dkim")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-article]")).to_have_count(1)
    page.screenshot(path=screenshots / "kb_search.png", full_page=True)
    page.get_by_role("link", name="Phishing triage").click()
    body = page.locator("[data-article-body]")
    expect(body.locator("table")).to_contain_text("Block the URL")
    expect(body.locator("strong").first).to_have_text("SPF")
    expect(body).to_contain_text('<script>alert("never runs")</script>')  # shown as text, never run
    page.screenshot(path=screenshots / "kb_article.png", full_page=True)

    page.goto(f"{base}/kb/articles/new")
    page.get_by_label("Title").fill("Resetting a VPN token")
    page.get_by_label("Category").select_option(label="Endpoint")
    page.get_by_label("Visibility").select_option(label="Public (requesters too)")
    page.get_by_label("Body (Markdown)").fill("## Steps\n\n- Open the portal\n- Choose *Reset token*")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-preview] h2")).to_have_text("Steps")
    page.screenshot(path=screenshots / "kb_edit_preview.png", full_page=True)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", name="Resetting a VPN token")).to_be_visible()
    article = Article.objects.get(title="Resetting a VPN token")
    assert (article.visibility, article.category.name, article.author) == ("public", "Endpoint", cast.alice)


def test_the_ticket_page_suggests_articles(page, live_server, cast, screenshots):
    _knowledge(cast)
    ticket = ticket_create(
        actor=Actor.for_agent(cast.alice),
        subject="Phishing e-mail reported by finance",
        department=cast.soc,
        body="Invoice with a link.",
    )
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 860})
    sign_in(page, base, "bob", PERSONA_PASSWORD)
    page.goto(f"{base}/tickets/{ticket.number}/")
    panel = page.get_by_role("region", name="Suggested articles")
    # Both phishing articles (their order is each database's ranking), not the endpoint one.
    expect(panel.locator("[data-suggested]")).to_have_count(2)
    expect(panel).to_contain_text("Phishing triage")
    expect(panel).to_contain_text("How to report a suspicious e-mail")
    expect(panel).not_to_contain_text("Isolating a host")
    panel.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "kb_suggested_on_ticket.png", full_page=True)
