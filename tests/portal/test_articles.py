"""Public knowledge-base articles shown to requesters before they send a report, from what they type
as the title (or the form's name); internal articles never, and their pages are a 404."""

from __future__ import annotations

import pytest

from socdesk.core.actor import Actor
from socdesk.kb.services import article_create
from tests.portal.conftest import sign_in


@pytest.fixture
def articles(people):
    alice = Actor.for_agent(people.alice)
    return {
        "phish": article_create(
            actor=alice,
            title="How to spot a phishing e-mail",
            body="Look at the **sender** and hover over links.\n\n<script>alert(1)</script>",
            visibility="public",
        ),
        "invoice": article_create(
            actor=alice,
            title="Unexpected invoice requests",
            body="Call the supplier first.",
            visibility="public",
        ),
        "internal": article_create(
            actor=alice, title="Phishing triage runbook (internal)", body="INTERNAL-RUNBOOK: block the URL."
        ),
    }


def test_the_report_form_suggests_public_articles_only(client, forms, articles):
    sign_in(client, "dana@example.test")
    topic = forms["Report a suspicious e-mail"]
    page = client.get(f"/portal/report/{topic.pk}").content.decode()
    # Before typing: from the form's name ("suspicious e-mail").
    assert "How to spot a phishing e-mail" in page and "runbook" not in page
    typed = client.get(f"/portal/report/{topic.pk}/articles", {"subject": "strange invoice from a supplier"})
    html = typed.content.decode()
    assert "Unexpected invoice requests" in html and "runbook" not in html
    assert f"/portal/articles/{articles['invoice'].pk}" in html
    nothing = client.get(f"/portal/report/{topic.pk}/articles", {"subject": "runbook"}).content.decode()
    assert "No help article matches yet." in nothing


def test_a_public_article_reads_sanitised_and_an_internal_one_is_404(client, articles, db):
    page = client.get(f"/portal/articles/{articles['phish'].pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<strong>sender</strong>" in html and "<script>alert(1)</script>" not in html
    assert client.get(f"/portal/articles/{articles['internal'].pk}").status_code == 404
    assert client.get("/portal/articles/999999").status_code == 404


def test_suggestions_need_a_signed_in_requester(client, forms, articles):
    topic = forms["Report a suspicious e-mail"]
    assert client.get(f"/portal/report/{topic.pk}/articles", {"subject": "invoice"}).status_code == 302
