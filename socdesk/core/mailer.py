"""The one function that hands a message to the mail server (Django's email backend from the
environment); the outbound queues (socdesk.mail.outbound, socdesk.notifications) both send through it."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives


def mail_deliver(
    *,
    subject: str,
    body: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    from_email: str | None = None,
    headers: dict[str, str] | None = None,
    connection: Any = None,
    html: str = "",
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> None:
    """Send one message now: plain text, with an HTML alternative when `html` is given
    (multipart/alternative) and (file name, bytes, content type) attachments; raises OSError (smtplib's
    errors are OSErrors) when the mail server cannot be reached or refuses it."""
    message = EmailMultiAlternatives(
        subject,
        body,
        from_email=from_email,
        to=list(to),
        cc=list(cc),
        headers=headers or {},
        connection=connection,
    )
    if html:
        message.attach_alternative(html, "text/html")
    for filename, content, content_type in attachments:
        message.attach(filename, content, content_type)
    message.send()


def mail_error_text(exc: BaseException) -> str:
    """A person-readable line for a failed send (kept on the message, shown where it is listed)."""
    server = f"the mail server at {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    if isinstance(exc, ConnectionRefusedError):
        return f"{server} refused the connection"
    if isinstance(exc, TimeoutError):
        return f"{server} did not answer in time"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"{server} refused the user name or password (EMAIL_HOST_USER, EMAIL_HOST_PASSWORD)"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{server} refused the address: {', '.join(exc.recipients)}"[:500]
    return (str(exc).strip() or type(exc).__name__)[:500]
