"""Articles' Markdown as HTML that is safe to show: markdown-it-py (raw HTML off) then nh3.

Two layers on purpose: markdown-it escapes the HTML an author types and refuses `javascript:` links;
nh3 then keeps only the tags and attributes below, so nothing that slipped through either (a parser
bug, a future option) can carry a script, a style or an event handler into the console or the portal.
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
# No images: a remote image would tell its host who reads the article, and when.
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
SCHEMES = {"http", "https", "mailto"}


def markdown_html(text: str) -> SafeString:
    """The Markdown rendered and sanitised (links open apart, without the referrer)."""
    raw = _PARSER.render(text or "")
    clean = nh3.clean(
        raw,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )
    return mark_safe(clean)  # sanitised by nh3 just above
