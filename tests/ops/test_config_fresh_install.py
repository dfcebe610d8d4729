"""The round trip the format promises, through the real `socdesk` command: export here, apply the file to a
fresh installation (another SQLite data dir, or on PostgreSQL another database), export there: same text."""

from __future__ import annotations

import pytest

from socdesk.ops.config.engine import config_export
from tests.ops.config_helpers import build_configuration
from tests.ops.test_backup import Target

# The agents the configuration names; a fresh installation gets them as logins before the file is applied.
AGENTS = ("admin", "alice", "bob")


@pytest.fixture
def fresh(tmp_path):
    target = Target(tmp_path, "config")
    yield target
    target.drop()


def run(target: Target, *args: str) -> str:
    done = target.socdesk(*args)
    assert done.returncode == 0, f"socdesk {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.django_db(transaction=True)
def test_export_apply_on_a_fresh_installation_export_gives_the_same_text(people, fresh, tmp_path):
    build_configuration(people)
    exported = config_export()
    path = tmp_path / "socdesk.yaml"
    path.write_text(exported)

    run(fresh, "migrate", "--verbosity", "0")
    fresh.env["DJANGO_SUPERUSER_PASSWORD"] = "a-long-enough-password"
    for username in AGENTS:
        run(
            fresh,
            "createsuperuser",
            "--noinput",
            f"--username={username}",
            f"--email={username}@example.test",
        )
    refused = fresh.socdesk("config", "apply", str(path).replace(".yaml", "-missing.yaml"))
    assert refused.returncode == 1 and "Cannot read" in refused.stderr

    dry = run(fresh, "config", "apply", str(path), "--dry-run")
    assert "21 created, 0 updated, 0 unchanged" in dry
    assert "- name:" not in run(fresh, "config", "export")  # the dry run wrote nothing
    applied = run(fresh, "config", "apply", str(path))
    assert "  created    Wazuh critical from servers" in applied.splitlines()
    assert "21 created, 0 updated, 0 unchanged." in applied
    assert run(fresh, "config", "export") == exported
    again = run(fresh, "config", "apply", str(path))
    assert "0 created, 0 updated, 21 unchanged." in again
