"""Requesters signing in to the portal by OpenID Connect, against a real provider (django-oidc-provider,
tests/sso/op) on loopback, with a client of its own apart from the agents'. The provider's pages are
driven over HTTP as a browser would; SOCdesk's pages by the Django test client.

Every refusal says what to do, is audited, and leaves no contact and no portal session behind."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests

from socdesk.accounts.models import Contact
from socdesk.accounts.oidc_tokens import forget_discovery
from socdesk.accounts.services import contact_get_or_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from socdesk.portal.session import COOKIE
from socdesk.portal.sso_views import FLOW_COOKIE
from tests.sso.provider import CLIENT_ID, free_port, start_provider

PORTAL_CLIENT_ID = "socdesk-portal"
PORTAL_CLIENT_SECRET = "op-portal-client-secret"
IDP_PASSWORD = "idp-password-1"
CALLBACK = "http://testserver/portal/sso/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    op = start_provider(tmp_path_factory.mktemp("op"), "http://testserver/oidc/callback/")
    op.client(PORTAL_CLIENT_ID, PORTAL_CLIENT_SECRET, CALLBACK)
    op.user("dana", IDP_PASSWORD, "dana@northwind.example", [])
    op.user("ursula", IDP_PASSWORD, "ursula@northwind.example", ["unverified-email"])
    op.user("oscar", IDP_PASSWORD, "oscar@elsewhere.example", [])
    op.user("alice", IDP_PASSWORD, "alice@example.test", [])
    yield op
    op.stop()


@pytest.fixture
def portal_sso(settings, provider, db):
    """The portal's single sign-on configured for the test provider (the agents' is left off)."""
    forget_discovery()
    settings.SOCDESK_PORTAL_OIDC_ENABLED = True
    settings.SOCDESK_PORTAL_OIDC_PROVIDER_NAME = "Northwind ID"
    settings.SOCDESK_PORTAL_OIDC_ISSUER = provider.issuer
    settings.SOCDESK_PORTAL_OIDC_CLIENT_ID = PORTAL_CLIENT_ID
    settings.SOCDESK_PORTAL_OIDC_CLIENT_SECRET = PORTAL_CLIENT_SECRET
    settings.SOCDESK_PORTAL_OIDC_DOMAINS = []
    yield provider
    forget_discovery()


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def at_provider(authorize_url: str, username: str) -> str:
    """Sign in at the provider's own page as a browser would; the address it sends the browser back to."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert "IdP username" in page.text, page.text[:500]
    form = {
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1],
        "next": html.unescape(re.search(r'name="next" value="([^"]*)"', page.text)[1]),
        "username": username,
        "password": IDP_PASSWORD,
    }
    answer = browser.post(page.url, data=form, allow_redirects=False, timeout=10)
    while not answer.headers["Location"].startswith("http://testserver/"):
        answer = browser.get(
            urljoin(answer.url, answer.headers["Location"]), allow_redirects=False, timeout=10
        )
    return answer.headers["Location"]


def sso_round_trip(client, username: str, *, start: str = "/portal/sso/start", rewrite=None):
    """Start at SOCdesk, sign in at the provider, come back: SOCdesk's answer to the callback."""
    started = client.get(start)
    assert started.status_code == 302, started.content[:500]
    authorize = started["Location"]
    if rewrite:
        authorize = _with_param(authorize, *rewrite)
    callback = at_provider(authorize, username)
    return client.get(callback.removeprefix("http://testserver"))


def assert_nobody_signed_in(client, response):
    assert COOKIE not in response.cookies or not response.cookies[COOKIE].value
    assert "_auth_user_id" not in client.session
    assert client.get("/portal/").status_code == 302  # the sign-in page


def last_refusal() -> AuditEvent:
    return AuditEvent.objects.filter(action="portal.sign_in_refused").latest("id")


# --- the sign-in page -----------------------------------------------------------------------------


def test_the_button_is_shown_only_when_single_sign_on_is_configured(client, settings, db):
    settings.SOCDESK_PORTAL_OIDC_ENABLED = False
    page = client.get("/portal/sign-in").content.decode()
    assert "Sign in with" not in page
    assert client.get("/portal/sso/start").status_code == 404
    assert client.get("/portal/sso/callback?code=x&state=y").status_code == 404

    settings.SOCDESK_PORTAL_OIDC_ENABLED = True
    settings.SOCDESK_PORTAL_OIDC_PROVIDER_NAME = "Northwind ID"
    page = client.get("/portal/sign-in?next=/portal/tickets/SOC-1").content.decode()
    assert 'href="/portal/sso/start?next=%2Fportal%2Ftickets%2FSOC-1">Sign in with Northwind ID</a>' in page
    assert "E-mail me a sign-in link" in page  # the e-mailed link stays


def test_the_agents_single_sign_on_does_not_turn_on_the_portals(client, settings, db):
    settings.SOCDESK_OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.SOCDESK_PORTAL_OIDC_ENABLED = False
    assert "Sign in with" not in client.get("/portal/sign-in").content.decode()
    assert client.get("/portal/sso/start").status_code == 404


# --- signing in -----------------------------------------------------------------------------------


def test_first_sign_in_creates_the_contact_and_signs_into_the_portal_only(client, portal_sso):
    response = sso_round_trip(client, "dana", start="/portal/sso/start?next=/portal/report/1")
    assert response.status_code == 302 and response["Location"] == "/portal/report/1"
    cookie = response.cookies[COOKIE]
    assert cookie.value and cookie["httponly"] and cookie["path"] == "/portal/"
    assert response.cookies[FLOW_COOKIE].value == ""  # the flow is spent

    contact = Contact.objects.get(email="dana@northwind.example")
    assert contact.name == "Dana Tester"  # from the provider's name claim
    signed = AuditEvent.objects.filter(action="portal.signed_in").latest("id")
    assert (signed.target_id, signed.actor_type) == (str(contact.pk), "user")
    assert signed.after["method"] == "oidc" and signed.after["provider"] == "Northwind ID"
    assert AuditEvent.objects.filter(action="contact.created", target_id=str(contact.pk)).count() == 1

    home = client.get("/portal/")
    assert home.status_code == 200 and "dana@northwind.example" in home.content.decode()
    # The requester is a stranger to the console: no agent session, the console sends them to its login.
    assert "_auth_user_id" not in client.session
    assert client.get("/tickets/")["Location"].startswith("/login")

    # A later sign-in finds the same contact (still signed in at the provider: no password asked).
    client.cookies.clear()
    again = sso_round_trip(client, "dana")
    assert again.status_code == 302 and again["Location"] == "/portal/"
    assert Contact.objects.filter(email="dana@northwind.example").count() == 1
    assert AuditEvent.objects.filter(action="portal.signed_in", target_id=str(contact.pk)).count() == 2


def test_the_page_to_return_to_is_a_portal_page_of_this_site_or_the_portal_home(client, portal_sso):
    response = sso_round_trip(client, "dana", start="/portal/sso/start?next=https://evil.example/portal/")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    client.cookies.clear()
    response = sso_round_trip(client, "dana", start="/portal/sso/start?next=/tickets/")
    assert response.status_code == 302 and response["Location"] == "/portal/"


def test_the_token_name_fills_an_empty_name_and_never_overwrites_one(client, portal_sso):
    setup = Actor.system("test-setup")
    nameless = contact_get_or_create(actor=setup, email="dana@northwind.example")
    assert sso_round_trip(client, "dana").status_code == 302
    nameless.refresh_from_db()
    assert nameless.name == "Dana Tester"
    filled = AuditEvent.objects.filter(action="contact.renamed", target_id=str(nameless.pk)).get()
    assert (filled.before, filled.after) == (
        {"name": ""},
        {"name": "Dana Tester", "email": "dana@northwind.example"},
    )

    Contact.objects.filter(pk=nameless.pk).update(name="Dana Reyes")
    client.cookies.clear()
    assert sso_round_trip(client, "dana").status_code == 302
    nameless.refresh_from_db()
    assert nameless.name == "Dana Reyes"
    assert AuditEvent.objects.filter(action="contact.renamed").count() == 1


def test_an_agents_address_signs_in_a_requester_never_the_agent(client, portal_sso, people):
    response = sso_round_trip(client, "alice")  # the provider says alice@example.test, an agent's address
    assert response.status_code == 302
    contact = Contact.objects.get(email="alice@example.test")
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith("/login")
    assert not AuditEvent.objects.filter(action="auth.login").exists()
    assert AuditEvent.objects.filter(action="portal.signed_in").latest("id").target_id == str(contact.pk)


def test_allowed_domains_let_their_addresses_in(client, portal_sso, settings):
    settings.SOCDESK_PORTAL_OIDC_DOMAINS = ["northwind.example"]
    assert sso_round_trip(client, "dana").status_code == 302
    assert Contact.objects.filter(email="dana@northwind.example").exists()


# --- refusals: a sentence to act on, audited, nothing written, nobody signed in -------------------


def test_an_unverified_e_mail_is_refused(client, portal_sso):
    response = sso_round_trip(client, "ursula")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Northwind ID has not verified your e-mail address ursula@northwind.example" in page
    assert "ask for a sign-in link by e-mail instead" in page
    assert not Contact.objects.exists()
    assert_nobody_signed_in(client, response)
    assert (last_refusal().after["reason"], last_refusal().after["email"]) == (
        "email_unverified",
        "ursula@northwind.example",
    )


def test_an_address_outside_the_allowed_domains_is_refused(client, portal_sso, settings):
    settings.SOCDESK_PORTAL_OIDC_DOMAINS = ["northwind.example"]
    response = sso_round_trip(client, "oscar")
    assert response.status_code == 403
    page = html.unescape(response.content.decode())
    assert "Addresses at elsewhere.example cannot sign in to the portal with Northwind ID" in page
    assert "only addresses at northwind.example can" in page
    assert not Contact.objects.exists()
    assert_nobody_signed_in(client, response)
    assert last_refusal().after["reason"] == "domain_not_allowed"


def test_a_callback_whose_state_does_not_match_is_refused(client, portal_sso):
    # The provider echoes the state it was given: the answer carries one this browser did not start.
    response = sso_round_trip(client, "dana", rewrite=("state", "forged-state"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "does not belong to the sign-in started in this browser (its state does not match)" in page
    assert "start again from the sign-in page" in page
    assert not Contact.objects.exists()
    assert_nobody_signed_in(client, response)
    assert last_refusal().after["reason"] == "state_mismatch"


def test_a_callback_this_browser_never_started_is_refused(client, portal_sso):
    response = client.get("/portal/sso/callback?code=stolen&state=stolen", REMOTE_ADDR="10.8.8.8")
    assert response.status_code == 400
    assert "This sign-in was not started in this browser" in response.content.decode()
    assert not Contact.objects.exists()
    assert_nobody_signed_in(client, response)
    assert (last_refusal().after["reason"], last_refusal().after["ip"]) == ("no_flow", "10.8.8.8")


def test_a_forged_flow_cookie_counts_for_nothing(client, portal_sso):
    client.cookies[FLOW_COOKIE] = "eyJzdGF0ZSI6InN0b2xlbiJ9:forged:signature"
    response = client.get("/portal/sso/callback?code=stolen&state=stolen")
    assert response.status_code == 400 and last_refusal().after["reason"] == "no_flow"
    assert not Contact.objects.exists()


def test_an_answer_is_spent_once(client, portal_sso):
    started = client.get("/portal/sso/start")
    callback = at_provider(started["Location"], "dana").removeprefix("http://testserver")
    flow_cookie = client.cookies[FLOW_COOKIE].value
    assert client.get(callback).status_code == 302
    # The same answer again, even with the flow cookie put back: the provider refuses the spent code.
    client.cookies.clear()
    client.cookies[FLOW_COOKIE] = flow_cookie
    replay = client.get(callback)
    assert replay.status_code == 400
    assert "Northwind ID refused to complete this sign-in" in replay.content.decode()
    assert last_refusal().after["reason"] == "code_refused: 400"
    assert COOKIE not in replay.cookies or not replay.cookies[COOKIE].value


def test_an_id_token_for_another_nonce_is_refused(client, portal_sso):
    # The provider is asked for a token bound to another nonce than the one this browser keeps, as when
    # an attacker slips in a code obtained for their own sign-in.
    response = sso_round_trip(client, "dana", rewrite=("nonce", "attacker-nonce"))
    assert response.status_code == 400
    assert "This sign-in could not be verified" in response.content.decode()
    assert not Contact.objects.exists()
    assert_nobody_signed_in(client, response)
    assert last_refusal().after["reason"].startswith("token_rejected: Nonce verification failed")


def test_a_code_from_another_pkce_challenge_is_refused(client, portal_sso):
    response = sso_round_trip(client, "dana", rewrite=("code_challenge", "A" * 43))
    assert response.status_code == 400
    assert "refused to complete this sign-in" in response.content.decode()
    assert not Contact.objects.exists()
    assert_nobody_signed_in(client, response)


def test_the_provider_saying_no_is_passed_on(client, portal_sso):
    started = client.get("/portal/sso/start")
    state = dict(parse_qsl(urlsplit(started["Location"]).query))["state"]
    response = client.get(f"/portal/sso/callback?error=access_denied&state={state}")
    assert response.status_code == 400
    assert "Northwind ID did not sign you in (access_denied)" in response.content.decode()
    assert not Contact.objects.exists()
    assert_nobody_signed_in(client, response)


def test_a_provider_that_cannot_be_reached_gives_a_page_that_says_so(client, portal_sso, settings):
    settings.SOCDESK_PORTAL_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}/openid"  # nobody listens
    response = client.get("/portal/sso/start")
    assert response.status_code == 502
    page = response.content.decode()
    assert "Northwind ID cannot be reached right now" in page
    assert "ask for a sign-in link by e-mail instead" in page
    assert FLOW_COOKIE not in response.cookies


def test_a_provider_gone_during_the_sign_in_gives_a_page_that_says_so(client, portal_sso, settings):
    started = client.get("/portal/sso/start")
    callback = at_provider(started["Location"], "dana").removeprefix("http://testserver")
    forget_discovery()
    settings.SOCDESK_PORTAL_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}/openid"
    response = client.get(callback)
    assert response.status_code == 502
    assert "Northwind ID cannot be reached right now" in response.content.decode()
    assert not Contact.objects.exists()
    assert_nobody_signed_in(client, response)
    assert last_refusal().after["reason"] == "provider_unavailable"


def test_callbacks_past_the_limit_for_an_address_are_refused_before_the_provider_is_asked(
    client, portal_sso, settings
):
    settings.SOCDESK_PORTAL_SSO_PER_IP = 2
    for _refused in range(2):
        started = client.get("/portal/sso/start")
        state = dict(parse_qsl(urlsplit(started["Location"]).query))["state"]
        assert client.get(f"/portal/sso/callback?error=access_denied&state={state}").status_code == 400
    # A sign-in the provider accepted is refused too, once the address used its callbacks up.
    response = sso_round_trip(client, "dana")
    assert response.status_code == 429
    assert "Too many sign-ins from your network. Try again in 60 minutes." in response.content.decode()
    assert last_refusal().after["reason"] == "rate_limited"
    assert not Contact.objects.filter(email="dana@northwind.example").exists()
    assert_nobody_signed_in(client, response)
    # Another address is not held back by it.
    other = sso_round_trip(client.__class__(REMOTE_ADDR="203.0.113.77"), "dana")
    assert other.status_code == 302
