"""REST for canned responses (scoped: carol never sees SOC's; a key sees the global ones and its
department's) and the knowledge base's articles (search, read, write; refusals write nothing)."""

from __future__ import annotations

import pytest

from socdesk.core.actor import Actor
from socdesk.kb.models import Article
from socdesk.kb.services import article_create, category_create
from socdesk.mail.canned import canned_response_create
from socdesk.mail.models import CannedResponse
from tests.api.conftest import ApiClient, make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def responses(people):
    admin = Actor.for_agent(people.admin)
    return {
        "global": canned_response_create(actor=admin, title="Acknowledge", body="Got {{ ticket.number }}."),
        "soc": canned_response_create(
            actor=admin, title="SOC only", body="Hi {{ requester.name }}.", department=people.soc
        ),
        "it": canned_response_create(actor=admin, title="IT only", body="Laptop.", department=people.it),
    }


def _titles(response):
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["items"]]


def test_canned_responses_are_scoped(people, responses, alice_api, carol_api, tool):
    assert _titles(alice_api.get("canned-responses")) == ["Acknowledge", "SOC only"]
    assert _titles(carol_api.get("canned-responses")) == ["Acknowledge", "IT only"]
    assert _titles(tool.get("canned-responses")) == ["Acknowledge"]  # a key of no department
    assert carol_api.get(f"canned-responses/{responses['soc'].pk}").status_code == 404
    assert alice_api.get(f"canned-responses/{responses['soc'].pk}").json()["department"]["name"] == "SOC"
    assert _titles(alice_api.get("canned-responses?q=hi")) == ["SOC only"]


def test_rendered_for_a_ticket(people, soc_ticket, responses, alice_api, carol_api):
    url = f"canned-responses/{responses['soc'].pk}/rendered?ticket={soc_ticket.number}"
    assert alice_api.get(url).json()["text"] == "Hi Dana Reyes."
    assert carol_api.get(url).status_code == 404
    # IT's response is not for a SOC ticket.
    url = f"canned-responses/{responses['it'].pk}/rendered?ticket={soc_ticket.number}"
    assert ApiClient(make_key(["admin"], agent=people.admin, name="adm")).get(url).status_code == 404


def test_admins_manage_them_and_a_template_error_is_a_400(people, alice_api):
    admin = ApiClient(make_key(["admin"], agent=people.admin, name="adm"))
    refused = admin.post("canned-responses", {"title": "Bad", "body": "line one\n{% if x %}"})
    assert refused.status_code == 400
    assert "line 2" in refused.json()["error"]["message"]
    assert not CannedResponse.objects.exists()
    created = admin.post("canned-responses", {"title": "Ok", "body": "Fine.", "department_id": people.soc.pk})
    assert created.status_code == 201
    assert alice_api.post("canned-responses", {"title": "Mine", "body": "x"}).status_code == 403
    pk = created.json()["id"]
    changed = admin.call("PUT", f"canned-responses/{pk}", {"title": "Ok 2", "body": "Fine."})
    assert changed.status_code == 200 and changed.json()["department"] is None
    assert admin.delete(f"canned-responses/{pk}").status_code == 204
    assert not CannedResponse.objects.exists()


@pytest.fixture
def articles(people):
    alice = Actor.for_agent(people.alice)
    category = category_create(actor=Actor.for_agent(people.admin), name="Phishing")
    return {
        "public": article_create(
            actor=alice, title="Report a phishing e-mail", body="Use the button.", visibility="public"
        ),
        "internal": article_create(
            actor=alice, title="Phishing triage", body="Check **DKIM**.", category=category
        ),
    }


def test_articles_search_read_and_sanitised_html(articles, carol_api, tool):
    found = carol_api.get("kb/articles?q=dkim").json()
    assert [a["title"] for a in found["items"]] == ["Phishing triage"]
    assert found["items"][0]["html"] == "<p>Check <strong>DKIM</strong>.</p>\n"
    assert _titles(tool.get("kb/articles?visibility=public")) == ["Report a phishing e-mail"]
    assert tool.get("kb/articles?visibility=secret").status_code == 400
    assert tool.get(f"kb/articles/{articles['internal'].pk}").json()["category"]["name"] == "Phishing"
    assert tool.get("kb/categories").json()["items"][0]["article_count"] == 1


def test_articles_written_over_rest_and_refusals_write_nothing(people, articles, alice_api):
    created = alice_api.post("kb/articles", {"title": "VPN", "body": "Reset it.", "visibility": "public"})
    assert created.status_code == 201 and created.json()["author"] == "alice"
    refused = alice_api.post("kb/articles", {"title": "", "body": "", "visibility": "nope"})
    assert refused.status_code == 400 and set(refused.json()["error"]["fields"]) >= {"title", "body"}
    assert Article.objects.count() == 3
    read_only = ApiClient(make_key(["tickets:read"], agent=people.bob, name="ro"))
    assert read_only.post("kb/articles", {"title": "x", "body": "y"}).status_code == 403
    bob = ApiClient(make_key(["tickets:write", "tickets:read"], agent=people.bob, name="b"))
    assert bob.delete(f"kb/articles/{articles['public'].pk}").status_code == 403
    assert alice_api.delete(f"kb/articles/{articles['public'].pk}").status_code == 204
