"""Fixtures of the mail tests: a real Dovecot IMAP server for the whole session, a fresh user per test."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.mailserver import Dovecot


@pytest.fixture(scope="session")
def dovecot():
    """A Dovecot IMAP server on a free loopback port (tests/mailserver.py); skipped when the `dovecot`
    binary is missing, except on CI, where it must be there (`.ci/run` installs dovecot-imapd)."""
    if shutil.which("dovecot") is None and not os.environ.get("CI"):
        pytest.skip("dovecot is not installed (apt-get install -y dovecot-imapd)")
    server = Dovecot()
    yield server
    server.stop()


@pytest.fixture
def imap_user(dovecot):
    """A new IMAP user (login, password) with an empty INBOX on the session's Dovecot."""
    return dovecot.user()


@pytest.fixture(scope="session")
def dovecot_tls():
    """A Dovecot offering STARTTLS on `port` and IMAPS on `tls_port`, with a self-signed certificate
    (`cert`) that clients trust only when told to (SSL_CERT_FILE)."""
    if shutil.which("dovecot") is None and not os.environ.get("CI"):
        pytest.skip("dovecot is not installed (apt-get install -y dovecot-imapd)")
    server = Dovecot(tls=True)
    yield server
    server.stop()
