"""A received message's HTML version, for agents: found by the ticket they may see, served as a page of
its own under a Content-Security-Policy sandbox (docs/email.md, "The HTML version").

The reader already sanitised it (nh3: no scripts, no event handlers, no unknown URL schemes). The sandbox
is the second wall: the page runs no script whatever slipped through, has an origin of its own (no
console cookies, no console requests), loads nothing from anywhere, and shows remote images (often
tracking pixels telling the sender the mail was read) only when the agent asks for them. The message's
own inline (`cid:`) images are drawn, inlined as data: URIs (`inbound_html_drawn`).
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from urllib.parse import unquote

from django.db.models import QuerySet

from socdesk.accounts.models import Agent
from socdesk.core.errors import NotFound
from socdesk.mail.models import InboundMessage
from socdesk.tickets.models import Attachment, Ticket
from socdesk.tickets.selectors import tickets_visible_to

# Styles only from SOCdesk's own static files (the bar above the mail; the reader removed the mail's own).
POLICY = "default-src 'none'; style-src 'self'; img-src {images}; form-action 'none'; sandbox"


def inbound_html_by_entry(ticket: Ticket) -> dict[int, int]:
    """Entry id -> the received message (with an HTML part) behind it, for the ticket's thread."""
    found = InboundMessage.objects.filter(ticket=ticket, entry__isnull=False).exclude(html="")
    return dict(found.values_list("entry_id", "pk"))


def inbound_html_get_for_agent(agent: Agent, message_id: int) -> InboundMessage:
    """The received message if it has an HTML version and the agent may see its ticket; NotFound
    otherwise (never 'forbidden')."""
    found: QuerySet[InboundMessage] = InboundMessage.objects.select_related("ticket").filter(
        pk=message_id, ticket__in=tickets_visible_to(agent)
    )
    message = found.exclude(html="").first()
    if message is None:
        raise NotFound("That e-mail's HTML version was not found.")
    return message


def html_policy(remote_images: bool) -> str:
    """The HTML version's Content-Security-Policy: nothing loads or runs; remote images on request."""
    return POLICY.format(images="data: https: http:" if remote_images else "data:")


# Inline (cid:) images are drawn as data: URIs, the one image source the policy allows without remote
# images: the sandboxed page has an origin of its own, so a console URL would reach it without the
# agent's session. Only types a browser draws as a picture and nothing else (no SVG, a document).
DRAWN_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# A data: URI is a third larger than the image and lives in the page: caps keep the page small.
INLINE_IMAGE_MAX_BYTES = 2 * 1024 * 1024
INLINE_IMAGES_MAX_BYTES = 8 * 1024 * 1024
# nh3 writes every attribute in double quotes, entities escaped.
_CID_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")cid:([^"]*)(")', re.IGNORECASE)


@dataclass(frozen=True)
class DrawnHtml:
    """The HTML version with its inline images as data: URIs, and those left undrawn (with why)."""

    html: str
    drawn: int
    not_drawn: list[str]


def _read(attachment: Attachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()


def inbound_html_drawn(message: InboundMessage) -> DrawnHtml:
    """The sanitised HTML with each `<img src="cid:...">` naming one of the message's stored inline
    images replaced by that image as a data: URI, when its sniffed type is a picture and it is within the
    caps; any other `cid:` stays as it is (the browser draws nothing for it)."""
    wanted = message.inline_images or {}
    if not wanted or message.entry_id is None:
        return DrawnHtml(message.html, 0, [])
    stored = {
        a.sha256: a for a in Attachment.objects.filter(entry_id=message.entry_id, sha256__in=wanted.values())
    }
    by_cid = {cid: stored.get(sha) for cid, sha in wanted.items()}
    by_cid_folded = {cid.lower(): a for cid, a in by_cid.items()}
    uris: dict[str, str] = {}  # sha256 -> data URI, each image read once
    not_drawn: list[str] = []
    total = 0

    def draw(match: re.Match[str]) -> str:
        nonlocal total
        cid = unquote(html.unescape(match[2])).strip().strip("<>")
        attachment = by_cid.get(cid) or by_cid_folded.get(cid.lower())
        if attachment is None:
            return match[0]
        if attachment.sha256 not in uris:
            name = attachment.filename or cid
            if attachment.content_type not in DRAWN_TYPES:
                not_drawn.append(f"{name} (not a picture: {attachment.content_type})")
                return match[0]
            if attachment.size > INLINE_IMAGE_MAX_BYTES or total + attachment.size > INLINE_IMAGES_MAX_BYTES:
                not_drawn.append(f"{name} (too large to draw here: {attachment.size:,} bytes)")
                return match[0]
            total += attachment.size
            encoded = base64.b64encode(_read(attachment)).decode("ascii")
            uris[attachment.sha256] = f"data:{attachment.content_type};base64,{encoded}"
        return f"{match[1]}{uris[attachment.sha256]}{match[3]}"

    drawn_html = _CID_SRC.sub(draw, message.html)
    return DrawnHtml(drawn_html, len(uris), list(dict.fromkeys(not_drawn)))
