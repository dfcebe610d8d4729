"""Pure parsing of osTicket API requests (JSON, XML) into one normalised ticket request (a raw email,
tickets.email, goes through socdesk.mail.inbound instead).

No database here: bytes in, an `OsTicketRequest` out, or a `PayloadError` with a sentence naming the
problem (and its position for malformed JSON/XML). Field names and forms follow osTicket's documented
API (setup/doc/api/tickets.md) so existing integrations work unchanged.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes
from xml.etree.ElementTree import Element, ParseError, tostring

import nh3
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from socdesk.core import json_input
from socdesk.tickets.attachments import IncomingFile

REQUIRED = ("name", "email", "subject", "message")
# osTicket priority ids and names -> SOCdesk severities.
PRIORITY_SEVERITY = {
    "1": "low",
    "low": "low",
    "2": "medium",
    "normal": "medium",
    "medium": "medium",
    "3": "high",
    "high": "high",
    "4": "critical",
    "emergency": "critical",
    "critical": "critical",
    "urgent": "critical",
}
# Fields that become columns or thread content; everything else is kept in Ticket.extra.
CONSUMED = {"name", "email", "subject", "message", "phone", "phone_ext", "priority", "priorityId"}
CONSUMED |= {"attachments", "deptId", "department"}
CONTACT_NAME_MAX, CONTACT_PHONE_MAX, EMAIL_MAX = 150, 50, 254
XML_NESTING_KEPT = 8  # deeper XML is kept as text: unknown fields are stored, not interpreted


class PayloadError(Exception):
    """The request body cannot become a ticket; `message` says why, `fields` which fields."""

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message, self.fields = message, fields or {}


@dataclass
class OsTicketRequest:
    """A ticket request in SOCdesk terms, whatever format it arrived in."""

    subject: str
    body: str
    body_format: str = "text"
    name: str = ""
    email: str = ""
    phone: str = ""
    severity: str = "medium"
    department_id: int | None = None
    department_slug: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    attachments: list[IncomingFile] = field(default_factory=list)


# --- text hygiene ------------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """Text the databases accept: no NUL characters (PostgreSQL refuses them), no lone surrogates."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def clean_value(value: Any) -> Any:
    """clean_text applied through lists and dicts (values that are kept in Ticket.extra)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value


def sanitise_html(html: str) -> str:
    """Foreign HTML made safe to render: nh3 keeps formatting and drops scripts, handlers and styles."""
    return nh3.clean(clean_text(html))


# --- data URLs (RFC 2397) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DataUrl:
    mime: str
    charset: str
    data: bytes


_DATA_URL = re.compile(r"^data:(?P<meta>[^,]*),(?P<data>.*)$", re.DOTALL | re.IGNORECASE)


def is_data_url(value: str) -> bool:
    return value[:5].lower() == "data:"


def parse_data_url(value: str, what: str) -> DataUrl:
    """Decode `data:[<mime>][;charset=..][;base64],<data>`; `what` names the field in errors."""
    match = _DATA_URL.match(value.strip())
    if not match:
        raise PayloadError(f"{what} is not a valid data URL: the comma before the data is missing.")
    params = [p.strip() for p in match["meta"].split(";")]
    mime = (params[0] or "text/plain").lower()
    is_base64 = any(p.lower() == "base64" for p in params[1:])
    charset = ""  # UTF-8 unless declared (RFC 2397 says US-ASCII, of which UTF-8 is a superset)
    for p in params[1:]:
        key, _, val = p.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip('"')
    raw = match["data"]
    if is_base64:
        data = decode_base64(unquote_to_bytes(raw) if "%" in raw else raw.encode("utf-8", "replace"), what)
    else:
        data = unquote_to_bytes(raw)
    return DataUrl(mime=mime, charset=charset, data=data)


def decode_base64(data: bytes | str, what: str) -> bytes:
    """Base64 with whitespace and missing padding tolerated, anything else refused with a message."""
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    compact = re.sub(rb"\s+", b"", data)
    compact += b"=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise PayloadError(f"{what} has invalid base64 data.") from None


def bytes_to_text(data: bytes, charset: str) -> str:
    """Decode with the declared charset (UTF-8 if none or unknown); undecodable bytes are replaced."""
    try:
        return data.decode(charset or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


# --- JSON -------------------------------------------------------------------------------------------


def parse_json(body: bytes) -> dict[str, Any]:
    """A JSON object from the body; malformed JSON is an error naming line and column."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"The body is not UTF-8 text (invalid byte at position {exc.start}).") from None
    if not text.strip():
        raise PayloadError("The body is empty; send a JSON object with name, email, subject and message.")
    try:
        data = json_input.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"Malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}.") from None
    except json_input.UnstorableNumber as exc:
        raise PayloadError(exc.message) from None
    except RecursionError:
        raise PayloadError("Malformed JSON: it is nested too deeply.") from None
    if not isinstance(data, dict):
        raise PayloadError(f"The JSON body must be an object ({{...}}), not {type(data).__name__}.")
    return data


def json_attachments(value: Any) -> list[IncomingFile]:
    """osTicket's JSON attachments: [{"name.ext": "data:..."}] (or {name, type, data, encoding})."""
    if value in (None, "", []):
        return []
    items = value if isinstance(value, list) else [value]
    files = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise PayloadError(
                f'Attachment {index} must be an object such as {{"report.pdf": "data:...;base64,..."}}.',
                {"attachments": "invalid"},
            )
        if "data" in item and isinstance(item.get("name"), str):
            files.append(
                _file_from(item["name"], item["data"], item.get("type"), item.get("encoding"), index)
            )
            continue
        for name, data in item.items():
            files.append(_file_from(name, data, None, None, index))
    return files


def _file_from(name: Any, data: Any, mime: Any, encoding: Any, index: int) -> IncomingFile:
    name = clean_text(str(name or "")).strip()
    what = f"Attachment {name!r}" if name else f"Attachment {index}"
    if not name:
        raise PayloadError(f"{what} has no file name.", {"attachments": "invalid"})
    if not isinstance(data, str):
        raise PayloadError(f"{what} must be a data URL string.", {"attachments": "invalid"})
    if is_data_url(data):
        content = parse_data_url(data, what).data
    elif str(encoding or "").lower() == "base64":
        content = decode_base64(data, what)
    else:
        content = data.encode("utf-8", "replace")
    return IncomingFile(name=name, content=content)


# --- XML --------------------------------------------------------------------------------------------


def parse_xml(body: bytes) -> dict[str, Any]:
    """osTicket's lax XML: simple values as child elements or as attributes of <ticket>.

    defusedxml refuses any DOCTYPE, so entity expansion (billion laughs) and external entities (XXE)
    are refused before anything is expanded or fetched; osTicket clients never send a DTD.
    """
    if not body.strip():
        raise PayloadError(
            "The body is empty; send a <ticket> element with name, email, subject and message."
        )
    try:
        root = safe_fromstring(body, forbid_dtd=True)
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        reason = str(exc).split(":")[0]
        raise PayloadError(f"Malformed XML at line {line} column {column + 1}: {reason}.") from None
    except DefusedXmlException as exc:
        raise PayloadError(
            f"XML DTDs, entity declarations and external references are refused ({type(exc).__name__}); "
            "send the <ticket> element without a DOCTYPE."
        ) from None
    except LookupError as exc:  # an encoding named in the XML declaration that Python does not know
        raise PayloadError(f"Malformed XML: {exc}; send UTF-8.") from None
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"Malformed XML: {exc}.") from None
    if root.tag != "ticket":
        raise PayloadError(f"The XML root element must be <ticket>, not <{root.tag}>.")
    data: dict[str, Any] = dict(root.attrib)
    if "attachments" in data:
        raise PayloadError("attachments must be <file> elements inside <attachments>, not an attribute.")
    for child in root:
        tag = child.tag if isinstance(child.tag, str) else ""
        if not tag:
            continue
        if tag == "message":
            data["message"] = _inner_xml(child).strip()
            if child.get("type"):
                data["message_type"] = child.get("type")
        elif tag == "phone":
            data["phone"] = (child.text or "").strip()
            if child.get("ext"):
                data["phone_ext"] = child.get("ext")
        elif tag == "attachments":
            data["attachments"] = [_xml_file(f, i) for i, f in enumerate(child, start=1) if f.tag == "file"]
        else:
            data[tag] = _xml_value(child, 0)
    return data


def _inner_xml(element: Element) -> str:
    """Text of an element including any unescaped child markup (HTML sent without CDATA)."""
    inner = [element.text or ""]
    for child in element:
        inner.append(tostring(child, encoding="unicode"))
    return "".join(inner)


def _xml_value(element: Element, depth: int) -> Any:
    """A child element as a value: its text if it has no children, else a dict (unknown fields)."""
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        return (element.text or "").strip()
    if depth >= XML_NESTING_KEPT:
        return "".join(element.itertext()).strip()
    value: dict[str, Any] = dict(element.attrib)
    for child in children:
        value[child.tag] = _xml_value(child, depth + 1)
    return value


def _xml_file(element: Element, index: int) -> IncomingFile:
    name = (element.get("name") or "").strip()
    text = element.text or ""
    if (element.get("encoding") or "").lower() == "base64":
        return _file_from(name, text, element.get("type"), "base64", index)
    return _file_from(name, text.strip(), element.get("type"), None, index)


# --- fields -> request ------------------------------------------------------------------------------


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return clean_text(str(value)).strip()
    return ""


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return _as_text(value).lower() not in ("", "0", "false", "no", "off")


def _as_int(value: Any, name: str) -> int:
    text = _as_text(value)
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,9}", text):
        raise PayloadError(f"{name} must be a whole number, not {str(value)[:40]!r}.", {name: "invalid"})
    return int(text)


def message_from(value: Any, declared_type: str = "") -> tuple[str, str]:
    """(body, format) from osTicket's message: plain text, a data URL, or XML with type=text/html."""
    if not isinstance(value, str):
        raise PayloadError("message must be text or a data URL.", {"message": "invalid"})
    text, mime = value, (declared_type or "").strip().lower()
    if is_data_url(value.strip()):
        url = parse_data_url(value, "message")
        if url.mime not in ("text/plain", "text/html"):
            raise PayloadError(
                f"message must be text/plain or text/html, not {url.mime[:60]}; send files as attachments.",
                {"message": "invalid"},
            )
        text, mime = bytes_to_text(url.data, url.charset), url.mime
    if mime == "text/html":
        return sanitise_html(text).strip(), "html"
    return clean_text(text).strip(), "text"


def request_from_fields(data: dict[str, Any], files: list[IncomingFile] | None = None) -> OsTicketRequest:
    """Validate osTicket's fields and turn them into a ticket request; every problem is listed at once."""
    data = clean_value(data)
    problems: dict[str, str] = {}
    missing = [name for name in REQUIRED if not _present(data.get(name))]
    if missing:
        raise PayloadError(
            f"Required field(s) missing: {', '.join(missing)}.", dict.fromkeys(missing, "required")
        )
    for name in ("name", "email", "subject"):
        if isinstance(data[name], list | dict):
            problems[name] = f"{name} must be text, not a list or object."
    body, body_format = message_from(data["message"], _as_text(data.get("message_type")))
    if not body:
        problems["message"] = "The message is empty."
    address = _as_text(data["email"])
    if len(address) > EMAIL_MAX or not _valid_email(address):
        problems["email"] = f"{address[:80]!r} is not a valid email address."
    severity = "medium"
    priority = data.get("priorityId", data.get("priority"))
    if _present(priority):
        severity = PRIORITY_SEVERITY.get(_as_text(priority).lower(), "")
        if not severity:
            problems["priority"] = (
                f"Unknown priority {_as_text(priority)[:40]!r}; use 1 (low), 2 (normal), 3 (high) "
                "or 4 (emergency)."
            )
    ip = _as_text(data.get("ip"))
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            problems["ip"] = f"{ip[:60]!r} is not an IP address."
    extra = {k: v for k, v in data.items() if k not in CONSUMED and k != "message_type"}
    for flag in ("alert", "autorespond"):
        if flag in extra:
            extra[flag] = _as_bool(extra[flag])
    for number in ("topicId", "slaId"):
        if _present(extra.get(number)):
            try:
                extra[number] = _as_int(extra[number], number)
            except PayloadError as exc:
                problems[number] = exc.message
    department_id = None
    if _present(data.get("deptId")):
        try:
            department_id = _as_int(data["deptId"], "deptId")
        except PayloadError as exc:
            problems["deptId"] = exc.message
    subject = _as_text(data["subject"])
    if not subject and "subject" not in problems:
        problems["subject"] = "The subject is empty."
    if problems:
        raise PayloadError(" ".join(problems.values()), problems)
    phone = _as_text(data.get("phone"))
    ext = _as_text(data.get("phone_ext"))
    if not ext and re.search(r"[xX]\s*\d+$", phone):
        phone, ext = re.split(r"\s*[xX]\s*(?=\d+$)", phone, maxsplit=1)
    if ext:
        phone = f"{phone} x{ext}"
    return OsTicketRequest(
        subject=subject,
        body=body,
        body_format=body_format,
        name=_as_text(data["name"])[:CONTACT_NAME_MAX],
        email=address,
        phone=phone[:CONTACT_PHONE_MAX],
        severity=severity,
        department_id=department_id,
        department_slug=_as_text(data.get("department")),
        extra=extra,
        attachments=list(files or []),
    )


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return not (isinstance(value, list | dict) and not value)


def _valid_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def request_from_json(body: bytes) -> OsTicketRequest:
    """POST /api/tickets.json."""
    data = parse_json(body)
    files = json_attachments(data.get("attachments"))
    return request_from_fields(data, files)


def request_from_xml(body: bytes) -> OsTicketRequest:
    """POST /api/tickets.xml."""
    data = parse_xml(body)
    return request_from_fields(data, data.get("attachments") or [])
