"""HTTPS settings (Secure cookies, HSTS, redirect), the CSP header, and `check --deploy` with the
production environment exactly as docs/install.md writes it."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def documented_production_env() -> dict[str, str]:
    """The KEY=value lines of docs/install.md's "Environment" block (shell comments dropped)."""
    text = (ROOT / "docs" / "install.md").read_text()
    section = text.split("## 4. Environment", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    env = {}
    for line in block.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    return env


def run_socdesk(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`socdesk ARGS` in a fresh process with exactly this environment (plus a private data dir)."""
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "socdesk.cli", *args], env=clean, capture_output=True, text=True, timeout=120
    )


def settings_under(env: dict[str, str], tmp_path: Path, *names: str) -> dict[str, object]:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}))"
    )
    clean = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "socdesk.settings",
        "SOCDESK_DATA_DIR": str(tmp_path / "data"),
        **env,
    }
    out = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def production_env(tmp_path: Path) -> dict[str, str]:
    """The documented values, except the paths that exist only on a real install."""
    env = documented_production_env()
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(50))
    env.update(
        SECRET_KEY_FILE=str(key_file),
        SOCDESK_DATA_DIR=str(tmp_path / "data"),
        SOCDESK_MEDIA_DIR=str(tmp_path / "attachments"),
        EMAIL_HOST_PASSWORD_FILE=str(key_file),
    )
    return env


def test_documented_production_environment_passes_check_deploy(tmp_path):
    env = production_env(tmp_path)
    assert env["SOCDESK_REQUIRE_2FA_FOR_ADMINS"] == "true" and env["SOCDESK_HTTPS"] == "true"
    result = run_socdesk(["check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


def test_check_deploy_warns_when_admins_may_skip_two_factor(tmp_path):
    env = production_env(tmp_path)
    env["SOCDESK_REQUIRE_2FA_FOR_ADMINS"] = "false"
    env["SOCDESK_HTTPS"] = "false"
    result = run_socdesk(["check", "--deploy"], env, tmp_path)
    assert "accounts.W001" in result.stderr + result.stdout
    assert "Admins can sign in with a password alone." in result.stderr + result.stdout
    assert "accounts.W002" in result.stderr + result.stdout
    assert "security.W012" in result.stderr + result.stdout  # Django's own: session cookie not Secure


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({"SOCDESK_HTTPS": "true"}, True),
        ({"SOCDESK_HTTPS": "false", "SECRET_KEY": "x" * 50}, False),
        ({}, False),  # `make run` on http://127.0.0.1: cookies must still work
        ({"SECRET_KEY": "x" * 50}, True),  # a configured production install without the new setting
        ({"SOCDESK_HTTPS": "true", "SOCDESK_SECURE_COOKIES": "false"}, False),
    ],
)
def test_cookies_are_secure_whenever_the_site_is_https(env, secure, tmp_path):
    got = settings_under(env, tmp_path, "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    assert got == {"SESSION_COOKIE_SECURE": secure, "CSRF_COOKIE_SECURE": secure}


def test_proxy_and_hsts_settings(tmp_path):
    got = settings_under(
        {"SOCDESK_BEHIND_TLS_PROXY": "true", "SOCDESK_HSTS_SECONDS": "600", "SOCDESK_SSL_REDIRECT": "true"},
        tmp_path,
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_SSL_REDIRECT",
    )
    assert got == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_SSL_REDIRECT": True,
    }
    assert settings_under({}, tmp_path, "SECURE_PROXY_SSL_HEADER") == {"SECURE_PROXY_SSL_HEADER": None}


@pytest.fixture
def https_behind_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    return settings


def test_behind_a_tls_proxy_cookies_are_secure_and_http_is_redirected(https_behind_proxy, people, password):
    client = Client()  # built after the settings: the middleware reads them when it is created
    plain = client.get("/login")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/login"
    # Load balancers probe the backend over plain http: the health check is never redirected.
    assert client.get("/healthz").status_code in (200, 503)

    response = client.post(
        "/login", {"username": "alice", "password": password}, HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    page = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert client.cookies["csrftoken"]["secure"]


@pytest.mark.parametrize("path", ["/login", "/admin/", "/healthz", "/api/v1/docs"])
def test_every_page_carries_the_content_security_policy(client, db, path):
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


# Rendered only for mail clients (which drop style sheets) and WeasyPrint's PDF, never served as a page
# under the policy (socdesk/reports/report_render.py): inline styles are how e-mail HTML is written.
OUTSIDE_THE_BROWSER = {"socdesk/templates/reports/report.html", "socdesk/templates/reports/_bars.html"}


def test_no_template_has_inline_script_or_style():
    """The policy refuses them; a new one would break silently in the browser, so catch it here."""
    offenders = []
    for template in (ROOT / "socdesk").rglob("*.html"):
        if str(template.relative_to(ROOT)) in OUTSIDE_THE_BROWSER:
            assert "<script" not in template.read_text()
            continue
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|<style|\son[a-z]+=|hx-on|javascript:", text):
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []
