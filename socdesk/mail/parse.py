"""Reading one email message (pure): headers, body, reply part, attachments, forwarded messages, bounces.

`parse_message(raw)` never raises, whatever the bytes. Python's `email` package reads the message with
the modern policy; where that policy raises on a damaged header or part, the value is read again the
old (compat32) way, and what could not be read is said in `ParsedMessage.problems`. No database, no
settings: the limits come in as arguments.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache

import nh3

from socdesk.mail.loops import automated_reason
from socdesk.mail.text import decode_text, fold, html_to_text, reply_part, safe

MAX_DEPTH = 50  # MIME nesting deeper than this is not read (a hostile message can nest forever)
MAX_PARTS = 500
HTML_URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}  # inline images are referred to as cid:<content-id>
CACHED_HEADER_LENGTH = 200
_LINE_BREAK = re.compile(r"\n|\r")


@lru_cache(maxsize=2048)
def _header_object(name: str, value: str) -> str:
    return policy.default.header_factory(name, value)


class _Policy(policy.EmailPolicy):
    """The modern policy, reading each short header once per value: it parses a header again at every
    `get` (a part's Content-Type several times per message), and most values recur from message to
    message (Content-Type, Content-Transfer-Encoding, MIME-Version). The parsed headers are immutable."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name") or len(value) > CACHED_HEADER_LENGTH or self is not POLICY:
            return super().header_fetch_parse(name, value)
        # As the modern policy unfolds: only CR and LF (str.splitlines splits on more).
        return _header_object(name, "".join(_LINE_BREAK.split(value)))


POLICY = _Policy()


@dataclass(frozen=True)
class MailAttachment:
    filename: str  # decoded (RFC 2231 / RFC 2047), "" when none; path parts stripped
    content_type: str
    size: int
    sha256: str
    sha1: str
    md5: str
    content: bytes | None  # None when over the limit (kept only as name, size and hashes)
    inline: bool  # Content-Disposition inline with a Content-ID (inline image)
    content_id: str  # without <>


@dataclass(frozen=True)
class InnerMessage:
    """A forwarded or reported message attached as message/rfc822 (or as an .eml attachment)."""

    subject: str
    from_address: str
    reply_to: str
    return_path: str
    received_ips: tuple[str, ...]  # public and private IPs from the Received chain, in order
    authentication: dict[str, str]  # {"spf": "pass", "dkim": "fail", "dmarc": "none"}
    text: str
    message_id: str = ""
    links: tuple[str, ...] = ()  # the href of each link in its HTML part


@dataclass(frozen=True)
class Bounce:
    """A delivery status notification (multipart/report; report-type=delivery-status)."""

    original_message_id: str  # from the returned message's headers or the DSN's fields, without <>
    recipient: str
    status: str
    action: str
    diagnostic: str


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str  # without <>; when missing, "generated-<sha256 of the raw bytes>@socdesk"
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_name: str
    from_address: str
    reply_to: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    text: str  # text/plain preferred, else the HTML turned into text
    reply_text: str  # only the new part of a reply
    html: str  # sanitised with nh3, "" when none
    attachments: tuple[MailAttachment, ...]
    inner: tuple[InnerMessage, ...]
    bounce: Bounce | None
    automated: str  # "" for a person's mail, else why it is automated
    problems: tuple[str, ...]  # sentences saying what could not be read
    raw_size: int
    links: tuple[str, ...] = ()  # the href of each link in the HTML part, in order, de-duplicated


# --- headers ------------------------------------------------------------------------------------------


@dataclass
class _Reader:
    """What one parse collects: the problems, said once each."""

    problems: list[str] = field(default_factory=list)

    def problem(self, sentence: str) -> None:
        if sentence not in self.problems:
            self.problems.append(sentence)

    def raw_header(self, msg: Message, name: str) -> str | None:
        for key, value in msg.raw_items():
            if key.lower() == name.lower():
                return str(value)
        return None

    def header(self, msg: Message, name: str) -> str:
        """The decoded header value, "" when absent; read the old way when the modern policy raises."""
        try:
            value = msg.get(name)
            if value is None:
                return ""
            text = safe(str(value))
            if "\ufffd" in text or any("Encod" in type(d).__name__ for d in getattr(value, "defects", ())):
                self.problem(
                    f"The {name} header could not be fully decoded; unreadable characters were replaced."
                )
            return text
        except Exception:
            raw = self.raw_header(msg, name) or ""
            try:
                return safe(str(make_header(decode_header(raw))))
            except Exception:
                self.problem(f"The {name} header could not be decoded; it is shown as sent.")
                return safe(raw)

    def addresses(self, msg: Message, name: str) -> list[tuple[str, str]]:
        """(display name, lower-cased address) for each address in the header."""
        try:
            value = msg.get(name)
            if value is None:
                return []
            addresses = getattr(value, "addresses", None)
            if addresses is None:  # not a modern address header: read it the old way below
                raise TypeError(name)
            found = [(safe(a.display_name), safe(a.addr_spec).lower()) for a in addresses]
            return [(n, a) for n, a in found if a and a != "<>"]
        except Exception:
            text = self.header(msg, name)
            try:
                pairs = getaddresses([text])
            except Exception:
                pairs = []
            found = [(n, a.lower()) for n, a in pairs if "@" in a]
            if text and not found:
                self.problem(f"The {name} header holds no address that could be read.")
            return found

    def ids(self, msg: Message, name: str) -> tuple[str, ...]:
        raw = self.raw_header(msg, name)
        if not raw:
            return ()
        raw = safe(raw)
        found = re.findall(r"<([^<>\s]+)>", raw) or [t.strip("<>") for t in raw.split() if "@" in t]
        return tuple(dict.fromkeys(i for i in found if i))

    def date(self, msg: Message) -> datetime | None:
        raw = self.raw_header(msg, "Date")
        if raw is None:
            return None
        try:
            when = parsedate_to_datetime(safe(raw).strip())
        except Exception:
            self.problem(f"The Date header ({fold(safe(raw))[:80]!r}) is not a date; the message has none.")
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)


# --- bodies ---------------------------------------------------------------------------------------------


def _payload_bytes(reader: _Reader, part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        reader.problem("A part's transfer encoding could not be undone; it was kept as sent.")
        payload = None
    if any("Base64" in type(defect).__name__ for defect in part.defects):
        reader.problem("A part's base64 encoding is damaged; it was decoded as far as it could be.")
        raw = part.get_payload()
        if isinstance(raw, str):
            letters = re.sub(r"[^A-Za-z0-9+/]", "", raw)
            try:
                return base64.b64decode(letters[: len(letters) - len(letters) % 4])
            except ValueError:
                pass
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


# --- walking the parts ----------------------------------------------------------------------------------


@dataclass
class _Body:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[MailAttachment] = field(default_factory=list)
    inner: list[InnerMessage] = field(default_factory=list)
    bounce: Bounce | None = None
    parts: int = 0


def _filename(reader: _Reader, part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
        reader.problem("An attachment's file name could not be read; it is kept without one.")
    name = str(name)
    if "=?" in name:
        try:
            name = str(make_header(decode_header(name)))
        except Exception:
            reader.problem("An attachment's file name has a broken encoded word; it is shown as sent.")
    name = re.split(r"[\\/]", safe(name))[-1].strip()
    return name


def _attachment(reader: _Reader, part: Message, data: bytes, filename: str, limit: int) -> MailAttachment:
    disposition = (part.get_content_disposition() or "").lower()
    content_id = fold(safe(str(part.get("Content-ID", "") or ""))).strip("<>")
    return MailAttachment(
        filename=filename,
        content_type=part.get_content_type(),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sha1=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        content=data if len(data) <= limit else None,
        inline=bool(content_id) and disposition != "attachment",
        content_id=content_id,
    )


def _walk(reader: _Reader, part: Message, body: _Body, limit: int, depth: int) -> None:
    body.parts += 1
    if depth > MAX_DEPTH or body.parts > MAX_PARTS:
        reader.problem("The message nests too many parts; the deepest ones were not read.")
        return
    try:
        _read_part(reader, part, body, limit, depth)
    except Exception as exc:  # one damaged part costs that part, not the message
        reader.problem(f"A part of the message could not be read ({type(exc).__name__}); it was left out.")


def _attached_message(reader: _Reader, part: Message) -> Message | None:
    """The message a message/rfc822 part holds. RFC 2046 allows it no transfer encoding but 7bit, 8bit or
    binary, yet some clients (Python's own email package among them) send it base64: the parser then
    takes the encoded text for a headerless body, and the forwarded phishing would lose its sender, links
    and relays. Such a part is decoded and read as a message. (Quoted-printable is not undone: its soft
    line breaks split the headers as the parser reads them, so what it read cannot be put back.)"""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return None
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() != "base64":
        return inner
    try:
        letters = re.sub(rb"[^A-Za-z0-9+/]", b"", inner.as_bytes())
        data = base64.b64decode(letters[: len(letters) - len(letters) % 4], validate=True)
        return BytesParser(policy=POLICY).parsebytes(data)
    except Exception:  # a damaged encoding costs the forwarded message's details, not the mail
        reader.problem("An attached message's base64 encoding could not be undone; it was read as sent.")
        return inner


def _read_part(reader: _Reader, part: Message, body: _Body, limit: int, depth: int) -> None:
    try:
        ctype = part.get_content_type()
    except Exception:
        ctype = "text/plain"
    if ctype == "message/rfc822":
        inner = _attached_message(reader, part)
        if inner is not None:
            body.inner.append(_inner(reader, inner, limit, depth + 1))
        return
    if ctype == "multipart/report" and (part.get_param("report-type") or "") == "delivery-status":
        body.bounce = _bounce(reader, part)
        for sub in _subparts(part)[:1]:  # the human-readable explanation; the returned message is ours
            _walk(reader, sub, body, limit, depth + 1)
        return
    if part.is_multipart():
        for sub in _subparts(part):
            _walk(reader, sub, body, limit, depth + 1)
        return
    if ctype.startswith("multipart/"):  # its boundary was not found: what it holds is read as plain text
        reader.problem("A multipart section has no parts (its boundary is missing); it was read as text.")
        ctype = "text/plain"
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:
        disposition = ""
    filename = _filename(reader, part)
    data = _payload_bytes(reader, part)
    is_body_text = ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename
    if is_body_text:
        try:
            charset = part.get_content_charset() if part.get_content_maintype() == "text" else None
        except Exception:
            charset = None
        text = safe(decode_text(data, charset, reader.problem))
        (body.texts if ctype == "text/plain" else body.htmls).append(text)
        return
    if ctype in ("message/delivery-status", "text/rfc822-headers"):
        return
    body.attachments.append(_attachment(reader, part, data, filename, limit))
    if filename.lower().endswith(".eml") or ctype in ("application/eml", "message/eml"):
        try:
            inner = BytesParser(policy=POLICY).parsebytes(data)
            body.inner.append(_inner(reader, inner, limit, depth + 1))
        except Exception:
            reader.problem(f"The attached message {filename!r} could not be read.")


def _all_defects(msg: Message) -> list[object]:
    try:
        return [defect for part in msg.walk() for defect in getattr(part, "defects", [])]
    except Exception:
        return []


def _subparts(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [sub for sub in payload if isinstance(sub, Message)] if isinstance(payload, list) else []


_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?:IPv6:|[\[(])([0-9a-fA-F:.]*:[0-9a-fA-F:.]+)(?=[\])\s;])")
_AUTH = re.compile(r"\b(spf|dkim|dmarc|arc)\s*=\s*([a-z]+)", re.IGNORECASE)


def received_ips(headers: list[str]) -> tuple[str, ...]:
    """The IP addresses named in Received headers, top (the last hop) first, each once."""
    found: list[str] = []
    for header in headers:
        route = header.rsplit(";", 1)[0] if ";" in header else header  # the part after ";" is the date
        candidates = [(m.start(), m.group(0)) for m in _IPV4.finditer(route)]
        candidates += [(m.start(1), m.group(1)) for m in _IPV6.finditer(route)]
        for _position, candidate in sorted(candidates):
            try:
                address = ipaddress.ip_address(candidate)
            except ValueError:
                continue
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            if str(address) not in found:
                found.append(str(address))
    return tuple(found)


def _all_raw(msg: Message, name: str) -> list[str]:
    return [safe(str(v)) for k, v in msg.raw_items() if k.lower() == name.lower()]


def _inner(reader: _Reader, msg: Message, limit: int, depth: int) -> InnerMessage:
    body = _Body()
    _walk(reader, msg, body, limit, depth)
    text, links = _body_text(body)
    authentication: dict[str, str] = {}
    for header in _all_raw(msg, "Authentication-Results"):
        for method, result in _AUTH.findall(header):
            authentication.setdefault(method.lower(), result.lower())
    for header in _all_raw(msg, "Received-SPF"):
        if header.split():
            authentication.setdefault("spf", header.split()[0].lower())
    from_pairs = reader.addresses(msg, "From")
    reply_pairs = reader.addresses(msg, "Reply-To")
    return_path = reader.header(msg, "Return-Path").strip().strip("<>").strip().lower()
    message_ids = reader.ids(msg, "Message-ID")
    return InnerMessage(
        subject=fold(reader.header(msg, "Subject")),
        from_address=from_pairs[0][1] if from_pairs else "",
        reply_to=reply_pairs[0][1] if reply_pairs else "",
        return_path=return_path,
        received_ips=received_ips([" ".join(h.split()) for h in _all_raw(msg, "Received")]),
        authentication=authentication,
        text=text,
        message_id=message_ids[0] if message_ids else "",
        links=tuple(links),
    )


def _bounce(reader: _Reader, report: Message) -> Bounce:
    fields: dict[str, str] = {}
    original_id = ""
    for sub in _subparts(report):
        ctype = sub.get_content_type()
        if ctype == "message/delivery-status":
            payload = sub.get_payload()
            blocks = payload if isinstance(payload, list) else []
            if not blocks and isinstance(payload, str):
                blocks = [HeaderParser().parsestr(block) for block in re.split(r"\n\s*\n", payload)]
            for block in blocks:
                if isinstance(block, Message):
                    for key, value in block.items():
                        fields.setdefault(key.lower(), fold(safe(str(value))))
        elif ctype in ("message/rfc822", "message/rfc822-headers", "text/rfc822-headers"):
            payload = sub.get_payload()
            returned = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(payload, str):
                returned = HeaderParser().parsestr(payload)
            if isinstance(returned, Message):
                ids = reader.ids(returned, "Message-ID")
                original_id = original_id or (ids[0] if ids else "")
    if not original_id:
        for key in ("x-original-message-id", "original-message-id"):
            if fields.get(key):
                original_id = fields[key].strip().strip("<>")
                break
    recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
    diagnostic = fields.get("diagnostic-code", "")
    if not fields and not original_id:
        reader.problem("The delivery status report has no status fields that could be read.")
    return Bounce(
        original_message_id=original_id,
        recipient=recipient.split(";", 1)[-1].strip().lower(),
        status=fields.get("status", "").strip(),
        action=fields.get("action", "").strip().lower(),
        diagnostic=diagnostic.split(";", 1)[-1].strip() if ";" in diagnostic else diagnostic.strip(),
    )


def _body_text(body: _Body) -> tuple[str, list[str]]:
    links: list[str] = []
    html_texts: list[str] = []
    for html in body.htmls:
        text, found = html_to_text(html)
        html_texts.append(text)
        links.extend(found)
    texts = [t.strip() for t in body.texts if t.strip()] or [t for t in html_texts if t]
    return "\n\n".join(texts), list(dict.fromkeys(links))


# --- the message ----------------------------------------------------------------------------------------


def parse_message(raw: bytes, *, max_attachment_bytes: int = 10 * 1024 * 1024) -> ParsedMessage:
    """Read one raw message into a ParsedMessage. Never raises for any input bytes.

    What cannot be read is said in `problems`; an attachment over `max_attachment_bytes` keeps its
    name, size and hashes but not its content.
    """
    raw = bytes(raw) if not isinstance(raw, bytes) else raw
    generated_id = f"generated-{hashlib.sha256(raw).hexdigest()}@socdesk"
    reader = _Reader()
    try:
        return _parse(reader, raw, generated_id, max_attachment_bytes)
    except Exception as exc:  # the last resort: the raw is kept by the caller, the text is what we can see
        reader.problem(
            f"The message could not be read as MIME ({type(exc).__name__}); its raw text is shown."
        )
        text = safe(raw.decode("utf-8", "replace"))
        return ParsedMessage(
            message_id=generated_id,
            in_reply_to=(),
            references=(),
            subject="",
            from_name="",
            from_address="",
            reply_to="",
            to=(),
            cc=(),
            date=None,
            text=text,
            reply_text=text.strip(),
            html="",
            attachments=(),
            inner=(),
            bounce=None,
            automated="",
            problems=tuple(reader.problems),
            raw_size=len(raw),
        )


def _parse(reader: _Reader, raw: bytes, generated_id: str, limit: int) -> ParsedMessage:
    msg = BytesParser(policy=POLICY).parsebytes(raw)
    if not raw.strip():
        reader.problem("The message is empty.")
    message_ids = reader.ids(msg, "Message-ID")
    from_pairs = reader.addresses(msg, "From")
    if not from_pairs:
        reader.problem("The message has no sender address (From) that could be read.")
    reply_pairs = reader.addresses(msg, "Reply-To")
    body = _Body()
    _walk(reader, msg, body, limit, 0)
    text, links = _body_text(body)
    html = ""
    if body.htmls:
        try:
            html = nh3.clean("\n".join(body.htmls), url_schemes=HTML_URL_SCHEMES)
        except Exception:
            reader.problem("The HTML part could not be cleaned; it is left out.")
    if any(type(defect).__name__ == "CloseBoundaryNotFoundDefect" for defect in _all_defects(msg)):
        reader.problem(
            "The message ends before its last MIME boundary (it may be cut short); what is there was read."
        )
    headers = [
        (name, reader.header(msg, name))
        for name in ("Auto-Submitted", "Precedence", "X-Autoreply", "X-Autorespond", "Content-Type", "From")
        if reader.raw_header(msg, name) is not None
    ]
    return ParsedMessage(
        message_id=message_ids[0] if message_ids else generated_id,
        in_reply_to=reader.ids(msg, "In-Reply-To"),
        references=reader.ids(msg, "References"),
        subject=fold(reader.header(msg, "Subject")),
        from_name=fold(from_pairs[0][0]) if from_pairs else "",
        from_address=from_pairs[0][1] if from_pairs else "",
        reply_to=reply_pairs[0][1] if reply_pairs else "",
        to=tuple(dict.fromkeys(a for _, a in reader.addresses(msg, "To"))),
        cc=tuple(dict.fromkeys(a for _, a in reader.addresses(msg, "Cc"))),
        date=reader.date(msg),
        text=text,
        reply_text=reply_part(text),
        html=html,
        attachments=tuple(body.attachments),
        inner=tuple(body.inner),
        bounce=body.bounce,
        automated=automated_reason(headers)
        or ("It is a delivery status notification (a bounce)." if body.bounce else ""),
        problems=tuple(reader.problems),
        raw_size=len(raw),
        links=tuple(links),
    )
