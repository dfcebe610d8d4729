"""A real SMTP server for tests (aiosmtpd on a free loopback port) that keeps what it receives; the
`smtp` fixture in tests/conftest.py points Django's SMTP backend at it."""

from __future__ import annotations


class Inbox:
    """An aiosmtpd handler keeping what it was sent: (recipients, raw message) pairs."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"
