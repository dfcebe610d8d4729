"""The portal's single sign-on is configured from its own environment variables (docs/configuration.md),
apart from the agents': what they turn into, and a client id without an issuer stopping start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "portal": settings.SOCDESK_PORTAL_OIDC_ENABLED,
    "agents": settings.SOCDESK_OIDC_ENABLED,
    "issuer": settings.SOCDESK_PORTAL_OIDC_ISSUER,
    "client": settings.SOCDESK_PORTAL_OIDC_CLIENT_ID,
    "secret": settings.SOCDESK_PORTAL_OIDC_CLIENT_SECRET,
    "name": settings.SOCDESK_PORTAL_OIDC_PROVIDER_NAME,
    "scopes": settings.SOCDESK_PORTAL_OIDC_SCOPES,
    "domains": settings.SOCDESK_PORTAL_OIDC_DOMAINS,
}))
"""


def settings_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SOCDESK_OIDC", "SOCDESK_PORTAL"))}
    clean |= {"SOCDESK_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "socdesk.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_portal_single_sign_on_from_its_own_variables(tmp_path):
    secret = tmp_path / "portal_secret"
    secret.write_text("from-a-file\n")
    done = settings_with(
        tmp_path,
        SOCDESK_PORTAL_OIDC_ISSUER="https://id.northwind.example/",
        SOCDESK_PORTAL_OIDC_CLIENT_ID="socdesk-portal",
        SOCDESK_PORTAL_OIDC_CLIENT_SECRET_FILE=str(secret),
        SOCDESK_PORTAL_OIDC_PROVIDER_NAME="Northwind ID",
        SOCDESK_PORTAL_OIDC_DOMAINS="Northwind.example, @staff.northwind.example",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "portal": True,
        "agents": False,
        "issuer": "https://id.northwind.example",
        "client": "socdesk-portal",
        "secret": "from-a-file",
        "name": "Northwind ID",
        "scopes": "openid email profile",
        "domains": ["northwind.example", "staff.northwind.example"],
    }


def test_off_by_default(tmp_path):
    done = settings_with(tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["portal"] is False


def test_a_client_id_without_an_issuer_stops_start_up_naming_the_variables(tmp_path):
    done = settings_with(tmp_path, SOCDESK_PORTAL_OIDC_CLIENT_ID="socdesk-portal")
    assert done.returncode != 0
    assert "SOCDESK_PORTAL_OIDC_CLIENT_ID is set but SOCDESK_PORTAL_OIDC_ISSUER is not" in done.stderr
