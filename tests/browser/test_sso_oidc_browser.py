"""OpenID Connect sign-in end to end: Chromium, SOCdesk's live server and a real OpenID provider
(django-oidc-provider, tests/sso/op) on loopback. First sign-in creates the agent with its mapped roles,
a later one follows changed groups, unmapped groups and forged state or nonce are refused."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from playwright.sync_api import expect

from socdesk.accounts.models import Agent, DepartmentAccess, ExternalIdentity
from socdesk.accounts.oidc import forget_discovery
from socdesk.accounts.services import role_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from tests.sso.provider import CLIENT_ID, CLIENT_SECRET, start_provider

pytestmark = pytest.mark.browser

GROUP_MAP = {
    "soc-leads": {"department": "soc", "role": "Lead"},
    "soc-analysts": {"department": "soc", "role": "Analyst"},
    "it-viewers": [{"department": "IT Help Desk", "role": "Viewer"}],
}
IDP_PASSWORD = "idp-password-1"


@pytest.fixture(scope="session")
def provider(live_server, tmp_path_factory):
    op = start_provider(tmp_path_factory.mktemp("op"), f"{live_server.url}/oidc/callback/")
    yield op
    op.stop()


@pytest.fixture
def sso(settings, provider, cast):
    """SOCdesk configured for the test provider, as the SOCDESK_OIDC_* variables would configure it."""
    forget_discovery()
    settings.SOCDESK_OIDC_ENABLED = True
    settings.SOCDESK_OIDC_PROVIDER_NAME = "Test IdP"
    settings.SOCDESK_OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.SOCDESK_OIDC_GROUP_MAP = GROUP_MAP
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "socdesk.accounts.oidc.DirectoryOIDCBackend",
    ]
    setup = Actor.system("test-setup")
    role_create(actor=setup, name="Lead", permissions=["view", "create", "edit", "assign"])
    role_create(actor=setup, name="Viewer", permissions=["view"])
    return provider


def sso_sign_in(page, base: str, username: str, *, at_provider: bool = True) -> None:
    page.goto(f"{base}/login")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    if at_provider:
        page.get_by_label("IdP username").fill(username)
        page.get_by_label("IdP password").fill(IDP_PASSWORD)
        page.get_by_role("button", name="Continue").click()


def roles_of(agent: Agent) -> dict[str, str]:
    return {
        access.department.slug: access.role.name
        for access in DepartmentAccess.objects.filter(agent=agent).select_related("department", "role")
    }


def sign_out(page, base: str) -> None:
    page.goto(f"{base}/logout")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")


def test_first_sign_in_creates_the_agent_and_later_sign_ins_follow_the_groups(
    page, live_server, sso, screenshots
):
    base = live_server.url
    sso.user("dana", IDP_PASSWORD, "dana@example.test", ["soc-analysts", "staff"])

    page.goto(f"{base}/login")
    expect(page.get_by_role("link", name="Sign in with Test IdP")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_visible()  # password sign-in stays on by default
    page.screenshot(path=screenshots / "login-with-sso.png", full_page=True)

    sso_sign_in(page, base, "dana")
    page.wait_for_url(f"{base}/")
    page.screenshot(path=screenshots / "sso-signed-in-home.png", full_page=True)

    agent = Agent.objects.select_related("user").get(user__username="dana")
    assert agent.user.email == "dana@example.test"
    assert not agent.user.has_usable_password()
    assert ExternalIdentity.objects.get(agent=agent, provider="oidc").subject
    assert roles_of(agent) == {"soc": "Analyst"}
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-4:] == ["agent.created", "agent.identity_linked", "access.granted", "auth.login"]
    login = AuditEvent.objects.filter(action="auth.login").latest("id")
    assert login.after["method"] == "oidc"

    # The provider moves dana: lead in SOC and a viewer in IT. The next sign-in follows, audited.
    sign_out(page, base)
    sso.user("dana", IDP_PASSWORD, "dana@example.test", ["soc-leads", "soc-analysts", "it-viewers"])
    sso_sign_in(page, base, "dana", at_provider=False)  # still signed in at the provider
    page.wait_for_url(f"{base}/")
    assert roles_of(agent) == {"soc": "Lead", "it-help-desk": "Viewer"}
    assert Agent.objects.filter(user__username__startswith="dana").count() == 1

    # Out of every SOC group: the SOC role goes, IT stays.
    sign_out(page, base)
    sso.user("dana", IDP_PASSWORD, "dana@example.test", ["it-viewers"])
    sso_sign_in(page, base, "dana", at_provider=False)
    page.wait_for_url(f"{base}/")
    assert roles_of(agent) == {"it-help-desk": "Viewer"}
    revoked = AuditEvent.objects.filter(action="access.revoked").latest("id")
    assert revoked.before == {"department": "SOC", "role": "Lead"}


def test_groups_that_map_to_nothing_are_refused_with_a_page_that_says_why(
    page, live_server, sso, screenshots
):
    base = live_server.url
    sso.user("eve", IDP_PASSWORD, "eve@example.test", ["marketing"])
    sso_sign_in(page, base, "eve")
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("none of your groups gives access")
    expect(page.get_by_role("alert")).to_contain_text("marketing")
    page.screenshot(path=screenshots / "sso-refused-unmapped-groups.png", full_page=True)

    assert not Agent.objects.filter(user__email="eve@example.test").exists()
    failed = AuditEvent.objects.filter(action="auth.login_failed").latest("id")
    assert failed.after["reason"] == "no_mapped_group"
    page.goto(f"{base}/")
    page.wait_for_url(f"{base}/login?next=/")  # nobody signed in


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def rewrite_provider_redirect(page, name: str, value: str) -> None:
    """SOCdesk's redirect to the provider leaves with one query parameter replaced (its session cookie,
    which holds the real state and nonce, still set): what an attacker's crafted link would do."""

    def handler(route):
        response = route.fetch(max_redirects=0)
        headers = {**response.headers, "location": _with_param(response.headers["location"], name, value)}
        route.fulfill(response=response, headers=headers)

    page.route("**/oidc/authenticate/**", handler)


def test_a_callback_with_a_state_this_browser_did_not_start_is_refused(page, live_server, sso, screenshots):
    base = live_server.url
    sso.user("dana", IDP_PASSWORD, "dana@example.test", ["soc-analysts"])
    # The provider echoes the state it was given: the callback carries one this browser never issued.
    rewrite_provider_redirect(page, "state", "forged-state")
    sso_sign_in(page, base, "dana")
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("could not be verified")
    page.screenshot(path=screenshots / "sso-refused-forged-state.png", full_page=True)
    assert not Agent.objects.filter(user__username="dana").exists()
    assert (
        AuditEvent.objects.filter(action="auth.login_failed")
        .latest("id")
        .after["reason"]
        .startswith("oidc_rejected")
    )
    page.goto(f"{base}/")
    page.wait_for_url(f"{base}/login?next=/")  # nobody signed in


def test_an_id_token_with_another_nonce_is_refused(page, live_server, sso):
    base = live_server.url
    sso.user("dana", IDP_PASSWORD, "dana@example.test", ["soc-analysts"])
    # The provider is asked for a token bound to another nonce than the one in this browser's session,
    # as when an attacker injects a code obtained for their own sign-in.
    rewrite_provider_redirect(page, "nonce", "attacker-nonce")
    sso_sign_in(page, base, "dana")
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("could not be verified")
    assert not Agent.objects.filter(user__username="dana").exists()
    assert "Nonce" in AuditEvent.objects.filter(action="auth.login_failed").latest("id").after["reason"]


def test_with_password_sign_in_off_the_page_offers_only_single_sign_on(page, live_server, sso, screenshots):
    from django.conf import settings

    settings.SOCDESK_PASSWORD_LOGIN = False  # the `settings` fixture behind `sso` restores it
    page.goto(f"{live_server.url}/login")
    expect(page.get_by_role("link", name="Sign in with Test IdP")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)
    page.screenshot(path=screenshots / "login-sso-only.png", full_page=True)


def test_an_id_token_from_another_issuer_is_refused(page, live_server, sso, settings):
    # Endpoints spelled out (no discovery), and an issuer the provider does not sign as: its tokens say
    # http://127.0.0.1:<port>/openid, SOCdesk expects the same server under another name.
    for name, path in [
        ("OIDC_OP_AUTHORIZATION_ENDPOINT", "authorize"),
        ("OIDC_OP_TOKEN_ENDPOINT", "token"),
        ("OIDC_OP_USER_ENDPOINT", "userinfo"),
        ("OIDC_OP_JWKS_ENDPOINT", "jwks"),
    ]:
        setattr(settings, name, f"{sso.issuer}/{path}")
    settings.SOCDESK_OIDC_ISSUER = sso.issuer.replace("127.0.0.1", "localhost")
    sso.user("dana", IDP_PASSWORD, "dana@example.test", ["soc-analysts"])
    sso_sign_in(page, live_server.url, "dana")
    expect(page.get_by_role("alert")).to_contain_text("could not be verified")
    assert not Agent.objects.filter(user__username="dana").exists()
    assert "issued by" in AuditEvent.objects.filter(action="auth.login_failed").latest("id").after["reason"]


def test_a_code_the_provider_refuses_gives_a_page_not_an_error(client, sso):
    # A callback with this session's real state but a code the provider never issued (or one used
    # already): the provider's token endpoint answers 400, and the person gets a page that says so.
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302
    state = dict(parse_qsl(urlsplit(start["Location"]).query))["state"]
    response = client.get(f"/oidc/callback/?code=never-issued&state={state}")
    assert response.status_code == 400
    assert "refused to complete this sign-in" in response.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action="auth.login_failed").latest("id")
    assert failed.after["reason"] == "oidc_code_refused: 400"
