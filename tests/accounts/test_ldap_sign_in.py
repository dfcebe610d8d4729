"""LDAP sign-in (django-auth-ldap) against a real slapd on loopback: the password is checked by the
directory, the agent is created or updated through the accounts services with its mapped department role,
and wrong passwords, unknown users and unmapped groups are refused (and audited)."""

from __future__ import annotations

import os

import pytest

from socdesk.accounts.models import Agent, DepartmentAccess, ExternalIdentity
from socdesk.accounts.services import role_create
from socdesk.audit.models import AuditEvent
from socdesk.core.actor import Actor
from tests.sso import slapd
from tests.sso.slapd import ADMIN_DN, ADMIN_PASSWORD, GROUPS, PEOPLE, group_ldif, person_ldif

LEE_PASSWORD = "lee-directory-pass"

pytestmark = pytest.mark.skipif(
    not slapd.available() and not os.environ.get("CI"),
    reason="slapd/ldap-utils are not installed (apt-get install -y slapd ldap-utils)",
)


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    server = slapd.start_slapd(tmp_path_factory.mktemp("slapd"))
    server.add(
        person_ldif("lee", LEE_PASSWORD, "lee@example.test", "Lee", "Park")
        + person_ldif("max", "max-directory-pass", "max@example.test", "Max", "Moe")
        + person_ldif("kim", "kim-directory-pass", "kim@example.test", "Kim", "Lu")
        + group_ldif("soc-analysts", "lee")
        + group_ldif("soc-leads", "max")
        + group_ldif("marketing", "kim", "max")
    )
    yield server
    server.stop()


@pytest.fixture
def ldap_on(settings, directory, people):
    """SOCdesk configured for the slapd as the SOCDESK_LDAP_* variables would configure it."""
    import ldap
    from django_auth_ldap.config import GroupOfNamesType, LDAPSearch

    settings.AUTH_LDAP_SERVER_URI = directory.uri
    settings.AUTH_LDAP_BIND_DN = ADMIN_DN
    settings.AUTH_LDAP_BIND_PASSWORD = ADMIN_PASSWORD
    settings.AUTH_LDAP_USER_SEARCH = LDAPSearch(PEOPLE, ldap.SCOPE_SUBTREE, "(uid=%(user)s)")
    settings.AUTH_LDAP_GROUP_SEARCH = LDAPSearch(GROUPS, ldap.SCOPE_SUBTREE, "(objectClass=groupOfNames)")
    settings.AUTH_LDAP_GROUP_TYPE = GroupOfNamesType()
    settings.SOCDESK_LDAP_GROUP_MAP = {
        "soc-leads": {"department": "soc", "role": "Lead"},
        "soc-analysts": {"department": "soc", "role": "Analyst"},
    }
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "socdesk.accounts.ldap_backend.DirectoryLDAPBackend",
    ]
    role_create(
        actor=Actor.system("test-setup"), name="Lead", permissions=["view", "create", "edit", "assign"]
    )
    return directory


def roles_of(agent: Agent) -> dict[str, str]:
    return {
        access.department.slug: access.role.name
        for access in DepartmentAccess.objects.filter(agent=agent).select_related("department", "role")
    }


def test_the_right_password_creates_the_agent_with_its_mapped_department(client, ldap_on):
    response = client.post("/login", {"username": "lee", "password": LEE_PASSWORD}, REMOTE_ADDR="10.3.3.3")
    assert response.status_code == 302, response.content.decode()[:2000]
    agent = Agent.objects.select_related("user").get(user__username="lee")
    assert (agent.user.email, agent.user.first_name, agent.user.last_name) == (
        "lee@example.test",
        "Lee",
        "Park",
    )
    assert not agent.user.has_usable_password()  # the directory holds the password, never SOCdesk
    assert ExternalIdentity.objects.get(agent=agent).subject == f"uid=lee,{PEOPLE}"
    assert roles_of(agent) == {"soc": "Analyst"}
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-4:] == ["agent.created", "agent.identity_linked", "access.granted", "auth.login"]
    assert client.get("/").status_code == 200  # signed in, and the session loads through the backend


def test_a_later_sign_in_follows_changed_groups_and_directory_details(client, ldap_on):
    assert client.post("/login", {"username": "lee", "password": LEE_PASSWORD}).status_code == 302
    agent = Agent.objects.get(user__username="lee")
    ldap_on.modify(
        f"dn: cn=soc-leads,{GROUPS}\nchangetype: modify\nadd: member\nmember: uid=lee,{PEOPLE}\n\n"
        f"dn: uid=lee,{PEOPLE}\nchangetype: modify\nreplace: mail\nmail: lee.park@example.test\n"
    )
    try:
        client.logout()
        assert client.post("/login", {"username": "lee", "password": LEE_PASSWORD}).status_code == 302
        assert roles_of(agent) == {"soc": "Lead"}
        agent.user.refresh_from_db()
        assert agent.user.email == "lee.park@example.test"
        granted = AuditEvent.objects.filter(action="access.granted").latest("id")
        assert granted.after == {"department": "SOC", "role": "Lead"}
        assert AuditEvent.objects.filter(action="user.edited", target_label="lee").exists()
    finally:
        ldap_on.modify(
            f"dn: cn=soc-leads,{GROUPS}\nchangetype: modify\ndelete: member\nmember: uid=lee,{PEOPLE}\n\n"
            f"dn: uid=lee,{PEOPLE}\nchangetype: modify\nreplace: mail\nmail: lee@example.test\n"
        )


def test_a_wrong_password_is_refused_and_counted_by_the_sign_in_throttle(client, ldap_on, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        response = client.post("/login", {"username": "lee", "password": "not-it"}, REMOTE_ADDR="10.4.4.4")
        assert response.status_code == 400
        assert "correct username and password" in response.content.decode()
    assert not Agent.objects.filter(user__username="lee").exists()
    failed = AuditEvent.objects.filter(action="auth.login_failed").latest("id")
    assert failed.after["reason"] == "bad_credentials"
    # Locked: even the right password is not checked now.
    response = client.post("/login", {"username": "lee", "password": LEE_PASSWORD}, REMOTE_ADDR="10.4.4.4")
    assert response.status_code == 429
    assert not Agent.objects.filter(user__username="lee").exists()


def test_an_unknown_user_is_refused(client, ldap_on):
    response = client.post("/login", {"username": "nobody", "password": "whatever-1"})
    assert response.status_code == 400
    assert not Agent.objects.filter(user__username="nobody").exists()


def test_groups_that_map_to_nothing_are_refused_with_the_reason(client, ldap_on):
    response = client.post("/login", {"username": "kim", "password": "kim-directory-pass"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "none of your groups gives access" in body and "marketing" in body
    assert not Agent.objects.filter(user__username="kim").exists()
    assert (
        AuditEvent.objects.filter(action="auth.login_failed").latest("id").after["reason"]
        == "no_mapped_group"
    )


def test_an_existing_agent_with_the_directory_e_mail_is_linked_not_duplicated(client, ldap_on, people):
    from socdesk.accounts.services import user_edit

    user_edit(actor=Actor.system("test-setup"), user=people.bob.user, email="lee@example.test")
    assert client.post("/login", {"username": "lee", "password": LEE_PASSWORD}).status_code == 302
    assert not Agent.objects.filter(user__username="lee").exists()
    assert ExternalIdentity.objects.get(provider="ldap").agent == people.bob
    # bob's IT-less SOC analyst role is what the group gives: unchanged, nothing re-granted.
    assert roles_of(people.bob) == {"soc": "Analyst"}
