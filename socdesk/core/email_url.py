"""`EMAIL_URL`: the outgoing mail server in one URL, read into Django's EMAIL_* settings (pure).

    smtp://user:pass@mail.example.com:587?tls=1   SMTP with STARTTLS (port 587 unless given)
    smtp://mail.example.com                       SMTP without TLS (port 25)
    smtps://user:pass@mail.example.com            TLS from the first byte (port 465 unless given)
    console://                                    print mail to the log (delivers nothing)
    dummy://                                      drop mail (delivers nothing)

The user and password are percent-decoded (`p%40ss` is `p@ss`). Options: `tls` and `ssl` (1/0,
true/false, yes/no, on/off) and `timeout` (seconds). The separate EMAIL_* variables win over what the URL
says (settings.py), so one value can be overridden, or the password kept in EMAIL_HOST_PASSWORD_FILE.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
BACKENDS = {
    "smtp": SMTP_BACKEND,
    "smtps": SMTP_BACKEND,
    "console": "django.core.mail.backends.console.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}
OPTIONS = ("tls", "ssl", "timeout")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_email_url(url: str, name: str = "EMAIL_URL") -> dict[str, Any]:
    """The EMAIL_* settings the URL stands for; ImproperlyConfigured with a sentence naming `name` and
    what to write instead when it cannot be read. The password is never repeated in an error."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} is not a URL SOCdesk can read (is the port a number from 1 to 65535?); write it as "
            "smtp://user:password@host:587?tls=1."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        shown = f"{scheme!r}" if scheme else "missing"
        raise ImproperlyConfigured(
            f"{name}'s scheme is {shown}, which SOCdesk does not know; use smtp:// (?tls=1 for STARTTLS), "
            "smtps:// (TLS from the start), console:// or dummy://."
        )
    values: dict[str, Any] = {"EMAIL_BACKEND": BACKENDS[scheme]}
    options = _options(parts.query, name)
    if scheme not in ("smtp", "smtps"):
        return values
    host = parts.hostname or ""
    if not host:
        raise ImproperlyConfigured(
            f"{name} names no mail server; write it as {scheme}://user:password@host"
            + ("?tls=1." if scheme == "smtp" else ".")
        )
    use_ssl = scheme == "smtps" or options.get("ssl", False)
    use_tls = options.get("tls", False)
    if use_ssl and use_tls:
        raise ImproperlyConfigured(
            f"{name} asks for both STARTTLS (tls) and TLS from the start (smtps:// or ssl); choose one: "
            "smtp://…?tls=1 (usually port 587) or smtps://… (usually port 465)."
        )
    values |= {
        "EMAIL_HOST": host,
        "EMAIL_PORT": port or (465 if use_ssl else 587 if use_tls else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
    }
    if "timeout" in options:
        values["EMAIL_TIMEOUT"] = options["timeout"]
    return values


def _options(query: str, name: str) -> dict[str, Any]:
    """The URL's ?options, checked: known names, booleans and a whole number of seconds."""
    found: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        key, value = key.strip().lower(), value.strip().lower()
        if key not in OPTIONS:
            raise ImproperlyConfigured(
                f"{name} has the option {key!r}, which SOCdesk does not know; the options are "
                f"{', '.join(OPTIONS)}."
            )
        if key == "timeout":
            if not value.isdigit() or int(value) < 1:
                raise ImproperlyConfigured(f"{name}'s timeout={value!r} is not a whole number of seconds.")
            found[key] = int(value)
        elif value in _TRUE or value in _FALSE:
            found[key] = value in _TRUE
        else:
            raise ImproperlyConfigured(f"{name}'s {key}={value!r} is not 1/0, true/false, yes/no or on/off.")
    return found
