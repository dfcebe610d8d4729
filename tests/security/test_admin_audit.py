"""Finding 1: every change made through Django's admin (or Django's own account commands) is in the audit
trail, or is impossible. Each case goes through the real admin pages with the test client, as a browser
would post them."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from socdesk.accounts.models import Agent
from socdesk.alerts.ingest import delivery_process, delivery_receive
from socdesk.alerts.models import Alert, AlertRaw, Integration, Observable
from socdesk.audit.admin import AuditedAdminMixin, ServiceAdminMixin
from socdesk.audit.models import AuditEvent
from tests.console_helpers import admin_integration_form, admin_user_form, client_for

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "purple-monkey-dishwasher-77"
WAZUH = (__import__("pathlib").Path(__file__).parent.parent / "alerts/fixtures/wazuh_alert.json").read_bytes()


@pytest.fixture
def admin_client(people):
    return client_for(people.admin)


_user_form = admin_user_form


def _integration_form(**changes) -> dict:
    return admin_integration_form(**({"adapter": "wazuh", "name": "wazuh-soc"} | changes))


@pytest.fixture
def alert(people) -> Alert:
    integration = Integration.objects.create(adapter="wazuh", name="wazuh-soc", department=people.soc)
    delivery_process(delivery_id=delivery_receive(adapter="wazuh", body=WAZUH, integration=integration).pk)
    return Alert.objects.get()


# --- every admin page is audited or read-only ----------------------------------------------------------


def test_every_admin_page_is_audited_or_read_only(rf, people):
    request = rf.get("/admin/")
    request.user = people.admin.user
    for model, model_admin in admin.site._registry.items():
        audited = isinstance(model_admin, AuditedAdminMixin | ServiceAdminMixin)
        writable = any(
            check(request)
            for check in (
                model_admin.has_add_permission,
                model_admin.has_change_permission,
                model_admin.has_delete_permission,
            )
        )
        if model._meta.label == "accounts.ApiKey":
            # Added through apikey_create (save_model) and otherwise only revoked/rotated (actions).
            assert not model_admin.has_change_permission(request) and not model_admin.has_delete_permission(
                request
            )
            continue
        assert audited or not writable, (
            f"{model._meta.label} can be changed in the admin without an audit event"
        )
    labels = {model._meta.label for model in admin.site._registry}
    assert "auth.Group" not in labels and "auth.Permission" not in labels


def test_groups_and_permissions_are_not_offered(admin_client):
    for url in ("/admin/auth/group/", "/admin/auth/group/add/", "/admin/auth/permission/"):
        assert admin_client.get(url).status_code == 404
    assert admin_client.post("/admin/auth/group/add/", {"name": "x"}).status_code == 404


# --- superuser and admin flags --------------------------------------------------------------------------


def test_making_a_superuser_is_audited_and_makes_the_agent_an_admin(admin_client, people):
    bob = people.bob.user
    response = admin_client.post(f"/admin/auth/user/{bob.pk}/change/", _user_form(bob, is_superuser=True))
    assert response.status_code == 302
    bob.refresh_from_db()
    # Ticking superuser alone also gives staff (the admin's sign-in needs it) and the console's admin.
    assert bob.is_superuser and bob.is_staff and Agent.objects.get(user=bob).is_admin
    event = AuditEvent.objects.get(action="user.flags_changed", target_id=str(bob.pk))
    assert event.actor_label == "admin" and event.ip == "127.0.0.1"
    assert event.after == {"is_superuser": True, "is_staff": True, "agent_is_admin": True}
    # Withdrawn the same way, in one audited change.
    admin_client.post(f"/admin/auth/user/{bob.pk}/change/", _user_form(bob, is_superuser=False))
    assert not Agent.objects.get(user=bob).is_admin
    last = AuditEvent.objects.filter(action="user.flags_changed", target_id=str(bob.pk)).order_by("pk").last()
    assert last.after == {"is_superuser": False, "agent_is_admin": False}


def test_the_agent_admin_flag_cannot_be_set_apart_from_superuser(admin_client, people):
    agent = people.bob
    page = admin_client.get(f"/admin/accounts/agent/{agent.pk}/change/").content.decode()
    assert 'name="is_admin"' not in page  # shown read-only
    admin_client.post(
        f"/admin/accounts/agent/{agent.pk}/change/",
        {
            "user": agent.user.pk,
            "display_name": "Bob",
            "time_zone": "UTC",
            "is_admin": "on",
            "accesses-TOTAL_FORMS": "0",
            "accesses-INITIAL_FORMS": "0",
        },
    )
    assert not Agent.objects.get(pk=agent.pk).is_admin


# --- passwords ---------------------------------------------------------------------------------------


def test_password_set_by_an_admin_is_audited(admin_client, people):
    bob = people.bob.user
    response = admin_client.post(
        f"/admin/auth/user/{bob.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.password_changed", target_id=str(bob.pk))
    assert event.actor_label == "admin" and NEW_PASSWORD not in str(event.after)


def test_an_admins_own_password_change_page_is_audited(admin_client, people, password):
    me = people.admin.user
    refused = admin_client.post(
        "/admin/password_change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert (
        refused.status_code == 200 and "Your old password was entered incorrectly" in refused.content.decode()
    )
    assert not AuditEvent.objects.filter(action="user.password_changed").exists()
    response = admin_client.post(
        "/admin/password_change/",
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/password_change/done/"
    me.refresh_from_db()
    assert me.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user.password_changed", target_id=str(me.pk))
    assert event.actor_label == "admin" and event.after == {"usable": True}
    assert admin_client.get("/admin/").status_code == 200  # still signed in


def test_changepassword_command_is_validated_and_audited(people, monkeypatch):
    bob = people.bob.user
    answers = iter(["short", "short", "one", "two", NEW_PASSWORD, NEW_PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("changepassword", "bob")
    bob.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user.password_changed", target_id=str(bob.pk))
    assert event.actor_label.startswith("cli:changepassword") and event.after == {"usable": True}
    # Three bad tries: a clear error and nothing changed.
    answers = iter(["short", "short"] * 3)
    with pytest.raises(CommandError, match="Aborting password change for user 'bob' after 3 attempts"):
        call_command("changepassword", "bob")
    bob.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD)
    with pytest.raises(CommandError, match="There is no login 'nobody'"):
        call_command("changepassword", "nobody")
    assert AuditEvent.objects.filter(action="user.password_changed").count() == 1


def test_createsuperuser_command_is_audited_with_an_admin_agent(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", NEW_PASSWORD)
    call_command("createsuperuser", "--noinput", "--username", "root2", "--email", "root2@example.test")
    user = get_user_model().objects.get(username="root2")
    assert user.is_superuser and Agent.objects.get(user=user).is_admin
    event = AuditEvent.objects.get(action="agent.created", target_label="root2")
    assert event.actor_label.startswith("cli:createsuperuser") and event.after["is_superuser"] is True


# --- alerts, observables, integrations -----------------------------------------------------------------


def test_alerts_and_raw_payloads_cannot_be_deleted_by_hand(admin_client, alert):
    counts = (Alert.objects.count(), AlertRaw.objects.count())
    assert admin_client.post(f"/admin/alerts/alert/{alert.pk}/delete/", {"post": "yes"}).status_code == 403
    listing = admin_client.get("/admin/alerts/alert/").content.decode()
    assert "delete_selected" not in listing
    admin_client.post(
        "/admin/alerts/alert/", {"action": "delete_selected", "_selected_action": [alert.pk], "post": "yes"}
    )
    assert (Alert.objects.count(), AlertRaw.objects.count()) == counts


def test_observable_value_and_ioc_flag_cannot_be_edited(admin_client, alert):
    observable = Observable.objects.first()
    before = (observable.value, observable.ioc)
    response = admin_client.post(
        f"/admin/alerts/observable/{observable.pk}/change/", {"type": "ip", "value": "6.6.6.6", "ioc": "on"}
    )
    assert response.status_code == 403
    observable.refresh_from_db()
    assert (observable.value, observable.ioc) == before


def test_renaming_an_integration_is_audited(admin_client, alert):
    integration = Integration.objects.get()
    response = admin_client.post(
        f"/admin/alerts/integration/{integration.pk}/change/", _integration_form(name="wazuh-prod")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Integration.objects.get().name == "wazuh-prod"
    event = AuditEvent.objects.get(action="integration.updated")
    assert event.actor_label == "admin" and event.after["name"] == "wazuh-prod"
    assert call_command("audit", "verify") is None  # the chain still verifies
