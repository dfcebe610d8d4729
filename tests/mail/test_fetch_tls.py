"""Mailboxes over TLS (IMAPS) and STARTTLS against a real Dovecot with a self-signed certificate: the
certificate is verified, so an untrusted one is a sentence, and a trusted one (SSL_CERT_FILE, OpenSSL's
standard way to name a private CA) fetches."""

from __future__ import annotations

import pytest

from socdesk.core.actor import Actor
from socdesk.core.errors import ServiceError
from socdesk.mail.fetching import mailbox_fetch, mailbox_test
from socdesk.mail.mailboxes import MailboxDefinition, mailbox_create
from socdesk.tickets.models import Ticket
from tests.mail import corpus


def make(server, user, security: str, port: int):
    return mailbox_create(
        actor=Actor.system("test"),
        definition=MailboxDefinition(
            name=f"tls-{security}",
            address="help@soc.example.test",
            host=server.host,
            port=port,
            security=security,
            username=user[0],
            password=user[1],
        ),
    )


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_trusted_certificate_fetches_and_an_untrusted_one_is_refused(
    people, dovecot_tls, security, monkeypatch
):
    user = dovecot_tls.user()
    port = dovecot_tls.tls_port if security == "tls" else dovecot_tls.port
    mailbox = make(dovecot_tls, user, security, port)
    dovecot_tls.append(
        user, [corpus.plain("Hi.\n", subject="Over TLS", Message_ID=f"<tls-{security}@x.test>")]
    )

    with pytest.raises(ServiceError, match=r"TLS failed \(CERTIFICATE_VERIFY_FAILED: self-signed") as refused:
        mailbox_test(mailbox)
    assert refused.value.message.startswith(
        f"Could not connect to the imap server {mailbox.server}: TLS failed"
        if security == "tls"
        else f"Could not start TLS (STARTTLS) with the imap server {mailbox.server}"
    )
    assert "CERTIFICATE_VERIFY_FAILED" in mailbox_fetch(mailbox).error and not Ticket.objects.exists()

    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_tls.cert))
    assert mailbox_test(mailbox) == "OK: 1 message in INBOX, 1 unseen."
    assert mailbox_fetch(mailbox).created == 1 and Ticket.objects.get().subject == "Over TLS"


def test_tls_against_a_plain_port_says_so(people, dovecot):
    user = dovecot.user()
    mailbox = make(dovecot, user, "tls", dovecot.port)
    with pytest.raises(ServiceError, match=r"TLS failed \(.*\); check the security setting"):
        mailbox_test(mailbox)
