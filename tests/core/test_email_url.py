"""EMAIL_URL: the outgoing mail server in one URL, read into the EMAIL_* settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from socdesk.core.email_url import SMTP_BACKEND, parse_email_url
from tests.core.processes import REPO, free_port, socdesk_env

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def smtp(host="mail.example.com", port=25, user="", password="", tls=False, ssl=False, **extra):
    return {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": host,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": user,
        "EMAIL_HOST_PASSWORD": password,
        "EMAIL_USE_TLS": tls,
        "EMAIL_USE_SSL": ssl,
        **extra,
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", smtp()),
        (
            "smtp://soc%40example.com:p%40ss%3Aw%2Frd@Mail.Example.com:587?tls=1",
            smtp(port=587, user="soc@example.com", password="p@ss:w/rd", tls=True),
        ),
        ("smtp://u:p@mail.example.com?tls=yes", smtp(port=587, user="u", password="p", tls=True)),
        ("smtp://mail.example.com:2525?tls=0", smtp(port=2525)),
        ("smtps://u:p@mail.example.com", smtp(port=465, user="u", password="p", ssl=True)),
        ("SMTPS://mail.example.com:4650", smtp(port=4650, ssl=True)),
        ("smtp://mail.example.com?ssl=on", smtp(port=465, ssl=True)),
        ("smtp://mail.example.com?timeout=20", smtp(EMAIL_TIMEOUT=20)),
        ("smtp://[2001:db8::25]:25", smtp(host="2001:db8::25")),
        ("  smtp://mail.example.com  ", smtp()),
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("dummy://", {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}),
    ],
)
def test_parsing(url, expected):
    assert parse_email_url(url) == expected
    assert SMTP_BACKEND == SMTP


@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        (
            "imap://mail.example.com",
            "EMAIL_URL's scheme is 'imap', which SOCdesk does not know; use smtp:// (?tls=1 for STARTTLS), "
            "smtps:// (TLS from the start), console:// or dummy://.",
        ),
        ("mail.example.com:25", "EMAIL_URL's scheme is 'mail.example.com', which SOCdesk does not know"),
        ("//mail.example.com", "EMAIL_URL's scheme is missing, which SOCdesk does not know"),
        ("smtp://", "EMAIL_URL names no mail server; write it as smtp://user:password@host?tls=1."),
        ("smtp://:secret@:25", "EMAIL_URL names no mail server"),
        ("smtp://mail.example.com:99999", "EMAIL_URL is not a URL SOCdesk can read (is the port a number"),
        ("smtp://mail.example.com:port", "EMAIL_URL is not a URL SOCdesk can read"),
        ("smtps://mail.example.com?tls=1", "asks for both STARTTLS (tls) and TLS from the start"),
        ("smtp://mail.example.com?tls=maybe", "EMAIL_URL's tls='maybe' is not 1/0, true/false"),
        ("smtp://mail.example.com?starttls=1", "EMAIL_URL has the option 'starttls', which SOCdesk does not"),
        ("smtp://mail.example.com?timeout=soon", "EMAIL_URL's timeout='soon' is not a whole number"),
        ("smtp://mail.example.com?timeout=0", "EMAIL_URL's timeout='0' is not a whole number"),
    ],
)
def test_what_cannot_be_read_is_a_sentence(url, sentence):
    with pytest.raises(ImproperlyConfigured) as err:
        parse_email_url(url)
    assert sentence in str(err.value)


def test_the_password_is_never_repeated_in_an_error():
    with pytest.raises(ImproperlyConfigured) as err:
        parse_email_url("smtp://user:hunter2@mail.example.com?bogus=1")
    assert "hunter2" not in str(err.value)
    with pytest.raises(ImproperlyConfigured) as err:
        parse_email_url("ftp://user:hunter2@mail.example.com")
    assert "hunter2" not in str(err.value)


# --- in the settings, as a process starting SOCdesk reads them -----------------------------------------

READ = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k) for k in ('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', "
    "'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'EMAIL_TIMEOUT')}))"
)


def start(tmp_path, code: str = READ, **env: str) -> subprocess.CompletedProcess:
    """A Python process that loads SOCdesk's settings with only these e-mail variables."""
    base = {k: v for k, v in socdesk_env(tmp_path).items() if not k.startswith("EMAIL_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        env=base | env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_settings_read_the_url_and_the_separate_variables_win(tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text("from-a-file\n")
    done = start(
        tmp_path,
        EMAIL_URL="smtp://soc:from-url@mail.example.com?tls=1&timeout=15",
        EMAIL_PORT="2525",
        EMAIL_HOST_PASSWORD_FILE=str(password_file),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "soc",
        "EMAIL_HOST_PASSWORD": "from-a-file",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 15,
    }


def test_without_the_url_nothing_changes(tmp_path):
    done = start(tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "EMAIL_HOST": "localhost",
        "EMAIL_PORT": 25,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": None,
    }


def test_the_url_may_come_from_a_file(tmp_path):
    url_file = tmp_path / "email-url"
    url_file.write_text("smtps://soc:s3cret@mail.example.com\n")
    done = start(tmp_path, EMAIL_URL_FILE=str(url_file))
    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout)
    assert (read["EMAIL_HOST"], read["EMAIL_PORT"], read["EMAIL_USE_SSL"]) == ("mail.example.com", 465, True)
    assert read["EMAIL_HOST_PASSWORD"] == "s3cret"


@pytest.mark.parametrize(
    ("env", "sentence"),
    [
        (
            {"EMAIL_URL": "imap://mail.example.com"},
            "EMAIL_URL's scheme is 'imap', which SOCdesk does not know",
        ),
        (
            {"EMAIL_URL": "smtps://mail.example.com", "EMAIL_USE_TLS": "1"},
            "EMAIL_USE_TLS (STARTTLS) and EMAIL_USE_SSL (TLS from the start) are both on",
        ),
    ],
)
def test_a_bad_url_stops_the_start_with_its_sentence(tmp_path, env, sentence):
    done = start(tmp_path, **env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and sentence in done.stderr


def test_mail_goes_out_through_the_server_the_url_names(tmp_path):
    """A real SMTP server (aiosmtpd) receives what a SOCdesk process configured only by EMAIL_URL sends."""
    from aiosmtpd.controller import Controller

    from tests.mailserver import Inbox

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        done = start(
            tmp_path,
            code="import django; django.setup(); from django.core.mail import send_mail; "
            "send_mail('EMAIL_URL check', 'It works.', 'soc@example.test', ['dana@example.test'])",
            EMAIL_URL=f"smtp://127.0.0.1:{port}?timeout=10",
        )
    finally:
        controller.stop()
    assert done.returncode == 0, done.stderr
    assert len(inbox.messages) == 1, os.linesep.join([done.stdout, done.stderr])
    recipients, raw = inbox.messages[0]
    assert recipients == ["dana@example.test"] and b"Subject: EMAIL_URL check" in raw
