"""A requester signs in to the portal by single sign-on in a real Chromium: SOCdesk's live server and a
real OpenID provider (django-oidc-provider, tests/sso/op) on loopback, with the portal's own client.
The button, the round trip, a refusal page, each checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from socdesk.accounts.models import Contact
from socdesk.accounts.oidc_tokens import forget_discovery
from socdesk.audit.models import AuditEvent
from tests.sso.provider import start_provider

pytestmark = pytest.mark.browser

PORTAL_CLIENT_ID = "socdesk-portal"
PORTAL_CLIENT_SECRET = "op-portal-client-secret"
IDP_PASSWORD = "idp-password-1"


@pytest.fixture(scope="module")
def provider(live_server, tmp_path_factory):
    op = start_provider(tmp_path_factory.mktemp("op"), f"{live_server.url}/oidc/callback/")
    op.client(PORTAL_CLIENT_ID, PORTAL_CLIENT_SECRET, f"{live_server.url}/portal/sso/callback")
    yield op
    op.stop()


@pytest.fixture
def portal_sso(settings, provider, cast):
    forget_discovery()
    settings.SOCDESK_PORTAL_OIDC_ENABLED = True
    settings.SOCDESK_PORTAL_OIDC_PROVIDER_NAME = "Northwind ID"
    settings.SOCDESK_PORTAL_OIDC_ISSUER = provider.issuer
    settings.SOCDESK_PORTAL_OIDC_CLIENT_ID = PORTAL_CLIENT_ID
    settings.SOCDESK_PORTAL_OIDC_CLIENT_SECRET = PORTAL_CLIENT_SECRET
    settings.SOCDESK_PORTAL_OIDC_DOMAINS = ["northwind.example"]
    yield provider
    forget_discovery()


def at_provider(page, username: str) -> None:
    page.get_by_label("IdP username").fill(username)
    page.get_by_label("IdP password").fill(IDP_PASSWORD)
    page.get_by_role("button", name="Continue").click()


def test_a_requester_signs_in_with_the_button_and_lands_in_the_portal(
    page, live_server, portal_sso, screenshots, axe_check
):
    base = live_server.url
    portal_sso.user("dana", IDP_PASSWORD, "dana@northwind.example", [])
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"{base}/portal/")
    expect(page).to_have_url(re.compile(r"/portal/sign-in"))
    button = page.get_by_role("link", name="Sign in with Northwind ID")
    expect(button).to_be_visible()
    expect(page.get_by_role("button", name="E-mail me a sign-in link")).to_be_visible()
    axe_check(page, "sign-in with single sign-on")
    page.screenshot(path=screenshots / "portal-sign-in-sso.png", full_page=True)

    button.click()
    at_provider(page, "dana")
    page.wait_for_url(f"{base}/portal/")
    expect(page.get_by_role("heading", name="Report something")).to_be_visible()
    expect(page.get_by_text("dana@northwind.example")).to_be_visible()
    axe_check(page, "home after single sign-on")
    page.screenshot(path=screenshots / "portal-sso-signed-in.png", full_page=True)

    contact = Contact.objects.get(email="dana@northwind.example")
    assert contact.name == "Dana Tester"
    assert AuditEvent.objects.filter(action="portal.signed_in").latest("id").after["method"] == "oidc"
    # The console does not know this browser.
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))


def test_an_address_outside_the_allowed_domains_gets_a_page_that_says_why(
    page, live_server, portal_sso, screenshots, axe_check
):
    base = live_server.url
    portal_sso.user("oscar", IDP_PASSWORD, "oscar@elsewhere.example", [])
    page.goto(f"{base}/portal/sign-in")
    page.get_by_role("link", name="Sign in with Northwind ID").click()
    at_provider(page, "oscar")
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Addresses at elsewhere.example cannot sign in")
    expect(page.get_by_role("link", name="Ask for a sign-in link by e-mail")).to_be_visible()
    axe_check(page, "single sign-on refused")
    page.screenshot(path=screenshots / "portal-sso-refused-domain.png", full_page=True)
    assert not Contact.objects.filter(email="oscar@elsewhere.example").exists()
    page.goto(f"{base}/portal/")
    expect(page).to_have_url(re.compile(r"/portal/sign-in"))  # nobody signed in
