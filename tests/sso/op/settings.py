"""A throwaway OpenID provider (django-oidc-provider) that the SSO tests start on loopback.

It is not part of SOCdesk: a separate Django project with its own SQLite file, run as a subprocess so
that SOCdesk talks to it over real HTTP exactly as it would to Keycloak or Entra ID.
"""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
DB_PATH = os.environ["OP_DB_PATH"]

SECRET_KEY = "test-op-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oidc_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.sso.op.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB_PATH}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USE_TZ = True
LOGIN_URL = "/login"
# Browsers share cookies between ports of one host: names of its own, so SOCdesk's session survives.
SESSION_COOKIE_NAME = "op_sessionid"
CSRF_COOKIE_NAME = "op_csrftoken"
OIDC_USERINFO = "tests.sso.op.claims.userinfo"
OIDC_EXTRA_SCOPE_CLAIMS = "tests.sso.op.claims.GroupsScopeClaims"
OIDC_SKIP_CONSENT_EXPIRE = 0
