"""Real mail servers for tests: SMTP (aiosmtpd on a free loopback port) that keeps what it receives, which
the `smtp` fixture in tests/conftest.py points Django's SMTP backend at; and IMAP (a throwaway Dovecot), the
`dovecot` fixture of tests/mail/conftest.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class Inbox:
    """An aiosmtpd handler keeping what it was sent: (recipients, raw message) pairs."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


class Dovecot:
    """A throwaway Dovecot IMAP server (plain text, loopback, a free port) in a temp dir; each test gets its
    own user (`user()`), so tests never see each other's mail. Stop it with `stop()`.

    With `tls`, it also offers STARTTLS on `port` and IMAPS on `tls_port`, with a self-signed certificate
    for 127.0.0.1 (`cert`, which a client must be told to trust)."""

    def __init__(self, *, tls: bool = False) -> None:
        from tests.core.processes import free_port

        # Not pytest's tmp dir: Dovecot's auth process (user dovecot) must traverse to the users file.
        self.root = root = Path(tempfile.mkdtemp(prefix="socdesk-dovecot-"))
        root.chmod(0o755)
        self.host, self.port = "127.0.0.1", free_port()
        self.users = root / "users"
        self._count = 0
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        # The mail owner must not be root; 65534 (nobody) works.
        os.chown(root / "mail", 65534, 65534)
        # Every user is written before start: Dovecot re-reads a changed users file only now and then.
        self.users.write_text("".join(f"user{n}:{{PLAIN}}pw-{n}-secret::::::\n" for n in range(1, USERS + 1)))
        self.tls_port, self.cert, ssl = 0, root / "cert.pem", "ssl = no"
        if tls:
            self.tls_port = free_port()
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                    "-keyout",
                    str(root / "key.pem"),
                    "-out",
                    str(self.cert),
                ],
                check=True,
                capture_output=True,
            )
            ssl = f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{root / 'key.pem'}"
        config = root / "dovecot.conf"
        config.write_text(DOVECOT_CONFIG.format(root=root, port=self.port, ssl=ssl, tls_port=self.tls_port))
        self.log = root / "dovecot.log"
        self.process = subprocess.Popen(["dovecot", "-c", str(config), "-F"], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=1):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        log = self.log.read_text() if self.log.exists() else ""
        raise RuntimeError(f"Dovecot did not start on port {self.port}: {log[-2000:]}")

    def user(self) -> tuple[str, str]:
        """A new user (login, password) with an empty INBOX."""
        self._count += 1
        assert self._count <= USERS, "raise USERS in tests/mailserver.py"
        return f"user{self._count}", f"pw-{self._count}-secret"

    def client(self, user: tuple[str, str]):
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(*user)
        return client

    def append(self, user: tuple[str, str], messages: list[bytes], folder: str = "INBOX") -> None:
        """Deliver messages as a mail server would (IMAP APPEND)."""
        client = self.client(user)
        try:
            for raw in messages:
                client.append(folder, raw)
        finally:
            client.logout()

    def flags(self, user: tuple[str, str], folder: str = "INBOX") -> list[tuple[bytes, ...]]:
        """The flags of each message in the folder, in order (an empty list: the folder is empty)."""
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            found = client.fetch(uids, [b"FLAGS"]) if uids else {}
            # \\Recent says only that this session is the first to see it.
            return [tuple(f for f in found[uid][b"FLAGS"] if f != b"\\Recent") for uid in sorted(found)]
        finally:
            client.logout()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


USERS = 500

DOVECOT_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""
