"""403, 404, 405 and 500 answer with pages in the console's style that leak nothing internal (DEBUG off)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from socdesk.audit.models import AuditEvent
from socdesk.tickets.models import Ticket
from tests.console_helpers import client_for

INTERNALS = ("Traceback", "hunter2", "internal detail", "No such action", "Django", "DEBUG")


def _page(response, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for leak in INTERNALS:
        assert leak not in html, leak
    assert 'class="panel narrow error-page"' in html and "app.css" in html  # the console's look
    assert 'href="/"' in html  # always a way back
    return html


def test_debug_is_off_in_these_tests(settings):
    assert settings.DEBUG is False


def test_unknown_address_is_a_friendly_404(people):
    html = _page(client_for(people.alice).get("/no/such/page"), 404)
    assert "Not found" in html


def test_another_departments_ticket_is_the_same_404(people, soc_ticket):
    carol = client_for(people.carol)
    hidden = _page(carol.get(f"/tickets/{soc_ticket.number}/"), 404)
    missing = _page(carol.get("/tickets/SOC-999999/"), 404)

    def main(html: str) -> str:
        return html.split('<main id="main"', 1)[1]

    assert main(hidden) == main(missing)


def test_unknown_action_404_hides_the_views_message(people, soc_ticket):
    response = client_for(people.alice).post(f"/tickets/{soc_ticket.number}/explode", {})
    _page(response, 404)


def test_api_paths_keep_the_json_error_shape(people):
    response = Client().get("/api/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.urls("tests.core.error_urls")
def test_permission_denied_is_a_friendly_403(people):
    html = _page(client_for(people.alice).get("/test-refused"), 403)
    assert "Not allowed" in html


def test_login_without_agent_profile_is_a_friendly_403(db):
    user = get_user_model().objects.create_user(username="noagent", password="x")
    client = Client()
    client.force_login(user)
    html = _page(client.get("/"), 403)
    assert "no agent profile" in html


def test_expired_form_is_a_friendly_403(people, soc_ticket):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.alice.user)
    before = Ticket.objects.get(pk=soc_ticket.pk).version
    html = _page(client.post(f"/tickets/{soc_ticket.number}/severity", {"severity": "low"}), 403)
    assert "This form has expired" in html and "CSRF verification failed" not in html
    assert Ticket.objects.get(pk=soc_ticket.pk).version == before


def test_get_on_an_action_explains_itself_and_links_back(people, soc_ticket):
    alice = client_for(people.alice)
    before = (Ticket.objects.get(pk=soc_ticket.pk).version, AuditEvent.objects.count())
    response = alice.get(f"/tickets/{soc_ticket.number}/severity")
    html = _page(response, 405)
    assert response["Allow"] == "POST"
    assert "This is an action, not a page" in html and "Nothing was changed" in html
    assert f'href="/tickets/{soc_ticket.number}/"' in html
    assert "Content-Security-Policy" in response  # the page got the security headers like any other
    assert (Ticket.objects.get(pk=soc_ticket.pk).version, AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("path", "back"), [("/tickets/bulk", "/tickets/"), ("/deliveries/failed/retry", "/deliveries/failed")]
)
def test_get_on_other_post_only_addresses_links_to_the_page_above(people, path, back):
    html = _page(client_for(people.admin).get(path), 405)
    assert f'href="{back}"' in html


def test_api_405_is_left_to_the_api(people):
    response = Client().get("/api/v1/hooks/generic")
    assert not response["Content-Type"].startswith("text/html")


@pytest.mark.urls("tests.core.error_urls")
def test_server_error_is_a_friendly_500_without_internals(db):
    client = Client(raise_request_exception=False)
    html = _page(client.get("/test-boom"), 500)
    assert "Something went wrong on the server" in html and "UTC" in html


@pytest.mark.urls("tests.core.error_urls")
def test_api_server_error_is_json_without_internals(db):
    response = Client(raise_request_exception=False).get("/api/test-boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "server_error" and "hunter2" not in response.content.decode()


def test_favicon_is_linked_and_served(people):
    html = client_for(people.alice).get("/").content.decode()
    assert '<link rel="icon" href="/static/socdesk/favicon.svg" type="image/svg+xml">' in html
    redirect = Client().get("/favicon.ico")
    assert redirect.status_code == 301 and redirect["Location"] == "/static/socdesk/favicon.svg"
