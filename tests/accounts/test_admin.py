"""The Django admin's login and group pages: every change goes through an audited service or is refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from socdesk.accounts.models import Agent
from socdesk.audit.models import AuditEvent
from tests.console_helpers import admin_user_form, client_for

NEW_PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture
def admin_client(people):
    return client_for(people.admin)


_user_form = admin_user_form


def _events(action, user):
    return AuditEvent.objects.filter(action=action, target_type="user", target_id=str(user.pk))


def test_making_a_superuser_is_audited(admin_client, people):
    bob = people.bob.user
    response = admin_client.post(
        f"/admin/auth/user/{bob.pk}/change/", _user_form(bob, is_staff=True, is_superuser=True)
    )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.is_superuser and bob.is_staff
    event = _events("user.flags_changed", bob).get()
    assert event.actor_label == "admin"
    assert event.before == {"is_staff": False, "is_superuser": False, "agent_is_admin": False}
    # Agent.is_admin follows is_superuser in the same change (tests/security/test_admin_audit.py).
    assert event.after == {"is_staff": True, "is_superuser": True, "agent_is_admin": True}


def test_deactivating_and_renaming_are_audited(admin_client, people):
    bob = people.bob.user
    admin_client.post(
        f"/admin/auth/user/{bob.pk}/change/", _user_form(bob, is_active=False, email="robert@example.test")
    )
    bob.refresh_from_db()
    assert not bob.is_active and bob.email == "robert@example.test"
    assert _events("user.flags_changed", bob).get().after == {"is_active": False}
    assert _events("user.edited", bob).get().after == {"email": "robert@example.test"}


def test_the_last_superuser_cannot_remove_their_own_rights(admin_client, people):
    me = people.admin.user
    before = AuditEvent.objects.count()
    response = admin_client.post(
        f"/admin/auth/user/{me.pk}/change/",
        _user_form(me, is_superuser=False, first_name="Renamed"),
        follow=True,
    )
    assert "the last active superuser" in response.content.decode()
    me.refresh_from_db()
    # the rename came first and was undone with the refused flag change
    assert me.is_superuser and me.first_name == ""
    assert AuditEvent.objects.count() == before


def test_password_changes_are_audited_without_the_password(admin_client, people):
    bob = people.bob.user
    response = admin_client.post(
        f"/admin/auth/user/{bob.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    bob.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD)
    event = _events("user.password_changed", bob).get()
    assert event.actor_label == "admin" and event.after == {"usable": True}
    assert NEW_PASSWORD not in str(event.before) + str(event.after)
    # disabling password sign-in is a password change too
    admin_client.post(
        f"/admin/auth/user/{bob.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )
    bob.refresh_from_db()
    assert not bob.has_usable_password()
    assert _events("user.password_changed", bob).order_by("pk").last().after == {"usable": False}


def test_an_admin_changing_their_own_password_stays_signed_in(admin_client, people):
    me = people.admin.user
    admin_client.post(
        f"/admin/auth/user/{me.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert admin_client.get("/admin/").status_code == 200
    assert _events("user.password_changed", me).exists()


def test_a_login_added_in_the_admin_is_an_agent_created_through_the_service(admin_client):
    response = admin_client.post(
        "/admin/auth/user/add/",
        {"username": "dave", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    dave = get_user_model().objects.get(username="dave")
    assert Agent.objects.filter(user=dave).exists() and dave.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="agent.created", target_label="dave")
    assert event.actor_label == "admin"


def test_logins_are_never_deleted_and_groups_are_not_offered(admin_client, people):
    bob = people.bob.user
    assert admin_client.post(f"/admin/auth/user/{bob.pk}/delete/", {"post": "yes"}).status_code == 403
    assert get_user_model().objects.filter(pk=bob.pk).exists()
    assert admin_client.get("/admin/auth/group/").status_code == 404
    assert admin_client.post("/admin/auth/group/add/", {"name": "x"}).status_code == 404


@pytest.mark.parametrize(
    "url, data, action",
    [
        ("/admin/accounts/role/{analyst}/change/", {"name": "Analyst", "permissions": '["view"]'}, "role"),
        ("/admin/accounts/organisation/add/", {"name": "Example", "domain": "example.test"}, "organisation"),
    ],
)
def test_account_pages_without_a_service_record_each_change(admin_client, people, url, data, action):
    response = admin_client.post(url.format(analyst=people.analyst.pk), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert AuditEvent.objects.filter(action__startswith=f"admin.{action}_", actor_label="admin").exists()
