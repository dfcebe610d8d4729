"""The search box's query language, read into a structured query (pure: no database, never raises).

    203.0.113.7 phishing      every word must match (anywhere in the ticket's search document)
    "lateral movement"        a phrase: the words next to each other
    -noise                    must not match (also -"a phrase" and -tag:noise)
    ip:10.0.0.5 tag:vpn       a field: the value is matched exactly against that field
    custom.host_ip:10.0.0.5   a custom field's value, by the field's machine name
    topic:Phishing            a help topic, by its name (topic:none: no help topic)
    linked:SOC-1042           tickets linked to that ticket, whatever the kind of link

Anything a person may type is read: an unknown `field:` is reported in `errors` (and ignored), an
unclosed quote runs to the end of the text, stray dashes and quotes are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# field -> what the help popover and the error message say it does
FIELDS: dict[str, str] = {
    "ip": "an IP address observable (ip:10.0.0.5)",
    "hash": "an MD5, SHA-1 or SHA-256 observable",
    "domain": "a domain observable (defanged is fine)",
    "host": "a host name or address observable",
    "user": "a user account observable",
    "file": "a file name observable, such as an e-mail's attachment (file:invoice.pdf)",
    "status": "new, in_progress, on_hold, resolved or closed",
    "severity": "info, low, medium, high or critical",
    "assignee": "an agent's user name, me or none",
    "tag": "a tag",
    "source": "where the ticket came from: alert, email, web, api, phone or other",
    "topic": 'a help topic by name (topic:Phishing, topic:"Lateral movement"), or none',
    "linked": "tickets linked to a ticket, by its number (linked:SOC-1042)",
    "custom.<name>": "a custom field's value (custom.host_ip:10.0.0.5)",
}
MAX_TERMS = 20
MAX_TERM_LENGTH = 200
# `name:value` is a field when the name is a word of two letters or more; `http://x` and an IPv6
# address (`2001:db8::1`) are not, and neither is a Windows path (`C:\temp`).
FIELD = re.compile(r"^([A-Za-z][A-Za-z_]+):(?!//)(.+)$", re.DOTALL)
# `custom.<machine name>:value`: a custom field, whatever its name (names are checked by the forms).
CUSTOM_FIELD = re.compile(r"^custom\.([A-Za-z][A-Za-z0-9_]{0,63}):(.+)$", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    """One part of a query: words (a phrase when quoted), maybe negated, maybe for one field."""

    text: str
    negated: bool = False
    phrase: bool = False
    field: str = ""


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: its terms in order, and why some of what was typed was not used."""

    terms: tuple[Term, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def text_terms(self) -> tuple[Term, ...]:
        """Terms matched against the search document."""
        return tuple(t for t in self.terms if not t.field)

    @property
    def field_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.field)

    @property
    def positive_text(self) -> tuple[Term, ...]:
        """The words whose matches rank a ticket and are highlighted in its snippet."""
        return tuple(t for t in self.text_terms if not t.negated)

    def __bool__(self) -> bool:
        return bool(self.terms)


def _tokens(text: str) -> list[tuple[str, bool, bool, bool]]:
    """Split into (token, negated, quoted, starts quoted) tuples; quotes group words, also inside a
    field value (tag:"a b")."""
    out: list[tuple[str, bool, bool, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] == "-"
        if negated:
            i += 1
        starts_quoted = i < n and text[i] == '"'
        quoted = False
        buf = []
        while i < n and not text[i].isspace():
            if text[i] == '"':
                quoted = True
                end = text.find('"', i + 1)
                end = n if end == -1 else end
                buf.append(text[i + 1 : end])
                i = end + 1
            else:
                buf.append(text[i])
                i += 1
        out.append(("".join(buf), negated, quoted, starts_quoted))
    return out


def parse_query(text: str) -> SearchQuery:
    """Read what was typed in the search box; see the module docstring for the syntax."""
    terms: list[Term] = []
    errors: list[str] = []
    for token, negated, quoted, starts_quoted in _tokens(text or ""):
        name = ""
        match = None if starts_quoted else FIELD.match(token)
        custom = None if starts_quoted else CUSTOM_FIELD.match(token)
        if custom:
            name, token = f"custom.{custom.group(1).lower()}", custom.group(2)
        elif match:
            candidate = match.group(1).lower()
            if candidate in FIELDS:
                name, token = candidate, match.group(2)
            elif not match.group(2).startswith("\\"):
                errors.append(
                    f"Unknown search field {candidate + ':'!r}: use one of "
                    f"{', '.join(f + ':' for f in FIELDS)}, "
                    "or put the text in quotes to search for it as it is."
                )
                continue
        token = " ".join(token.split())[:MAX_TERM_LENGTH].strip()
        if not token.strip("-"):
            continue
        if len(terms) == MAX_TERMS:
            errors.append(f"Only the first {MAX_TERMS} terms of a search are used.")
            break
        terms.append(Term(text=token, negated=negated, phrase=quoted and " " in token, field=name))
    return SearchQuery(terms=tuple(terms), errors=tuple(dict.fromkeys(errors)))


def field_help() -> list[tuple[str, str]]:
    """(field:, what it matches) for the search box's help popover."""
    return [(f"{name}:", description) for name, description in FIELDS.items()]
