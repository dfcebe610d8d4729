"""Sign-in, sign-out, throttling and their audit events."""

import pytest
from django.contrib.auth import get_user_model

from socdesk.accounts.models import Agent
from socdesk.audit.models import AuditEvent


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_login_page_has_labelled_fields(client, people):
    html = client.get("/login").content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html


def test_login_success_is_audited_and_redirects(client, people, password):
    response = client.post("/login", {"username": "alice", "password": password}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302 and response["Location"] == "/"
    (event,) = _events("auth.login")
    assert event.actor_label == "alice" and event.ip == "10.1.2.3" and event.actor_type == "agent"
    assert client.get("/").status_code == 200


def test_login_keeps_safe_next_and_drops_foreign_one(client, people, password):
    response = client.post(
        "/login", {"username": "alice", "password": password, "next": "/tickets/?queue=all"}
    )
    assert response["Location"] == "/tickets/?queue=all"
    client.logout()
    response = client.post(
        "/login", {"username": "alice", "password": password, "next": "https://evil.test/"}
    )
    assert response["Location"] == "/"


def test_failed_login_is_audited_as_anonymous_with_username_and_ip(client, people):
    response = client.post("/login", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 400
    assert "Please enter a correct username and password" in response.content.decode()
    (event,) = _events("auth.login_failed")
    assert event.actor_type == "anonymous" and event.actor_label == "alice" and event.ip == "10.9.9.9"
    assert event.after["username"] == "alice" and event.after["reason"] == "bad_credentials"
    assert not _events("auth.login")


def test_failed_logins_are_throttled_per_username(client, people, password, settings):
    settings.LOGIN_USERNAME_FAILURE_LIMIT = 3
    for n in range(3):
        client.post("/login", {"username": "alice", "password": "nope"}, REMOTE_ADDR=f"10.0.0.{n + 1}")
    # Even the right password from a fresh address is refused while the username is locked.
    response = client.post("/login", {"username": "alice", "password": password}, REMOTE_ADDR="10.0.0.99")
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed sign-ins" in text and "Try again in" in text
    assert int(response["Retry-After"]) > 0
    assert not _events("auth.login")
    assert _events("auth.login_failed")[-1].after["reason"] == "throttled"
    # Another user is not locked out by alice's failures (different IP).
    response = client.post("/login", {"username": "bob", "password": password}, REMOTE_ADDR="10.0.0.98")
    assert response.status_code == 302


def test_failed_logins_are_throttled_per_ip(client, people, password, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    for name in ("x1", "x2", "x3"):
        client.post("/login", {"username": name, "password": "nope"}, REMOTE_ADDR="192.0.2.7")
    response = client.post("/login", {"username": "bob", "password": password}, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 429
    response = client.post("/login", {"username": "bob", "password": password}, REMOTE_ADDR="192.0.2.8")
    assert response.status_code == 302


def test_logout_is_post_only_and_audited(client, people, password):
    client.post("/login", {"username": "bob", "password": password})
    assert client.get("/logout").status_code == 200  # a confirmation page; a link never signs out
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302 and response["Location"] == "/login"
    (event,) = _events("auth.logout")
    assert event.actor_label == "bob"
    assert client.get("/").status_code == 302


def test_createsuperuser_user_gets_an_agent_on_login(client, db):
    User = get_user_model()
    User.objects.create_superuser("root", "root@example.test", "a-long-enough-password")
    response = client.post("/login", {"username": "root", "password": "a-long-enough-password"})
    assert response.status_code == 302
    agent = Agent.objects.get(user__username="root")
    assert agent.is_admin
    assert client.get("/audit/").status_code == 200


def test_login_without_agent_profile_is_refused(client, db):
    get_user_model().objects.create_user("plain", "p@example.test", "a-long-enough-password")
    response = client.post("/login", {"username": "plain", "password": "a-long-enough-password"})
    assert response.status_code == 403
    assert "no agent profile" in response.content.decode()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("url", ["/", "/tickets/", "/tickets/new", "/tickets/SOC-1001/", "/audit/"])
def test_every_console_page_requires_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=")


def test_passwords_are_stored_with_argon2(people):
    assert people.alice.user.password.startswith("argon2$")
