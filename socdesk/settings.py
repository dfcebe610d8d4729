"""SOCdesk settings: one module, every knob read from the environment (see docs/configuration.md)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from socdesk.accounts.groupmap import load_group_map
from socdesk.core.email_url import parse_email_url
from socdesk.core.env import env_bool, env_float, env_int, env_list, env_networks, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("SOCDESK_DATA_DIR", "./var")).resolve()
DEBUG = env_bool("DEBUG", False)


def _data_dir() -> Path:
    """The data dir, created on first use (only the embedded SQLite database and queue need it)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return DATA_DIR


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into the data dir and reused."""
    key = env_secret("SECRET_KEY")
    if key:
        return key
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    _data_dir()
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # First, so that its `changepassword` and `createsuperuser` (audited) replace django.contrib.auth's.
    "socdesk.accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    # Two-factor sign-in: TOTP authenticator apps and one-time recovery codes (accounts/twofactor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Content-Security-Policy header on every response (policy below).
    "csp",
    "socdesk.core",
    "socdesk.audit",
    "socdesk.tickets",
    # Above tickets and below alerts (docs/architecture.md): help topics, SLA plans, ticket filters.
    "socdesk.routing",
    # Above routing (playbooks use custom fields; filters and help topics apply them): tasks, playbooks.
    "socdesk.cases",
    # Above routing (it listens to SLA escalations) and below the API: agents' notifications.
    "socdesk.notifications",
    "socdesk.api",
    # django-ninja as an app so its API docs page uses the bundled Swagger UI from our static files
    # (without it ninja loads the UI from a CDN, which air-gapped SOCs cannot reach).
    "ninja",
    "socdesk.alerts",
    # Above alerts (suggestions read a ticket's observables): the knowledge base (docs/console.md).
    "socdesk.kb",
    # Above alerts (it reads observables with the alerts' finder): mail in and out (docs/email.md).
    "socdesk.mail",
    # Above mail (the top of the domain layer): SOC metrics' roll-ups and the figures read off them.
    "socdesk.reports",
    # Top of the layers: packages that use every app above (see docs/architecture.md).
    "socdesk.demo",
    "socdesk.ops",
    # The requester portal (/portal/): an interface over the apps above; nothing imports it.
    "socdesk.portal",
]

MIDDLEWARE = [
    # Outermost: counts and times every request, static files and refusals by the middleware below too.
    "socdesk.core.request_metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "socdesk.core.bodies.StreamedBodyMiddleware",  # Transfer-Encoding: chunked bodies, within the limit
    # Serves collected static files with far-future caching and compression, under granian too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): True once this session passed the second step (or has no device).
    "django_otp.middleware.OTPMiddleware",
    # An agent with a device, or whose role requires one, reaches nothing else until the second step
    # or enrollment is done (the console, the admin and any session use of the API alike).
    "socdesk.accounts.twofactor_middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Innermost, so the page it puts in place of a bare 405 still gets the security headers above.
    "socdesk.core.error_pages.MethodNotAllowedPageMiddleware",
]
# A refused CSRF check (a form kept open across sign-out) is a page in the console's style.
CSRF_FAILURE_VIEW = "socdesk.core.error_pages.csrf_failure"

ROOT_URLCONF = "socdesk.urls"
WSGI_APPLICATION = "socdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "socdesk.accounts.context_processors.sign_in_options",
                "socdesk.accounts.context_processors.admin_area",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            # Django takes a Path here (its own project template does); django-stubs types NAME as str.
            "NAME": _data_dir() / "socdesk.sqlite3",  # type: ignore[typeddict-item]
            # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on the busy timeout
            # instead of failing half-way with "database is locked".
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
            # Kept open between requests as PostgreSQL's are: opening the file and setting it up
            # (socdesk.core.db) on every request costs more CPU than many a request's own queries.
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            # A file, not Django's shared in-memory default, so concurrency tests see real SQLite locking.
            "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background work (Huey) -----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
HUEY_IMMEDIATE = env_bool("SOCDESK_TASKS_IMMEDIATE", False)
HUEY: dict[str, Any]
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": "socdesk",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env_int("SOCDESK_WORKER_THREADS", 4), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "socdesk.core.queue.SqliteHuey",
        "name": "socdesk",
        "filename": str(_data_dir() / "tasks.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env_int("SOCDESK_WORKER_THREADS", 2), "worker_type": "thread"},
    }

# --- serving (`socdesk serve` / `socdesk run`) -----------------------------------------------------
SOCDESK_BIND = env_str("SOCDESK_BIND", f"127.0.0.1:{env_int('PORT', 8000)}")
# Web server processes. On SQLite one: the file has one writer, so more processes only add memory (each
# holds all of Django) while their writes queue on the same lock; its threads serve requests side by
# side. On PostgreSQL one per core: each process forms its own write groups and the ingest loops need
# the same cores, so a third process on two cores cost more CPU per request (docs/benchmarks.md).
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
SOCDESK_WEB_WORKERS = env_int("SOCDESK_WEB_WORKERS", _CORES if DATABASE_URL else 1)
SOCDESK_WEB_THREADS = env_int("SOCDESK_WEB_THREADS", 16)
SOCDESK_ACCESS_LOG = env_bool("SOCDESK_ACCESS_LOG", True)

# --- /metrics (Prometheus; docs/metrics.md) --------------------------------------------------------
# A scrape is let in by the bearer token or by its address (after SOCDESK_TRUSTED_PROXIES); else 404.
SOCDESK_METRICS_TOKEN = env_secret("SOCDESK_METRICS_TOKEN")
SOCDESK_METRICS_ALLOW = env_networks("SOCDESK_METRICS_ALLOW", ["127.0.0.1/32", "::1/128"])
# Database readings (backlog, open tickets...) are reused for this long, so a tight scrape interval or
# several Prometheus servers cost the database one set of queries per interval per web process.
SOCDESK_METRICS_CACHE_SECONDS = env_float("SOCDESK_METRICS_CACHE_SECONDS", 5.0)

# --- cache ----------------------------------------------------------------------------------------
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "socdesk_cache",
        }
    }

# --- auth and sessions ----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Sign-in throttling (socdesk.accounts.throttle): failures per (username, address), per address, and
# per username from anywhere; the last is high so that nobody can lock an account out from everywhere.
LOGIN_FAILURE_LIMIT = env_int("SOCDESK_LOGIN_FAILURE_LIMIT", 5)
LOGIN_IP_FAILURE_LIMIT = env_int("SOCDESK_LOGIN_IP_FAILURE_LIMIT", 20)
LOGIN_USERNAME_FAILURE_LIMIT = env_int("SOCDESK_LOGIN_USERNAME_FAILURE_LIMIT", 100)
LOGIN_FAILURE_WINDOW = env_int("SOCDESK_LOGIN_FAILURE_WINDOW", 900)
# How long a rotated API key keeps working next to its replacement (socdesk.accounts.services.apikey_rotate).
SOCDESK_API_KEY_ROTATION_GRACE = env_int("SOCDESK_API_KEY_ROTATION_GRACE", 86400)

# HTTPS: set SOCDESK_HTTPS=true when agents reach SOCdesk over https:// (directly or through a TLS proxy).
# Unset, an install with SECRET_KEY in its environment and DEBUG off is taken to be a production one.
SOCDESK_HTTPS = env_bool(
    "SOCDESK_HTTPS", not DEBUG and bool(env_str("SECRET_KEY") or env_str("SECRET_KEY_FILE"))
)
# Cookies marked Secure are never sent over plain http, so a stolen session cannot leak off the wire.
SECURE_COOKIES = env_bool("SOCDESK_SECURE_COOKIES", SOCDESK_HTTPS)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SOCDESK_SESSION_AGE", 12 * 3600)
# Redirecting http to https and HSTS may be the TLS proxy's job; when SOCdesk does them, /healthz stays
# reachable over plain http so load balancers that probe the backend directly keep working.
SECURE_SSL_REDIRECT = env_bool("SOCDESK_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SOCDESK_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SOCDESK_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SOCDESK_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy the request reaches us over http; the proxy's X-Forwarded-Proto says
# whether the browser used https. Only set it when the proxy always sets (or strips) that header.
if env_bool("SOCDESK_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): scripts, styles and everything else from our own origin only:
# no inline script or style anywhere (htmx is configured in base.html not to inject its indicator
# styles, and never evaluates code). form-action is left open on purpose: it also restricts where a
# form's redirect may go, and single sign-on posts to an identity provider on another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # The enrollment QR code is inline SVG markup (not an image URL); data: covers admin widgets.
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- two-factor sign-in (TOTP + recovery codes) ---------------------------------------------------
# Admins must enroll before they can use anything (documented as on for production installs).
SOCDESK_REQUIRE_2FA_FOR_ADMINS = env_bool("SOCDESK_REQUIRE_2FA_FOR_ADMINS", False)
# The issuer name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env_str("SOCDESK_2FA_ISSUER", "SOCdesk")
# A code from the previous or next 30-second step is accepted (clock drift between phone and server).
OTP_TOTP_TOLERANCE = 1
# Client IPs: X-Forwarded-For is trusted only from these proxies (CIDR list).
TRUSTED_PROXIES = env_list("SOCDESK_TRUSTED_PROXIES")
SILENCED_SYSTEM_CHECKS = env_list("SOCDESK_SILENCED_CHECKS")

# --- single sign-on: OpenID Connect and LDAP (docs/security.md, docs/configuration.md) --------------
# Shown on the sign-in page and refusal pages: "Sign in with <name>".
SOCDESK_OIDC_PROVIDER_NAME = env_str("SOCDESK_OIDC_PROVIDER_NAME", "single sign-on")
SOCDESK_OIDC_ISSUER = env_str("SOCDESK_OIDC_ISSUER").rstrip("/")
OIDC_RP_CLIENT_ID = env_str("SOCDESK_OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_secret("SOCDESK_OIDC_CLIENT_SECRET")
SOCDESK_OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
# Endpoints: from the issuer's discovery document unless given one by one (providers without discovery).
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("SOCDESK_OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("SOCDESK_OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("SOCDESK_OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("SOCDESK_OIDC_JWKS_ENDPOINT")
OIDC_RP_SIGN_ALGO = env_str("SOCDESK_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("SOCDESK_OIDC_SCOPES", "openid email profile groups")
OIDC_USE_PKCE = env_bool("SOCDESK_OIDC_USE_PKCE", True)
OIDC_TIMEOUT = env_int("SOCDESK_OIDC_TIMEOUT", 10)
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
SOCDESK_OIDC_GROUPS_CLAIM = env_str("SOCDESK_OIDC_GROUPS_CLAIM", "groups")
SOCDESK_OIDC_USERNAME_CLAIM = env_str("SOCDESK_OIDC_USERNAME_CLAIM", "preferred_username")
SOCDESK_OIDC_GROUP_MAP = load_group_map(
    env_str("SOCDESK_OIDC_GROUP_MAP"), env_str("SOCDESK_OIDC_GROUP_MAP_FILE"), "SOCDESK_OIDC_GROUP_MAP"
)
SOCDESK_OIDC_CREATE_AGENTS = env_bool("SOCDESK_OIDC_CREATE_AGENTS", True)
if SOCDESK_OIDC_ENABLED and not (SOCDESK_OIDC_ISSUER or OIDC_OP_AUTHORIZATION_ENDPOINT):
    raise ImproperlyConfigured(
        "SOCDESK_OIDC_CLIENT_ID is set but neither SOCDESK_OIDC_ISSUER (for discovery) nor the endpoints "
        "(SOCDESK_OIDC_AUTHORIZATION_ENDPOINT, _TOKEN_ENDPOINT, _USERINFO_ENDPOINT, _JWKS_ENDPOINT) are."
    )
# Off: the username and password form is gone (local and LDAP passwords); agents sign in with OIDC only.
SOCDESK_PASSWORD_LOGIN = env_bool("SOCDESK_PASSWORD_LOGIN", True)
if not SOCDESK_PASSWORD_LOGIN and not SOCDESK_OIDC_ENABLED:
    raise ImproperlyConfigured(
        "SOCDESK_PASSWORD_LOGIN=false leaves no way to sign in: configure OpenID Connect "
        "(SOCDESK_OIDC_CLIENT_ID and SOCDESK_OIDC_ISSUER) first."
    )

AUTH_LDAP_SERVER_URI = env_str("SOCDESK_LDAP_SERVER_URI")
AUTH_LDAP_BIND_DN = env_str("SOCDESK_LDAP_BIND_DN")
AUTH_LDAP_BIND_PASSWORD = env_secret("SOCDESK_LDAP_BIND_PASSWORD")
AUTH_LDAP_START_TLS = env_bool("SOCDESK_LDAP_START_TLS", False)
SOCDESK_LDAP_USER_SEARCH_BASE = env_str("SOCDESK_LDAP_USER_SEARCH_BASE")
SOCDESK_LDAP_USER_FILTER = env_str("SOCDESK_LDAP_USER_FILTER", "(uid=%(user)s)")
SOCDESK_LDAP_GROUP_SEARCH_BASE = env_str("SOCDESK_LDAP_GROUP_SEARCH_BASE")
SOCDESK_LDAP_GROUP_FILTER = env_str("SOCDESK_LDAP_GROUP_FILTER", "(objectClass=groupOfNames)")
AUTH_LDAP_USER_ATTR_MAP = {"first_name": "givenName", "last_name": "sn", "email": "mail"}
# The accounts services write the agent, not django-auth-ldap (see socdesk/accounts/ldap_backend.py).
AUTH_LDAP_ALWAYS_UPDATE_USER = False
AUTH_LDAP_CACHE_TIMEOUT = 0
AUTH_LDAP_CONNECTION_OPTIONS: dict[int, Any] = {}
SOCDESK_LDAP_GROUP_MAP = load_group_map(
    env_str("SOCDESK_LDAP_GROUP_MAP"), env_str("SOCDESK_LDAP_GROUP_MAP_FILE"), "SOCDESK_LDAP_GROUP_MAP"
)
SOCDESK_LDAP_CREATE_AGENTS = env_bool("SOCDESK_LDAP_CREATE_AGENTS", True)
if AUTH_LDAP_SERVER_URI:
    if not SOCDESK_LDAP_USER_SEARCH_BASE:
        raise ImproperlyConfigured("SOCDESK_LDAP_SERVER_URI is set: set SOCDESK_LDAP_USER_SEARCH_BASE too.")
    import ldap
    from django_auth_ldap.config import GroupOfNamesType, LDAPSearch

    AUTH_LDAP_USER_SEARCH = LDAPSearch(
        SOCDESK_LDAP_USER_SEARCH_BASE, ldap.SCOPE_SUBTREE, SOCDESK_LDAP_USER_FILTER
    )
    if SOCDESK_LDAP_GROUP_SEARCH_BASE:
        AUTH_LDAP_GROUP_SEARCH = LDAPSearch(
            SOCDESK_LDAP_GROUP_SEARCH_BASE, ldap.SCOPE_SUBTREE, SOCDESK_LDAP_GROUP_FILTER
        )
        AUTH_LDAP_GROUP_TYPE = GroupOfNamesType()
    AUTH_LDAP_CONNECTION_OPTIONS = {ldap.OPT_NETWORK_TIMEOUT: env_int("SOCDESK_LDAP_TIMEOUT", 10)}

AUTHENTICATION_BACKENDS = []
if SOCDESK_PASSWORD_LOGIN:
    AUTHENTICATION_BACKENDS.append("django.contrib.auth.backends.ModelBackend")
    if AUTH_LDAP_SERVER_URI:
        AUTHENTICATION_BACKENDS.append("socdesk.accounts.ldap_backend.DirectoryLDAPBackend")
if SOCDESK_OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("socdesk.accounts.oidc.DirectoryOIDCBackend")

# --- i18n / time ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("SOCDESK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- static files and uploads ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Compressed but not hashed names: a hashed manifest would make every template render fail until
# `collectstatic` has run, which tests and fresh checkouts have not done.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("SOCDESK_MEDIA_DIR", str(DATA_DIR / "attachments"))).resolve()
ATTACHMENT_MAX_BYTES = env_int("SOCDESK_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SOCDESK_MAX_BODY_BYTES", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- email ----------------------------------------------------------------------------------------
# EMAIL_URL (smtp://user:pass@host:587?tls=1, smtps://..., console://) is a shorthand for the variables
# below; each of them that is set wins over the URL (socdesk/core/email_url.py).
EMAIL_URL = env_secret("EMAIL_URL")
_MAIL: dict[str, Any] = parse_email_url(EMAIL_URL) if EMAIL_URL else {}
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND", _MAIL.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
)
EMAIL_HOST = env_str("EMAIL_HOST", _MAIL.get("EMAIL_HOST", "localhost"))
EMAIL_PORT = env_int("EMAIL_PORT", _MAIL.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", _MAIL.get("EMAIL_HOST_USER", ""))
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", _MAIL.get("EMAIL_HOST_PASSWORD", ""))
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", _MAIL.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", _MAIL.get("EMAIL_USE_SSL", False))
# Seconds to wait for the mail server; unset (0): Django's default, no limit.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", _MAIL.get("EMAIL_TIMEOUT", 0)) or None
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "EMAIL_USE_TLS (STARTTLS) and EMAIL_USE_SSL (TLS from the start) are both on; choose one: TLS "
        "for port 587, SSL for port 465."
    )
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "socdesk@localhost")
# The people an incoming e-mail was copied to (Cc, and To besides SOCdesk's own) become collaborators.
SOCDESK_MAIL_CC_COLLABORATORS = env_bool("SOCDESK_MAIL_CC_COLLABORATORS", True)
# The console's address as agents reach it, for links in mail (notifications): no request to read it from.
SOCDESK_BASE_URL = env_str("SOCDESK_BASE_URL", f"http://{SOCDESK_BIND}")
# --- requester portal (docs/portal.md) ------------------------------------------------------------
# A one-time sign-in link works this many minutes, once.
SOCDESK_PORTAL_LINK_MINUTES = env_int("SOCDESK_PORTAL_LINK_MINUTES", 15)
# Sign-in links asked for per address and per client IP in SOCDESK_PORTAL_LIMIT_WINDOW seconds.
SOCDESK_PORTAL_LINKS_PER_ADDRESS = env_int("SOCDESK_PORTAL_LINKS_PER_ADDRESS", 5)
SOCDESK_PORTAL_LINKS_PER_IP = env_int("SOCDESK_PORTAL_LINKS_PER_IP", 20)
# Reports (new tickets) sent from the portal per requester and per client IP in the same window.
SOCDESK_PORTAL_REPORTS_PER_ADDRESS = env_int("SOCDESK_PORTAL_REPORTS_PER_ADDRESS", 10)
SOCDESK_PORTAL_REPORTS_PER_IP = env_int("SOCDESK_PORTAL_REPORTS_PER_IP", 30)
# Single sign-on callbacks (each one a request to the provider) per client IP in the same window.
SOCDESK_PORTAL_SSO_PER_IP = env_int("SOCDESK_PORTAL_SSO_PER_IP", 100)
SOCDESK_PORTAL_LIMIT_WINDOW = env_int("SOCDESK_PORTAL_LIMIT_WINDOW", 3600)
# Besides people who already have a ticket, addresses at these domains (and at an organisation's domain)
# may sign in to the portal: employees reporting something for the first time.
SOCDESK_PORTAL_DOMAINS = [d.lower().lstrip("@") for d in env_list("SOCDESK_PORTAL_DOMAINS")]
# How long a requester stays signed in to the portal (its own cookie, never the agents' session).
SOCDESK_PORTAL_SESSION_AGE = env_int("SOCDESK_PORTAL_SESSION_AGE", 8 * 3600)
# Requesters' single sign-on: an OpenID provider of their own, apart from the agents' (SOCDESK_OIDC_*).
SOCDESK_PORTAL_OIDC_PROVIDER_NAME = env_str("SOCDESK_PORTAL_OIDC_PROVIDER_NAME", "single sign-on")
SOCDESK_PORTAL_OIDC_ISSUER = env_str("SOCDESK_PORTAL_OIDC_ISSUER").rstrip("/")
SOCDESK_PORTAL_OIDC_CLIENT_ID = env_str("SOCDESK_PORTAL_OIDC_CLIENT_ID")
SOCDESK_PORTAL_OIDC_CLIENT_SECRET = env_secret("SOCDESK_PORTAL_OIDC_CLIENT_SECRET")
SOCDESK_PORTAL_OIDC_SCOPES = env_str("SOCDESK_PORTAL_OIDC_SCOPES", "openid email profile")
SOCDESK_PORTAL_OIDC_SIGN_ALGO = env_str("SOCDESK_PORTAL_OIDC_SIGN_ALGO", "RS256")
# Empty: any address the provider has verified; else only addresses at these domains.
SOCDESK_PORTAL_OIDC_DOMAINS = [d.lower().lstrip("@") for d in env_list("SOCDESK_PORTAL_OIDC_DOMAINS")]
SOCDESK_PORTAL_OIDC_ENABLED = bool(SOCDESK_PORTAL_OIDC_CLIENT_ID)
if SOCDESK_PORTAL_OIDC_ENABLED and not SOCDESK_PORTAL_OIDC_ISSUER:
    raise ImproperlyConfigured(
        "SOCDESK_PORTAL_OIDC_CLIENT_ID is set but SOCDESK_PORTAL_OIDC_ISSUER is not: the portal's single "
        "sign-on finds its provider's endpoints and keys from the issuer's discovery document."
    )
# At most this many auto-responses to one address per hour (a loop or a flood stops there); 0: none at all.
SOCDESK_MAIL_AUTORESPONSE_LIMIT = env_int("SOCDESK_MAIL_AUTORESPONSE_LIMIT", 5)
# What the requester's e-mail to a closed ticket does, where its department does not say: `reopen` it, or
# open a `new` ticket linked to it (a closed case stays closed as evidence).
SOCDESK_MAIL_CLOSED_REPLY = env_str("SOCDESK_MAIL_CLOSED_REPLY", "reopen").strip().lower()
if SOCDESK_MAIL_CLOSED_REPLY not in ("reopen", "new"):
    raise ImproperlyConfigured(
        f"SOCDESK_MAIL_CLOSED_REPLY is {SOCDESK_MAIL_CLOSED_REPLY!r}: use reopen (a reply reopens a closed "
        "ticket) or new (a reply opens a new ticket linked to it)."
    )

# --- SOCdesk --------------------------------------------------------------------------------------
SOCDESK_TICKET_PREFIX = env_str("SOCDESK_TICKET_PREFIX", "SOC")
SOCDESK_QUEUE_PAGE_SIZE = env_int("SOCDESK_QUEUE_PAGE_SIZE", 50)
# Queue counts above this are shown as "N+" so that counting never scans a whole large table.
SOCDESK_COUNT_CAP = env_int("SOCDESK_COUNT_CAP", 1_000)
# Queue counts are reused this many seconds per agent and filter (rows are always live); 0 disables.
SOCDESK_COUNT_CACHE_SECONDS = env_int("SOCDESK_COUNT_CACHE_SECONDS", 10)
# An agent counts as "viewing" a ticket for this many seconds after their last heartbeat.
SOCDESK_PRESENCE_SECONDS = env_int("SOCDESK_PRESENCE_SECONDS", 60)
# Password for the demo agents that `socdesk demo` creates; unset, they cannot sign in at all.
SOCDESK_DEMO_PASSWORD = env_secret("SOCDESK_DEMO_PASSWORD")
# Department (slug) for API tickets when neither the request nor the key names one; else the first one.
SOCDESK_DEFAULT_DEPARTMENT = env_str("SOCDESK_DEFAULT_DEPARTMENT")
# Requests per minute per API key, every API surface; 0 disables the limit.
SOCDESK_API_RATE_LIMIT = env_int("SOCDESK_API_RATE_LIMIT", 6000)
# API keys, webhook integrations and a key's default department are remembered this long by each web
# process (see core/recent.py): also how long a revocation made elsewhere may go unnoticed.
SOCDESK_LOOKUP_CACHE_SECONDS = env_float("SOCDESK_LOOKUP_CACHE_SECONDS", 1.0)
# Alert deliveries: the sweep re-runs those still pending after this many seconds; a worker's claim
# on a delivery is considered dead (crashed worker) after the lease.
SOCDESK_DELIVERY_SWEEP_AFTER = env_int("SOCDESK_DELIVERY_SWEEP_AFTER", 30)
SOCDESK_DELIVERY_LEASE_SECONDS = env_int("SOCDESK_DELIVERY_LEASE_SECONDS", 300)
# A worker turns up to this many waiting deliveries into alerts in one transaction (on SQLite that
# transaction holds the write lock, so webhook replies wait for it: keep it modest).
SOCDESK_DELIVERY_BATCH = env_int("SOCDESK_DELIVERY_BATCH", 500 if DATABASE_URL else 50)
# ... and at most about this many bytes of request bodies (a body can hold hundreds of alerts); smaller
# on SQLite, where webhook replies wait for the batch's write lock.
SOCDESK_DELIVERY_BATCH_BYTES = env_int("SOCDESK_DELIVERY_BATCH_BYTES", 524288 if DATABASE_URL else 8192)
# Each ingest loop's process refreshes a heartbeat row this often; a loop silent for the timeout is
# taken for dead and its claims go back to the queue (socdesk.alerts.ingest.claimants), so a killed
# loop's deliveries wait seconds, not the lease. Keep the timeout a few heartbeats long.
SOCDESK_INGEST_HEARTBEAT_SECONDS = env_float("SOCDESK_INGEST_HEARTBEAT_SECONDS", 2.0)
SOCDESK_INGEST_CLAIMANT_TIMEOUT = env_float("SOCDESK_INGEST_CLAIMANT_TIMEOUT", 6.0)
# The worker's ingest loop looks for waiting deliveries this often when it has nothing to do.
SOCDESK_INGEST_POLL_SECONDS = env_float("SOCDESK_INGEST_POLL_SECONDS", 0.1)
# `socdesk serve` runs this many `socdesk ingest` processes beside its worker (whose loop is one more).
# On PostgreSQL a second loop normalises its next batch while the first writes, so more alerts a second
# reach tickets (docs/benchmarks.md); on SQLite the writes take turns on the file lock: none.
SOCDESK_INGEST_PROCESSES = env_int("SOCDESK_INGEST_PROCESSES", 1 if DATABASE_URL else 0)
# How much lower `socdesk ingest` runs than the web server (a nice increment): under a flood on few
# cores, acknowledgements (what senders wait for) come first and the loops use the rest.
SOCDESK_INGEST_NICE = env_int("SOCDESK_INGEST_NICE", 10)


# --- ticket filters' outgoing webhooks (socdesk.routing.webhooks; docs/routing.md) -------------------
# Signs each call (HMAC-SHA256 of the body) unless the filter has its own secret.
SOCDESK_FILTER_WEBHOOK_SECRET = env_secret("SOCDESK_FILTER_WEBHOOK_SECRET")
# Seconds to wait for the receiver; attempts before a call is given up (waits double from the first).
SOCDESK_FILTER_WEBHOOK_TIMEOUT = env_float("SOCDESK_FILTER_WEBHOOK_TIMEOUT", 10.0)
SOCDESK_FILTER_WEBHOOK_ATTEMPTS = env_int("SOCDESK_FILTER_WEBHOOK_ATTEMPTS", 8)
SOCDESK_FILTER_WEBHOOK_BACKOFF = env_int("SOCDESK_FILTER_WEBHOOK_BACKOFF", 30)


# --- retention (socdesk.alerts.retention; docs/backup.md) ---------------------------------------------
def _days_or_forever(name: str, days: int) -> int | None:
    """Days to keep something; 0 (or unset) keeps it forever."""
    if days < 0:
        raise ImproperlyConfigured(f"{name}={days} is negative; give a number of days, or leave it empty.")
    return days or None


# Defaults for departments that set none of their own (Department.*_retention_days).
SOCDESK_RAW_PAYLOAD_RETENTION_DAYS = _days_or_forever(
    "SOCDESK_RAW_PAYLOAD_RETENTION_DAYS", env_int("SOCDESK_RAW_PAYLOAD_RETENTION_DAYS", 0)
)
SOCDESK_CLOSED_TICKET_RETENTION_DAYS = _days_or_forever(
    "SOCDESK_CLOSED_TICKET_RETENTION_DAYS", env_int("SOCDESK_CLOSED_TICKET_RETENTION_DAYS", 0)
)
# Audit events are the trail and outlive tickets: keep this longer than the two above.
SOCDESK_AUDIT_RETENTION_DAYS = _days_or_forever(
    "SOCDESK_AUDIT_RETENTION_DAYS", env_int("SOCDESK_AUDIT_RETENTION_DAYS", 0)
)
# Rows deleted per department (and audit events) per transaction; the worker runs a pass every 10 minutes.
SOCDESK_RETENTION_BATCH = env_int("SOCDESK_RETENTION_BATCH", 1000)
if SOCDESK_RETENTION_BATCH < 1:
    raise ImproperlyConfigured(f"SOCDESK_RETENTION_BATCH={SOCDESK_RETENTION_BATCH} must be 1 or more.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # huey gets its own handler list so the consumer does not add a second one (doubled lines).
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # ioc-finder logs every call at INFO: one line per alert under a flood.
        "ioc_finder": {"level": "WARNING"},
    },
}
