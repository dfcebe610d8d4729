"""The operator docs stay in sync with the code."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_environment_variable_in_settings_is_documented():
    settings_source = (REPO / "socdesk/settings.py").read_text()
    read = set(
        re.findall(
            r"env_(?:str|bool|int|float|list|secret|networks)\(\s*[\"']([A-Z0-9_]+)[\"']", settings_source
        )
    )
    assert {"DATABASE_URL", "SECRET_KEY", "REDIS_URL"} <= read  # the pattern finds them at all
    documented = set(re.findall(r"`([A-Z0-9_]+)`", (REPO / "docs/configuration.md").read_text()))
    missing = sorted(read - documented)
    assert not missing, f"add these to docs/configuration.md: {', '.join(missing)}"


def test_every_operator_command_is_in_the_cli_docs():
    # The operator commands (core, audit, ops, demo, and alerts' ingest loop); other domain apps
    # document their own commands on their page.
    commands = {
        p.stem
        for app in ("core", "audit", "ops", "demo", "alerts")
        for p in (REPO / "socdesk" / app / "management/commands").glob("*.py")
        if p.stem != "__init__"
    }
    cli_doc = (REPO / "docs/cli.md").read_text()
    missing = sorted(name for name in commands if f"socdesk {name}" not in cli_doc)
    assert not missing, f"document these commands in docs/cli.md: {', '.join(missing)}"
