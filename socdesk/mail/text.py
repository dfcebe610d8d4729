"""Text from email (pure): charsets, HTML to text, and the new part of a reply."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from html.parser import HTMLParser

from socdesk.core.text import clean_text

REPLY_MARKER = "-- reply above this line --"


def safe(value: str) -> str:
    """Text that encodes as UTF-8: bytes the parser kept as surrogates become U+FFFD; no control chars."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        try:
            value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return clean_text(value)


def fold(value: str) -> str:
    return " ".join(value.split())


_TEXT_CHARSETS_ASCII = {"us-ascii", "ascii", "ansi_x3.4-1968"}


def decode_text(payload: bytes, charset: str | None, problem: Callable[[str], None]) -> str:
    """The bytes as text in their declared charset; unknown charsets and bad bytes decode with U+FFFD."""
    label = (charset or "").strip().strip("\"'").lower()
    if not label or label in _TEXT_CHARSETS_ASCII:
        # Undeclared or "ASCII" 8-bit text is nearly always UTF-8 today, else Windows-1252.
        for candidate in ("utf-8", "cp1252"):
            try:
                return payload.decode(candidate)
            except UnicodeDecodeError:
                continue
        return payload.decode("utf-8", "replace")
    try:
        info = codecs.lookup(label)
        if not getattr(info, "_is_text_encoding", True) or info.name in ("rot-13",):
            raise LookupError(label)
    except (LookupError, ValueError):
        problem(
            f"A text part declares the unknown charset {label[:40]!r}; it was read as UTF-8 "
            "with unreadable characters replaced."
        )
        return payload.decode("utf-8", "replace")
    try:
        return payload.decode(info.name)
    except UnicodeDecodeError:
        problem(f"A text part is not valid {label[:40]}; unreadable characters were replaced.")
    except Exception:
        problem(f"A text part could not be read as {label[:40]}; it was read as UTF-8 instead.")
        return payload.decode("utf-8", "replace")
    return payload.decode(info.name, "replace")


# --- HTML to text ---


class _HTMLText(HTMLParser):
    """HTML to plain text: paragraphs and line breaks kept, scripts and styles dropped, links noted."""

    BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "table"}
    SKIPPED = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.strip() and not href.strip().lower().startswith(("mailto:", "#", "cid:", "javascript:")):
                self.links.append(href.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, list[str]]:
    """The text a person reads in the HTML, and the links' targets."""
    converter = _HTMLText()
    try:
        converter.feed(html)
        converter.close()
    except Exception:  # HTMLParser is lenient; this guards against the odd assertion on broken markup
        pass
    lines = [fold(line) for line in "".join(converter.parts).splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, list(dict.fromkeys(converter.links))


# --- reply separation ---


_GMAIL = re.compile(r"^\s*On\b.{1,400}\bwrote:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*\*?From:\*?\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date):\*?\s", re.IGNORECASE)
_OUTLOOK_RULE = re.compile(r"^\s*_{10,}\s*$")


def reply_part(text: str) -> str:
    """The new part of a reply: above the reply marker, or before the quoted history.

    Falls back to the whole text when cutting would leave nothing (a message that is all quote).
    """
    lines = text.splitlines()
    cut = len(lines)
    for index, line in enumerate(lines):
        if REPLY_MARKER in line.lower():
            cut = index
            break
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if _GMAIL.match(line) or (line.strip().startswith("On ") and _GMAIL.match(f"{line} {following}")):
            cut = index
            break
        if _ORIGINAL.match(line):
            cut = index
            break
        if _OUTLOOK_FROM.match(line) and any(
            _OUTLOOK_NEXT.match(nxt) for nxt in lines[index + 1 : index + 5]
        ):
            cut = index - 1 if index and _OUTLOOK_RULE.match(lines[index - 1]) else index
            break
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()  # a quoted block at the end (the reply was written above it)
    reply = "\n".join(kept).strip()
    return reply or text.strip()
