"""`socdesk bootstrap`: one admin, a generated password printed once and stored only hashed."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from socdesk.accounts.models import Agent
from socdesk.audit.models import AuditEvent
from socdesk.core.bind import url_for_bind
from socdesk.ops.bootstrap import generate_password

pytestmark = pytest.mark.django_db
User = get_user_model()


def _bootstrap(*args) -> str:
    out = StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def test_bootstrap_creates_one_admin_and_prints_the_password_once():
    first = _bootstrap()
    password = re.search(r"Password:\s+(\S+)", first).group(1)
    assert "Username:  admin" in first and "http://127.0.0.1:" in first
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.agent.is_admin
    assert admin.check_password(password)
    assert admin.password.startswith("argon2") and password not in admin.password
    # Nothing in the audit trail holds the password either.
    assert not AuditEvent.objects.filter(after__icontains=password).exists()

    second = _bootstrap()
    assert "Password" not in second
    assert User.objects.filter(is_superuser=True).count() == 1


def test_generated_passwords_differ_and_are_long():
    passwords = {generate_password() for _ in range(20)}
    assert len(passwords) == 20 and all(len(p) == 23 for p in passwords)


def test_createsuperuser_users_become_admin_agents_and_no_second_admin_is_made(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-password")
    call_command(
        "createsuperuser", "--noinput", "--username=root", "--email=root@example.test", stdout=StringIO()
    )
    # SOCdesk's createsuperuser gives the login its admin agent at once (audited); bootstrap finds
    # nothing left to link and makes no second admin.
    assert Agent.objects.get(user__username="root").is_admin
    output = _bootstrap()
    assert "Superuser root is now an admin agent." not in output
    assert not User.objects.filter(username="admin").exists()
    assert "Password" not in output


def test_bootstrap_refuses_a_taken_username_with_a_clear_error(people):
    User.objects.filter(is_superuser=True).update(is_superuser=False)
    with pytest.raises(CommandError, match="Could not create the first admin: The username 'alice' is taken"):
        _bootstrap("--username=alice")
    assert not User.objects.filter(is_superuser=True).exists()


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/"),
        ("0.0.0.0:9000", "http://127.0.0.1:9000/"),
        ("localhost:8080", "http://localhost:8080/"),
        ("unix:/run/socdesk.sock", None),
    ],
)
def test_url_for_bind(bind, url):
    assert url_for_bind(bind) == url
