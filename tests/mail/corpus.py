"""Message shapes built with the `email` package, as raw bytes, for the parser's tests."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP


def _headers(msg, subject="Phishing?", sender="Ann Analyst <Ann.Analyst@Example.com>", **extra):
    msg["From"] = sender
    msg["To"] = "SOC Desk <Help@SOC.example.com>, second@soc.example.com"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 30 Nov 2026 10:00:00 +0100"
    msg["Message-ID"] = "<m1@example.com>"
    for name, value in extra.items():
        del msg[name.replace("_", "-")]
        msg[name.replace("_", "-")] = value
    return msg


def plain(body="Hello.\n", **headers) -> bytes:
    msg = _headers(EmailMessage(), **headers)
    msg.set_content(body)
    return msg.as_bytes()


def alternative() -> bytes:
    msg = _headers(EmailMessage())
    msg.set_content("The plain text.\n")
    msg.add_alternative(
        "<html><body><p>The <b>HTML</b> text.</p><a href='https://portal.example.com/login'>here</a>"
        "<script>alert(1)</script></body></html>",
        subtype="html",
    )
    return msg.as_bytes()


def html_only() -> bytes:
    msg = _headers(EmailMessage())
    msg.set_content(
        "<html><head><style>p {color: red}</style></head><body><p>First paragraph.</p>"
        "<p>Second &amp; last, <a href='hxxp://ignored' onclick='x()'>link</a>.</p>"
        "<img src='https://tracker.example.com/p.gif'></body></html>",
        subtype="html",
    )
    return msg.as_bytes()


def base64_utf8() -> bytes:
    msg = _headers(MIMEMultipart("mixed"))
    part = MIMEText("Grüße aus Köln — 東京\n", "plain", "utf-8")  # MIMEText picks base64 for utf-8
    msg.attach(part)
    return msg.as_bytes()


def latin1_qp() -> bytes:
    body = "Café crème à 5 €?".replace("€", "EUR").encode("iso-8859-1")
    raw = (
        b"From: ann@example.com\r\nTo: help@soc.example.com\r\nSubject: =?iso-8859-1?q?R=E9sum=E9?=\r\n"
        b"Message-ID: <latin@example.com>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    quoted = "".join(f"={b:02X}" if b > 127 else chr(b) for b in body).encode()
    return raw + quoted + b"\r\n"


def windows_1252() -> bytes:
    body = "\u201cQuoted\u201d \u2013 price \u20ac5".encode("cp1252")
    return (
        b"From: ann@example.com\r\nSubject: smart quotes\r\nMessage-ID: <w@example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body
        + b"\r\n"
    )


def unknown_charset() -> bytes:
    return (
        b"From: ann@example.com\r\nSubject: odd\r\nMessage-ID: <u@example.com>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"caf\xc3\xa9 and \xff\xfe bytes\r\n"
    )


def rfc2231_attachment() -> bytes:
    msg = _headers(EmailMessage())
    msg.set_content("See the file.\n")
    msg.add_attachment(
        b"%PDF-1.4 invoice",
        maintype="application",
        subtype="pdf",
        filename=("utf-8", "", "..\\..\\Fäktura 2026 €.pdf"),
    )
    return msg.as_bytes()


def inline_image() -> bytes:
    msg = _headers(EmailMessage())
    msg.set_content("Logo below.\n")
    msg.add_alternative("<p>Logo: <img src='cid:logo123@example.com'></p>", subtype="html")
    html_part = msg.get_payload()[1]
    html_part.add_related(b"\x89PNG fake", maintype="image", subtype="png", cid="<logo123@example.com>")
    return msg.as_bytes()


def png(width: int = 48, height: int = 24, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real PNG of one colour (what a mail client attaches as an inline logo)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def inline_images() -> bytes:
    """An HTML mail drawing a real PNG twice, a part claiming to be an image that is text, and a cid: that
    names no part."""
    msg = _headers(EmailMessage(), subject="Your account is locked")
    msg.set_content("See the logo.\n")
    msg.add_alternative(
        "<p>Logo: <img src='cid:shield@example.test' alt='shield'></p>"
        "<p>Again: <img src='cid:shield@example.test' alt='again'></p>"
        "<p>Fake: <img src='cid:fake@example.test' alt='fake'></p>"
        "<p>Gone: <img src='cid:missing@example.test' alt='missing'></p>",
        subtype="html",
    )
    html_part = msg.get_payload()[1]
    for content, cid, name in (
        (png(), "<shield@example.test>", "shield.png"),
        (b"not a picture at all\n", "<fake@example.test>", "x.png"),
    ):
        html_part.add_related(
            content, maintype="image", subtype="png", cid=cid, filename=name, disposition="inline"
        )
    return msg.as_bytes()


INNER_RECEIVED = [
    "from mail.attacker.example (mail.attacker.example [198.51.100.23]) by mx.victim.example.com "
    "(Postfix) with ESMTPS id 1; Mon, 30 Nov 2026 08:00:00 +0000",
    "from [10.1.2.3] (helo=laptop) by mail.attacker.example with esmtpa (Exim 4.96) "
    "(envelope-from <bounce@attacker.example>); Mon, 30 Nov 2026 07:59:59 +0000",
    "from sender (IPv6:2001:db8::25) by internal.example; Mon, 30 Nov 2026 07:59:00 +0000",
]


def forwarded_inner() -> bytes:
    """The phishing message that `forwarded` carries, as bytes."""
    return _phishing().as_bytes()


def _phishing() -> EmailMessage:
    inner = EmailMessage()
    for value in INNER_RECEIVED:
        inner["Received"] = value
    inner["Authentication-Results"] = (
        "mx.victim.example.com; spf=pass smtp.mailfrom=attacker.example; dkim=fail header.d=bank.example; "
        "dmarc=none header.from=bank.example"
    )
    inner["Return-Path"] = "<Bounce@Attacker.example>"
    inner["From"] = "Your Bank <Security@Bank-Secure.example.com>"
    inner["Reply-To"] = "collect@drop.example.net"
    inner["Subject"] = "Verify your account"
    inner["Message-ID"] = "<phish-1@attacker.example>"
    inner.set_content("Click hxxps://bank-secure-login[.]com/verify now.\n")
    return inner


def forwarded() -> bytes:
    inner = _phishing()
    outer = _headers(MIMEMultipart("mixed"), subject="Fwd: Verify your account")
    outer.attach(MIMEText("Reporting this one.\n", "plain", "utf-8"))
    outer.attach(MIMEMessage(inner))
    return outer.as_bytes()


def eml_attachment() -> bytes:
    inner = EmailMessage()
    inner["From"] = "attacker@evil-domain.com"
    inner["Subject"] = "Invoice"
    inner["Received"] = "from x ([203.0.113.5]) by y; Mon, 30 Nov 2026 07:00:00 +0000"
    inner.set_content("Pay now.\n")
    msg = _headers(EmailMessage())
    msg.set_content("Reported as a file.\n")
    msg.add_attachment(
        inner.as_bytes(), maintype="application", subtype="octet-stream", filename="report.eml"
    )
    return msg.as_bytes()


def outlook_reply() -> bytes:
    body = (
        "Thanks, the host is isolated.\r\n\r\n"
        "________________________________\r\n"
        "From: SOC Desk <help@soc.example.com>\r\n"
        "Sent: Monday, November 30, 2026 9:00 AM\r\n"
        "To: Ann Analyst\r\n"
        "Subject: RE: [#SOC-123] Malware\r\n\r\n"
        "Please isolate the host.\r\n"
    )
    return plain(body, subject="RE: [#SOC-123] Malware", In_Reply_To="<reply-1@soc.example.com>")


def outlook_original_message() -> bytes:
    body = "Done.\n\n-----Original Message-----\nFrom: help@soc.example.com\nDid you do it?\n"
    return plain(body)


def gmail_reply() -> bytes:
    body = (
        "Yes, that was me.\n\n"
        "On Mon, Nov 30, 2026 at 9:00 AM SOC Desk <help@soc.example.com>\nwrote:\n\n"
        "> Did you sign in from 203.0.113.50?\n> \n"
    )
    return plain(
        body, References="<a@soc.example.com> <b@soc.example.com>", In_Reply_To="<b@soc.example.com>"
    )


def marker_reply() -> bytes:
    body = "New information here.\n\n-- Reply above this line --\n\nTicket SOC-123 was updated.\n"
    return plain(body)


def quoted_at_end() -> bytes:
    return plain("Fine by me.\n\n> earlier text\n> more earlier text\n")


def dsn_bounce() -> bytes:
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        b"To: help@soc.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <dsn-1@mx.example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\n"
        b"Your message could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; Gone@Example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected\r\n\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: help@soc.example.com\r\nMessage-ID: <notify-42@soc.example.com>\r\n"
        b"Subject: [#SOC-42] Update\r\n\r\nOur notification.\r\n"
        b"--B--\r\n"
    )


def dsn_headers_only() -> bytes:
    """A DSN returning only the headers (text/rfc822-headers), the original id there."""
    return dsn_bounce().replace(b"Content-Type: message/rfc822", b"Content-Type: text/rfc822-headers")


def auto_reply() -> bytes:
    return plain("I am out of the office.\n", subject="Out of office", Auto_Submitted="auto-replied")


def bulk() -> bytes:
    return plain("Newsletter.\n", Precedence="bulk")


def mailer_daemon() -> bytes:
    return plain("Delivery failed.\n", sender="MAILER-DAEMON@mx.example.com")


def malformed_headers() -> bytes:
    return (
        b"To: help@soc.example.com\r\n"
        b"Subject: =?utf-8?B?broken***?= and =?x-bogus?q?abc?= end\r\n"
        b"Date: the day after tomorrow\r\n"
        b"Message-ID: <bad@example.com>\r\n"
        b"\r\nBody survives.\r\n"
    )


def big_attachment(size: int) -> bytes:
    msg = _headers(EmailMessage())
    msg.set_content("A big one.\n")
    msg.add_attachment(b"A" * size, maintype="application", subtype="zip", filename="big.zip")
    return msg.as_bytes()


def without_message_id() -> bytes:
    msg = EmailMessage()
    msg["From"] = "ann@example.com"
    msg["Subject"] = "no id"
    msg.set_content("Hello.\n")
    return msg.as_bytes(policy=SMTP)


def broken_base64() -> bytes:
    return (
        b"From: ann@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"hello there")[:-3] + b"!!\r\n"
    )


ALL = {
    "alternative": alternative,
    "html_only": html_only,
    "base64_utf8": base64_utf8,
    "latin1_qp": latin1_qp,
    "windows_1252": windows_1252,
    "unknown_charset": unknown_charset,
    "rfc2231_attachment": rfc2231_attachment,
    "inline_image": inline_image,
    "forwarded": forwarded,
    "eml_attachment": eml_attachment,
    "outlook_reply": outlook_reply,
    "gmail_reply": gmail_reply,
    "marker_reply": marker_reply,
    "dsn_bounce": dsn_bounce,
    "dsn_headers_only": dsn_headers_only,
    "auto_reply": auto_reply,
    "bulk": bulk,
    "mailer_daemon": mailer_daemon,
    "malformed_headers": malformed_headers,
    "without_message_id": without_message_id,
    "broken_base64": broken_base64,
}
