"""The knowledge base: services (audited, refusals write nothing), Markdown sanitised, full-text search on
the database's engine, the public selector the portal uses, suggestions for a ticket, and the pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.core.errors import NotFound, PermissionDenied, ServiceError
from socdesk.kb.markdown import markdown_html
from socdesk.kb.models import Article, Category
from socdesk.kb.search import suggestion_terms
from socdesk.kb.selectors import (
    article_get_from,
    article_search,
    articles_for_agents,
    articles_public,
    articles_suggested_for,
)
from socdesk.kb.services import (
    article_create,
    article_delete,
    article_update,
    category_create,
    category_delete,
)
from socdesk.tickets.services import ticket_create
from tests.console_helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(people):
    admin, alice = Actor.for_agent(people.admin), Actor.for_agent(people.alice)
    phishing = category_create(actor=admin, name="Phishing", description="Reported e-mails", order=1)
    endpoint = category_create(actor=admin, name="Endpoint", order=2)
    return {
        "phishing": phishing,
        "endpoint": endpoint,
        "report": article_create(
            actor=alice,
            title="How to report a suspicious e-mail",
            body="Forward the message as an attachment to **phishing@example.test**.",
            visibility="public",
            category=phishing,
        ),
        "triage": article_create(
            actor=alice,
            title="Phishing triage for analysts",
            body="Check SPF and DKIM, then search the mail logs for other recipients of evil.example.",
            category=phishing,
        ),
        "edr": article_create(
            actor=Actor.for_agent(people.bob),
            title="Isolating a host with the EDR",
            body="Encoded PowerShell from winword.exe: isolate the host, collect memory.",
            category=endpoint,
        ),
    }


def test_services_write_and_audit(people, kb):
    assert AuditEvent.objects.filter(action="kb_category.created").count() == 2
    event = AuditEvent.objects.get(action="kb_article.created", target_id=str(kb["triage"].pk))
    assert event.after["visibility"] == "internal" and event.after["category"] == "Phishing"
    assert kb["triage"].author == people.alice
    article_update(
        actor=Actor.for_agent(people.bob),
        article=kb["triage"],
        title="Phishing triage",
        body="Updated.",
        visibility="internal",
        category=None,
    )
    event = AuditEvent.objects.get(action="kb_article.updated")
    assert event.before["title"] == "Phishing triage for analysts" and event.after["category"] is None


def test_bad_input_is_refused_and_nothing_is_written(people, kb):
    alice = Actor.for_agent(people.alice)
    before = Article.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ServiceError) as refused:
        article_create(actor=alice, title=" ", body="", visibility="secret")
    assert set(refused.value.fields) == {"title", "body", "visibility"}
    with pytest.raises(PermissionDenied):
        category_create(actor=alice, name="Mine")
    with pytest.raises(ServiceError, match="already a category 'Phishing'"):
        category_create(actor=Actor.for_agent(people.admin), name="phishing")
    with pytest.raises(ServiceError, match="holds 2 articles"):
        category_delete(actor=Actor.for_agent(people.admin), category=kb["phishing"])
    assert (Article.objects.count(), AuditEvent.objects.count()) == before
    assert Category.objects.count() == 2


def test_only_the_author_or_an_admin_deletes(people, kb):
    with pytest.raises(PermissionDenied):
        article_delete(actor=Actor.for_agent(people.bob), article=kb["triage"])
    article_delete(actor=Actor.for_agent(people.admin), article=kb["triage"])
    assert not Article.objects.filter(title__startswith="Phishing triage").exists()
    assert AuditEvent.objects.filter(action="kb_article.deleted").count() == 1


@pytest.mark.parametrize(
    ("markdown", "absent", "present"),
    [
        ("<script>alert(1)</script>", "<script", "&lt;script&gt;"),
        ('<img src=x onerror="alert(1)">', "<img", "&lt;img"),
        ("[click](javascript:alert(1))", 'href="javascript', "[click]"),
        ('<a href="https://x.test" onclick="steal()">x</a>', "<a", "&lt;a"),
        ("![tracker](https://tracker.example/pixel.png)", "<img", ""),
        ("[docs](https://docs.example/)", "onclick", 'rel="noopener noreferrer nofollow"'),
        ("| a | b |\n|---|---|\n| <b>1</b> | 2 |", "<b>", "<td>&lt;b&gt;1&lt;/b&gt;</td>"),
    ],
)
def test_hostile_markdown_and_html_are_sanitised(markdown, absent, present):
    html = str(markdown_html(markdown))
    assert absent not in html
    assert present in html


def test_full_text_search_ranks_title_matches_first_and_honours_negation(kb):
    found, errors = article_search(articles_for_agents(), "phishing")
    assert errors == []
    assert [a.title for a in found][:1] == ["Phishing triage for analysts"]
    assert {a.title for a in found} == {"Phishing triage for analysts", "How to report a suspicious e-mail"}
    found, _ = article_search(articles_for_agents(), '"isolate the host"')
    assert [a.title for a in found] == ["Isolating a host with the EDR"]
    found, _ = article_search(articles_for_agents(), "phishing -spf")
    assert [a.title for a in found] == ["How to report a suspicious e-mail"]
    found, errors = article_search(articles_for_agents(), "status:new nothinglikethis")
    assert found == [] and "words and phrases only" in errors[0]


def test_search_follows_edits_and_deletes(people, kb):
    article_update(
        actor=Actor.for_agent(people.alice),
        article=kb["edr"],
        title="Isolating a host",
        body="Use the quarantine button.",
        visibility="internal",
        category=kb["endpoint"],
    )
    assert article_search(articles_for_agents(), "powershell")[0] == []
    assert [a.title for a in article_search(articles_for_agents(), "quarantine")[0]] == ["Isolating a host"]
    article_delete(actor=Actor.for_agent(people.bob), article=kb["edr"])
    assert article_search(articles_for_agents(), "quarantine")[0] == []


def test_internal_articles_never_reach_the_public_selector(kb):
    assert [a.title for a in articles_public()] == ["How to report a suspicious e-mail"]
    with pytest.raises(NotFound):
        article_get_from(articles_public(), kb["triage"].pk)
    found, _ = article_search(articles_public(), "phishing")
    assert [a.title for a in found] == ["How to report a suspicious e-mail"]


def test_suggestion_terms_keep_telling_words_and_observables():
    terms = suggestion_terms("Fwd: Phishing e-mail from evil.example", ["203.0.113.7", "evil.example"])
    assert terms == ["phishing", "e-mail", "evil.example", "203.0.113.7"]


def test_suggested_articles_for_a_ticket_in_three_queries(people, kb):
    ticket = ticket_create(
        actor=Actor.for_agent(people.alice),
        subject="Encoded PowerShell on WS-042",
        department=people.soc,
        body="winword.exe spawned powershell",
    )
    with CaptureQueriesContext(connection) as queries:
        suggested = articles_suggested_for(ticket)
    assert [a.title for a in suggested] == ["Isolating a host with the EDR"]
    assert len(queries) == 3  # the observables, the ranked search, the articles read by id


def test_pages_list_search_read_and_sanitise(people, kb):
    client = client_for(people.carol)  # every agent reads the knowledge base
    page = client.get("/kb/").content.decode()
    assert "Phishing" in page and "Endpoint" in page and "Isolating a host with the EDR" in page
    page = client.get("/kb/", {"q": "dkim"}).content.decode()
    assert "1 article for" in page and "Phishing triage for analysts" in page
    hostile = article_create(
        actor=Actor.for_agent(people.alice), title="Hostile", body="<script>alert(1)</script> **ok**"
    )
    page = client.get(f"/kb/articles/{hostile.pk}").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page and "<strong>ok</strong>" in page


def test_writing_an_article_with_preview(people, kb):
    client = client_for(people.alice)
    data = {
        "title": "VPN reset",
        "visibility": "public",
        "category": kb["endpoint"].pk,
        "body": "# Steps\n1. a",
    }
    page = client.post("/kb/articles/new", data | {"action": "preview"}).content.decode()
    assert "<h1>Steps</h1>" in page and not Article.objects.filter(title="VPN reset").exists()
    response = client.post("/kb/articles/new", data | {"action": "save"})
    article = Article.objects.get(title="VPN reset")
    assert response.status_code == 302 and article.author == people.alice
    response = client.post("/kb/articles/new", data | {"title": " ", "action": "save"})
    assert response.status_code == 400 and Article.objects.filter(title="VPN reset").count() == 1


def test_suggestions_panel_is_404_for_an_agent_who_cannot_see_the_ticket(people, soc_ticket, kb):
    url = f"/kb/tickets/{soc_ticket.number}/suggested"
    assert client_for(people.carol).get(url).status_code == 404
    page = client_for(people.bob).get(url).content.decode()
    assert "Suggested articles" in page and "Isolating a host with the EDR" in page


def test_a_tickets_observables_bring_suggestions_its_subject_does_not(people, kb):
    ticket = ticket_create(
        actor=Actor.for_agent(people.alice),
        subject="Odd traffic",
        department=people.soc,
        body="See the proxy logs.",
        observables=[("domain", "evil.example")],
    )
    assert [a.title for a in articles_suggested_for(ticket)] == ["Phishing triage for analysts"]
    plain = ticket_create(
        actor=Actor.for_agent(people.alice), subject="Odd traffic", department=people.soc, body="x"
    )
    assert articles_suggested_for(plain) == []
