"""What both databases' search SQL share: the document table's name, the highlight marks, LIKE escaping."""

from __future__ import annotations

TABLE = "tickets_ticketsearch"
# Marks around a highlighted match in a snippet: control characters, which clean_text removes from
# every stored text, so no document can contain them and fake a highlight.
MARK_START, MARK_END = "\x02", "\x03"


def like_pattern(text: str) -> str:
    """`%text%` for LIKE, with the text's own wildcards taken literally (escape character: backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
