"""`socdesk department create|list`: what docs/install.md runs on a fresh install."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from socdesk.accounts.models import Department
from socdesk.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("department", *args, stdout=out)
    return out.getvalue()


def test_create_is_audited_and_prints_the_slug():
    assert "No departments yet" in run("list")
    assert run("create", "--name", "Security Operations", "--email", "soc@example.test") == (
        "Created department 'Security Operations' (slug security-operations).\n"
    )
    department = Department.objects.get()
    assert department.email == "soc@example.test"
    event = AuditEvent.objects.get(action="department.created")
    assert event.target_id == str(department.pk) and event.actor_label == "cli:department"
    assert run("list") == "security-operations\tSecurity Operations\n"


@pytest.mark.parametrize(
    "name, message",
    [("soc", "A department named 'soc' already exists."), ("   ", "--name is empty")],
)
def test_a_refused_create_says_why_and_creates_nothing(name, message):
    run("create", "--name", "SOC")
    with pytest.raises(CommandError, match=message):
        run("create", "--name", name)
    assert Department.objects.count() == 1
    assert AuditEvent.objects.filter(action="department.created").count() == 1
