"""The shared single sign-on write path (socdesk.accounts.directory) and the OIDC pages that need no
provider: matching, just-in-time creation, role sync, refusals (audited, nothing half-written)."""

from __future__ import annotations

import pytest

from socdesk.accounts.directory import DirectoryProfile, DirectoryRefusal, directory_sign_in
from socdesk.accounts.models import Agent, DepartmentAccess, ExternalIdentity
from socdesk.accounts.oidc import forget_discovery
from socdesk.accounts.services import access_grant, user_set_flags
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from tests.sso.provider import free_port

MAP = {"soc-analysts": {"department": "soc", "role": "Analyst"}}


def profile(**overrides) -> DirectoryProfile:
    values = {
        "provider": "oidc",
        "subject": "sub-123",
        "username": "dana",
        "email": "dana@example.test",
        "email_verified": True,
        "first_name": "Dana",
        "last_name": "Reyes",
        "groups": frozenset({"soc-analysts"}),
    }
    return DirectoryProfile(**(values | overrides))


def sign_in(p: DirectoryProfile, group_map=MAP, create_agents: bool = True) -> Agent:
    return directory_sign_in(profile=p, group_map=group_map, create_agents=create_agents, ip="10.7.7.7")


def roles_of(agent: Agent) -> dict[str, str]:
    return {
        access.department.slug: access.role.name
        for access in DepartmentAccess.objects.filter(agent=agent).select_related("department", "role")
    }


def test_first_sign_in_creates_then_finds_the_same_agent_by_subject(people):
    agent = sign_in(profile())
    assert roles_of(agent) == {"soc": "Analyst"}
    # Renamed and re-addressed at the provider: still the same agent, details carried over.
    again = sign_in(profile(username="dana.r", email="dana.reyes@example.test"))
    assert again == agent
    agent.user.refresh_from_db()
    assert agent.user.email == "dana.reyes@example.test"
    assert Agent.objects.count() == 5  # the four personas and dana


def test_a_taken_username_gets_a_suffix_instead_of_taking_over_the_login(people):
    agent = sign_in(profile(username="alice", email="someone-else@example.test"))
    assert agent.user.username == "alice-2"
    assert agent != people.alice


def test_an_unverified_e_mail_never_links_an_existing_agent(people):
    agent = sign_in(profile(email="alice@example.test", email_verified=False, username="mallory"))
    assert agent != people.alice
    assert not ExternalIdentity.objects.filter(agent=people.alice).exists()


def test_a_verified_e_mail_links_an_agent_already_linked_elsewhere_only_never(people):
    sign_in(profile(email="alice@example.test", subject="alice-sub"))
    assert ExternalIdentity.objects.get(subject="alice-sub").agent == people.alice
    with pytest.raises(DirectoryRefusal, match="linked to another OpenID Connect account"):
        sign_in(profile(email="alice@example.test", subject="another-sub"))


def test_unmapped_groups_withdraw_directory_roles_and_refuse_but_leave_other_departments(people):
    agent = sign_in(profile())
    access_grant(actor=Actor.system("admin"), agent=agent, department=people.it, role=people.analyst)
    with pytest.raises(DirectoryRefusal, match="none of your groups") as refused:
        sign_in(profile(groups=frozenset({"marketing"})))
    assert refused.value.reason == "no_mapped_group"
    # The SOC role came from the map and is gone (committed, not rolled back with the refusal);
    # IT is not in the map: an administrator's grant there stays.
    assert roles_of(agent) == {"it-help-desk": "Analyst"}
    assert AuditEvent.objects.filter(action="access.revoked").latest("id").before == {
        "department": "SOC",
        "role": "Analyst",
    }
    assert (
        AuditEvent.objects.filter(action="auth.login_failed").latest("id").after["reason"]
        == "no_mapped_group"
    )


def test_a_map_naming_a_missing_department_refuses_and_writes_nothing(people):
    before = (Agent.objects.count(), DepartmentAccess.objects.count())
    with pytest.raises(DirectoryRefusal, match="names the department 'secops', which does not exist"):
        sign_in(profile(), group_map={"soc-analysts": {"department": "secops", "role": "Analyst"}})
    assert (Agent.objects.count(), DepartmentAccess.objects.count()) == before
    assert not ExternalIdentity.objects.exists()


def test_without_just_in_time_creation_an_unknown_person_is_refused(people):
    with pytest.raises(DirectoryRefusal, match="agents are not created at first sign-in") as refused:
        sign_in(profile(), create_agents=False)
    assert refused.value.reason == "no_agent"
    assert not Agent.objects.filter(user__username="dana").exists()


def test_a_disabled_agent_is_refused(people):
    agent = sign_in(profile())
    user_set_flags(actor=Actor.system("admin"), user=agent.user, is_active=False)
    with pytest.raises(DirectoryRefusal, match="disabled"):
        sign_in(profile())


# --- the pages, without a provider ---------------------------------------------------------------


@pytest.fixture
def oidc_on(settings):
    forget_discovery()
    settings.SOCDESK_OIDC_ENABLED = True
    settings.SOCDESK_OIDC_PROVIDER_NAME = "Corp SSO"
    settings.SOCDESK_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}/nothing-listens-here"
    settings.OIDC_RP_CLIENT_ID = "socdesk"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "socdesk.accounts.oidc.DirectoryOIDCBackend",
    ]
    yield settings
    forget_discovery()


def test_sso_pages_do_not_exist_when_it_is_not_configured(client, db):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404
    assert "Sign in with" not in client.get("/login").content.decode()


def test_a_callback_this_browser_never_started_is_refused_and_audited(client, oidc_on, db):
    response = client.get("/oidc/callback/?code=stolen&state=stolen", REMOTE_ADDR="10.8.8.8")
    assert response.status_code == 400
    assert "was not started in this browser" in response.content.decode()
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert (failed.after["reason"], failed.after["ip"]) == ("oidc_no_session_state", "10.8.8.8")


def test_an_unreachable_provider_gives_a_page_that_says_so(client, oidc_on, db):
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 502
    assert "Corp SSO cannot be reached right now" in response.content.decode()


def test_password_sign_in_can_be_turned_off(client, oidc_on, people, password):
    oidc_on.SOCDESK_PASSWORD_LOGIN = False
    page = client.get("/login").content.decode()
    assert "Sign in with Corp SSO" in page
    assert 'name="password"' not in page
    response = client.post("/login", {"username": "alice", "password": password})
    assert response.status_code == 403
    assert "Password sign-in is turned off" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_the_sso_button_carries_the_page_to_return_to(client, oidc_on, db):
    page = client.get("/login?next=/tickets/%3Fqueue%3Dmine").content.decode()
    assert 'href="/oidc/authenticate/?next=/tickets/%3Fqueue%3Dmine"' in page
    # A foreign target is dropped by the sign-in page before it reaches the button.
    assert "evil" not in client.get("/login?next=https://evil.example/").content.decode()
