"""`@username` mentions in a note's text (pure)."""

from __future__ import annotations

import re

# An @ not preceded by a word character or another @, so the domain of "bob@example.test" is no mention.
# Usernames hold letters, digits and @.+-_ (Django's rule); a trailing dot or dash ends the sentence.
MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")
# A note naming more people than this is a list, not a call for attention: only the first ones count.
MENTIONS_MAX = 20


def mentioned_usernames(text: str) -> list[str]:
    """The usernames mentioned in the text, in order of first appearance, without repeats."""
    found: dict[str, None] = {}
    for match in MENTION.finditer(text or ""):
        name = match.group(1).rstrip(".-+")
        if name:
            found.setdefault(name, None)
        if len(found) >= MENTIONS_MAX:
            break
    return list(found)
