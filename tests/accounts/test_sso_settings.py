"""Single sign-on is configured from the environment (docs/configuration.md): what the variables turn
into, and a wrong value stopping start-up with a sentence that names the variable."""

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
    "backends": settings.AUTHENTICATION_BACKENDS,
    "oidc": settings.SOCDESK_OIDC_ENABLED,
    "secret": settings.OIDC_RP_CLIENT_SECRET,
    "map": {k: [vars(g) for g in v] for k, v in settings.SOCDESK_OIDC_GROUP_MAP.items()},
    "ldap_user_base": getattr(getattr(settings, "AUTH_LDAP_USER_SEARCH", None), "base_dn", None),
    "ldap_map": sorted(settings.SOCDESK_LDAP_GROUP_MAP),
}))
"""


def settings_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SOCDESK_OIDC", "SOCDESK_LDAP"))}
    clean |= {"SOCDESK_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "socdesk.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_oidc_and_ldap_from_the_environment(tmp_path):
    secret = tmp_path / "oidc_secret"
    secret.write_text("from-a-file\n")
    group_map = tmp_path / "ldap_map.json"
    group_map.write_text(json.dumps({"cn=soc,ou=groups": {"department": "soc", "role": "Analyst"}}))
    done = settings_with(
        tmp_path,
        SOCDESK_OIDC_ISSUER="https://id.example.test/realms/soc/",
        SOCDESK_OIDC_CLIENT_ID="socdesk",
        SOCDESK_OIDC_CLIENT_SECRET_FILE=str(secret),
        SOCDESK_OIDC_GROUP_MAP='{"soc": [{"department": "soc", "role": "Lead"}]}',
        SOCDESK_LDAP_SERVER_URI="ldap://ldap.example.test",
        SOCDESK_LDAP_USER_SEARCH_BASE="ou=people,dc=example,dc=test",
        SOCDESK_LDAP_GROUP_SEARCH_BASE="ou=groups,dc=example,dc=test",
        SOCDESK_LDAP_GROUP_MAP_FILE=str(group_map),
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["backends"] == [
        "django.contrib.auth.backends.ModelBackend",
        "socdesk.accounts.ldap_backend.DirectoryLDAPBackend",
        "socdesk.accounts.oidc.DirectoryOIDCBackend",
    ]
    assert got["oidc"] is True and got["secret"] == "from-a-file"
    assert got["map"] == {"soc": [{"department": "soc", "role": "Lead"}]}
    assert got["ldap_user_base"] == "ou=people,dc=example,dc=test"
    assert got["ldap_map"] == ["cn=soc,ou=groups"]


def test_by_default_only_local_passwords(tmp_path):
    done = settings_with(tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["backends"] == ["django.contrib.auth.backends.ModelBackend"]


def test_a_malformed_group_map_stops_start_up_naming_the_variable(tmp_path):
    done = settings_with(tmp_path, SOCDESK_OIDC_GROUP_MAP='{"soc": {"department": "soc"}}')
    assert done.returncode != 0
    assert "SOCDESK_OIDC_GROUP_MAP: the entry for group 'soc' must be" in done.stderr
    done = settings_with(tmp_path, SOCDESK_LDAP_GROUP_MAP="{not json")
    assert "SOCDESK_LDAP_GROUP_MAP is not valid JSON" in done.stderr


def test_turning_password_sign_in_off_without_sso_is_refused(tmp_path):
    done = settings_with(tmp_path, SOCDESK_PASSWORD_LOGIN="false")
    assert done.returncode != 0
    assert "SOCDESK_PASSWORD_LOGIN=false leaves no way to sign in" in done.stderr
    done = settings_with(
        tmp_path, SOCDESK_PASSWORD_LOGIN="false", SOCDESK_OIDC_CLIENT_ID="c", SOCDESK_OIDC_ISSUER="https://i"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["backends"] == ["socdesk.accounts.oidc.DirectoryOIDCBackend"]


def test_a_client_id_without_issuer_or_endpoints_is_refused(tmp_path):
    done = settings_with(tmp_path, SOCDESK_OIDC_CLIENT_ID="socdesk")
    assert done.returncode != 0
    assert "neither SOCDESK_OIDC_ISSUER" in done.stderr
