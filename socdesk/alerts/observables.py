"""Observables: extraction from adapter fields and alert text, refanging and normalisation (pure).

ioc-finder finds IPs, domains, URLs, emails, hashes and CVEs in free text and refangs `hxxp` and `[.]`.
It drops internal names (`dc01.corp.local`, bare `web01`), so a small fallback keeps FQDNs under
internal suffixes; bare host names come only from adapter fields (e.g. Wazuh `agent.name`).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

# Types that adapters may hand over which are resolved here: "host" (IP or name), "hash" (by length).
HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256"}
INTERNAL_SUFFIXES = ("local", "lan", "internal", "intranet", "corp", "home", "localdomain", "ad", "private")
INTERNAL_FQDN = re.compile(
    r"(?<![\w.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:"
    + "|".join(INTERNAL_SUFFIXES)
    + r"))(?![\w-])",
    re.IGNORECASE,
)
HEX = re.compile(r"^[0-9a-fA-F]+$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_-]{1,63})*$")
CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
TEXT_LIMIT = 20_000  # text beyond this is not scanned: extraction must stay cheap under alert floods

IOC_KEYS = {
    "ipv4s": "ip",
    "ipv6s": "ip",
    "domains": "domain",
    "urls": "url",
    "email_addresses": "email",
    "md5s": "md5",
    "sha1s": "sha1",
    "sha256s": "sha256",
    "cves": "cve",
}


DEFANGED_SCHEME = ((re.compile(r"^hxxp", re.IGNORECASE), "http"), (re.compile(r"^fxp", re.IGNORECASE), "ftp"))
DEFANGED_MARKS = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        (r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)", "."),
        (r"\[:\]", ":"),
        (r"\[@\]|\[at\]|\(at\)", "@"),
        (r"\[/\]", "/"),
    )
)
# Every defanging mark starts with one of these; a value without them has none to undo.
MARK_OPENERS = re.compile(r"[\[({]")


def refang(value: str) -> str:
    """Undo the usual defanging: hxxp(s), [.], (.), {.}, [dot], [:], [@], [at]."""
    result = value.strip()
    for pattern, replacement in DEFANGED_SCHEME:
        result = pattern.sub(replacement, result)
    if MARK_OPENERS.search(result):
        for pattern, replacement in DEFANGED_MARKS:
            result = pattern.sub(replacement, result)
    return result


def normalise(kind: str, value: str) -> tuple[str, str] | None:
    """One (type, value) in canonical form, or None when the value is not a valid one of that type."""
    if kind is None or type(kind) is str:
        return _normalised(kind or "", str(value))
    return _normalise(kind, str(value))


# A flood names the same hosts and addresses over and over: remember the latest answers.
@functools.lru_cache(maxsize=8192)
def _normalised(kind: str, value: str) -> tuple[str, str] | None:
    return _normalise(kind, value)


def _normalise(kind: str, value: str) -> tuple[str, str] | None:
    value = refang(value.replace("\x00", ""))  # NUL cannot be stored in PostgreSQL text
    if not value or len(value) > 2048:
        return None
    kind = (kind or "").strip().lower()
    if kind in ("host", "auto"):
        return _classify(value, allow_text=kind == "auto")
    if kind == "hash":
        kind = HASH_LENGTHS.get(len(value), "")
        if not kind:
            return None
    if kind == "ip":
        ip = _ip(value)
        return ("ip", ip) if ip else None
    if kind in ("md5", "sha1", "sha256"):
        if len(value) != {"md5": 32, "sha1": 40, "sha256": 64}[kind] or not HEX.match(value):
            return None
        return kind, value.lower()
    if kind in ("domain", "hostname", "fqdn"):
        name = value.rstrip(".").lower()
        if ip := _ip(name):
            return "ip", ip
        if not HOSTNAME.match(name):
            return None
        return ("domain" if "." in name and kind != "hostname" else "hostname"), name
    if kind == "url":
        url = _url(value)
        return ("url", url) if url else None
    if kind in ("email", "mail"):
        local, at, domain = value.partition("@")
        if not (at and local and domain and "." in domain and " " not in value):
            return None
        return "email", f"{local}@{domain.lower().rstrip('.')}".lower()
    if kind == "cve":
        upper = value.upper()
        return ("cve", upper) if CVE.match(upper) else None
    if kind == "user":
        return ("user", value[:256]) if value.strip() else None
    if kind in ("filename", "file"):
        return _filename(value)
    if kind == "other":
        return "other", value[:2048]
    return None


def _filename(value: str) -> tuple[str, str] | None:
    """A file's name as it was given (case kept: a name is evidence), without any folder part: a tool's
    `C:\\Users\\x\\invoice.pdf` and a mail's `invoice.pdf` are one observable."""
    name = re.split(r"[\\/]", value)[-1].strip()
    if not name or name in (".", "..") or len(name) > 255:
        return None
    return "filename", name


def _ip(value: str) -> str | None:
    candidate = value.strip().strip("[]")
    if "%" in candidate:  # zone index (fe80::1%eth0) is local to one machine
        candidate = candidate.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)  # IPv6 in RFC 5952 form: lower-case, zeros compressed


def _url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "ftp", "ftps") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment))


def _classify(value: str, *, allow_text: bool) -> tuple[str, str] | None:
    ip = _ip(value)
    if ip:
        return "ip", ip
    if "://" in value:
        return normalise("url", value)
    if "@" in value:
        return normalise("email", value)
    if HEX.match(value) and len(value) in HASH_LENGTHS:
        return normalise("hash", value)
    name = value.rstrip(".").lower()
    if HOSTNAME.match(name):
        return "hostname", name
    return ("other", value) if allow_text else None


# --- lists typed by hand (the panel's Add field, the REST API) -------------------------------------

# What separates the values of a pasted list. Defanging never uses these ("evil[.]example", "hxxp://",
# "1.2.3[.]4"), so a defanged value stays one entry.
LIST_SEPARATORS = re.compile(r"[\s,;]+")
LINE_SEPARATORS = re.compile(r"[\r\n]+")
TYPE_NAMES = {  # what each type asks for, as the error sentence says it
    "auto": "a valid observable (an IP address, domain, host name, URL, e-mail address, hash or CVE)",
    "ip": "a valid IP address",
    "domain": "a valid domain",
    "hostname": "a valid host name",
    "url": "a valid URL (http, https, ftp or ftps)",
    "email": "a valid e-mail address",
    "hash": "a valid hash (MD5, SHA-1 or SHA-256)",
    "md5": "a valid MD5 hash",
    "sha1": "a valid SHA-1 hash",
    "sha256": "a valid SHA-256 hash",
    "cve": "a valid CVE id (CVE-2024-12345)",
    "user": "a user name",
    "filename": "a file name (without a folder)",
    "other": "a value",
}


def classify(value: str) -> tuple[str, str] | None:
    """The type of one value typed by hand, and its normalised form; None when it is none of them.

    The adapters' "host" classification, plus what a person pastes that a tool field never holds:
    a dotted name under a public suffix is a domain (an internal suffix keeps it a host name), a
    dotted number that is no IP address is refused, and CVE ids are recognised.
    """
    refanged = refang(value)
    if CVE.match(refanged.upper()):
        return "cve", refanged.upper()
    pair = normalise("host", refanged)
    if pair is None or pair[0] != "hostname" or "." not in pair[1]:
        return pair
    suffix = pair[1].rsplit(".", 1)[1]
    if suffix.isdigit():  # "999.1.1.1" is a mistyped address, not a name (no top-level domain is numeric)
        return None
    if suffix.isalpha() and len(suffix) >= 2 and suffix not in INTERNAL_SUFFIXES:
        return "domain", pair[1]
    return pair


@dataclass(frozen=True)
class ParsedList:
    """A hand-typed list: the valid values (typed, normalised, de-duplicated, in order) and the rest."""

    valid: list[tuple[str, str]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # entries as typed, for the error sentence


def parse_list(text: str, kind: str = "auto") -> ParsedList:
    """Split a list separated by commas, semicolons, spaces or new lines (file names: new lines only),
    defanged or not, and type each entry with `classify` ("auto") or check it as the one type chosen."""
    kind = (kind or "auto").strip().lower()
    valid: dict[tuple[str, str], None] = {}
    invalid: list[str] = []
    # File names hold spaces and commas ("Q3 invoice, final.pdf"): one a line.
    separators = LINE_SEPARATORS if kind in ("filename", "file") else LIST_SEPARATORS
    for entry in separators.split(str(text or "").replace("\x00", "")):
        entry = entry.strip("\"'<>()")
        if not entry:
            continue
        pair = classify(entry) if kind == "auto" else normalise(kind, entry)
        if pair is None:
            if entry not in invalid:
                invalid.append(entry)
        else:
            valid.setdefault(pair, None)
    return ParsedList(valid=list(valid), invalid=invalid)


def invalid_sentence(invalid: list[str], kind: str = "auto") -> str:
    """The sentence naming the entries that are not valid values of the type asked for."""
    wanted = TYPE_NAMES.get((kind or "auto").lower(), f"a valid {kind} value")
    shown = [repr(entry[:100]) for entry in invalid[:10]]
    more = f" and {len(invalid) - 10} more" if len(invalid) > 10 else ""
    if len(invalid) == 1:
        return f"{shown[0]} is not {wanted}."
    return f"These are not valid: {', '.join(shown)}{more}; each should be {wanted}."


def from_text(text: str) -> list[tuple[str, str]]:
    """IOCs in free text (refanged by ioc-finder), plus internal FQDNs it drops."""
    if not text:
        return []
    return list(_from_text(text[:TEXT_LIMIT]))


# What any observable `_from_text` finds needs somewhere in the text once ioc-finder has fanged it
# (`hxxp`, `[.]`, ` dot `... undone): a dot between two word characters (domains, IPv4, URLs, e-mail
# addresses; the internal-FQDN fallback too), two colons (IPv6), 32 hex digits in a row (MD5, SHA-1,
# SHA-256) or "cve".
_MAY_HOLD = re.compile(r"[\w-]\.\w|:.*:|[0-9a-f]{32}|cve", re.IGNORECASE | re.DOTALL)
# The same question asked of the text before fanging, without paying for ioc_fanger.fang: besides the
# above, anything from which fang (or our refang) can make a dot or a colon (brackets, "dot", "punto",
# "punkt", "^x", "<.>", a backslash, digit commas "10,0,0,1", "http/" which becomes "http:/").
_MAY_HOLD_UNFANGED = re.compile(
    r"[\w-]\.\w|:.*:|[0-9a-f]{32}|cve|[\[\](){}^\\]|dot|punto|punkt|<\.>|\d,\d|ps?/",
    re.IGNORECASE | re.DOTALL,
)


def may_hold_observables(text: str) -> bool:
    """False when the text cannot hold any observable `_from_text` finds: a cheap test that spares
    ioc-finder's parser the messages that name none (a printer jam, a password reset).

    Conservative by construction: it asks only for what every found type must contain, first of the
    raw text with every way ioc-finder's fanging could make it (a regular expression, microseconds),
    then of the raw text as it is (a plain IP or domain: the parser runs, and fangs it itself), and
    only then of ioc-finder's own fanged text and of ours (for the internal-FQDN fallback).
    tests/alerts/test_observables_precheck.py compares the results with and without it on generated
    text.
    """
    if not _MAY_HOLD_UNFANGED.search(text):
        return False
    if _MAY_HOLD.search(text):  # most texts that may hold one say so plainly: no need to fang them
        return True
    return bool(_MAY_HOLD.search(fang_when_needed(text)) or _MAY_HOLD.search(refang(text)))


# ioc-finder's values for each key of IOC_KEYS (in that order), and the internal host names it drops.
Parts = tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]
NOTHING: Parts = (tuple(() for _ in IOC_KEYS), ())
# An alert's text is a few lines (title, description, labels, a link) and a flood repeats most of its
# lines even where whole texts differ (one rule firing on many hosts): such a text is parsed line by
# line, each line remembered. A longer text (a pasted log) is parsed whole, in one call, which costs
# less than a call per line. Both give what one call on the whole text gives
# (tests/alerts/test_observables_precheck.py): no observable spans a line break.
LINES_PARSED_APART = 8


def _from_text(text: str) -> tuple[tuple[str, str], ...]:
    lines = text.split("\n")
    chunks = lines if len(lines) <= LINES_PARSED_APART else [text]
    # Most lines name nothing (the pre-check's NOTHING); the others are merged type by type, in order.
    found = [parts for parts in map(_chunk_parts, chunks) if parts is not NOTHING]
    if not found:
        return ()
    if len(found) == 1:
        return _pairs(found[0])
    pairs: list[tuple[str, str]] = []
    for index, kind in enumerate(IOC_KEYS.values()):
        merged: dict[str, None] = {}
        for values, _ in found:
            merged.update(dict.fromkeys(values[index]))
        pairs += [(kind, value) for value in merged]
    return (*pairs, *(("hostname", name) for _, names in found for name in names))


# ioc-finder's parser is the dearest step of ingesting a new alert, and a flood repeats a few texts
# and lines many times over: remember the latest results.
@functools.lru_cache(maxsize=8192)
def _chunk_parts(text: str) -> Parts:
    if not may_hold_observables(text):
        return NOTHING
    return _parts(text)


def ipv4_addresses(text: str) -> list[str]:
    """The IPv4 addresses ioc-finder's `parse_ipv4_addresses` finds in `text`, in its order, without its
    pyparsing grammar.

    ioc-finder finds candidates with a regular expression (four runs of one to three digits joined by
    dots, standing alone) and runs its grammar on each candidate by itself; on such a string the grammar
    can only match from the first character (any later start is inside a word) and accepts it when
    every part is ASCII digits below 256, giving each part without its leading zeros. This does the same
    in plain Python, for a tenth of the grammar's cost; tests/alerts/test_observables_ipv4.py compares
    the two on generated text.
    """
    from ioc_finder.ioc_finder import _IPV4_CANDIDATE_RE

    found: dict[str, None] = {}
    for match in _IPV4_CANDIDATE_RE.finditer(text):
        parts = match.group(0).split(".")
        # `\d` in the candidate pattern also takes other scripts' digits; the grammar takes 0-9 only.
        if all(part.isascii() and int(part) < 256 for part in parts):
            found.setdefault(".".join(str(int(part)) for part in parts), None)
    return list(found)


# Something in the text at least one of ioc_fanger's fang mappings needs to match; where nothing is,
# fang leaves the text as it is (each mapping that matches nothing changes nothing, so the text every
# later mapping sees is the original). A superset of each mapping's pattern, in the order of
# ioc_fanger.regexes_fang: "[://]"; a dot, comma or colon between brackets; DOT; dot/punto/punkt;
# "@", "at", "et" or "arroba" next to a bracket; AT/ET/ARROBA; www; ":/" (the mappings are verbose
# patterns, so ":\/\/ *" is ":/" then any slashes: fang makes "C:/temp" "C://temp"); http(s); "hXXp";
# "[-]"; " @ "; digit commas; a backslash before "/" or "."; "^"; "<.>". Case-sensitive where the
# mapping is. tests/alerts/test_observables_fang.py compares `fang_when_needed` with fang.
_FANG_MAY_CHANGE = re.compile(
    r"\[://\]"
    r"|[\[\](){}]\ {0,3}[.,:]\ {0,3}[\[\](){}]"
    r"|(?-i:DOT)"
    r"|dot|punto|punkt"
    r"|[\[\](){}]\ {0,3}(?:@|at|et|arroba)|(?:@|at|et|arroba)\ {0,3}[\[\](){}]"
    r"|(?-i:AT|ET|ARROBA)"
    r"|www"
    r"|:/"
    r"|http"
    r"|(?-i:h[xA-Z]{2}p)"
    r"|\[-\]"
    r"|\ @\ "
    r"|[0-9],[0-9]"
    r"|\\[/.]"
    r"|\^"
    r"|<\.>",
    re.IGNORECASE,
)


def fang_when_needed(text: str) -> str:
    """ioc_fanger's `fang(text)`, without running its thirty-odd substitutions (and ninety debug log
    calls) on a text none of them can change: most messages name plain addresses and domains."""
    if not _FANG_MAY_CHANGE.search(text):
        return text
    from ioc_fanger import fang

    return fang(text)


@functools.cache
def _find_iocs() -> Callable[..., dict]:
    """ioc-finder's `find_iocs`, its IPv4 step (the dearest: its pyparsing grammar costs half of a
    short text's parse) done by `ipv4_addresses`, which gives the same addresses, and its first step
    (fanging the text) by `fang_when_needed`, which gives the same text."""
    # Imported here: building ioc-finder's grammars takes seconds, which every process start
    # (web, worker, CLI) would otherwise pay even when it never reads an alert.
    import ioc_finder.ioc_finder as finder

    finder.parse_ipv4_addresses = ipv4_addresses
    finder.prepare_text = fang_when_needed
    return finder.find_iocs


def _parts(text: str) -> Parts:
    """ioc-finder and the internal-FQDN fallback on one piece of text."""
    find_iocs = _find_iocs()
    try:
        iocs = find_iocs(text, included_ioc_types=list(IOC_KEYS))
    except Exception:  # ioc-finder is a best effort on odd text; the fallback below still runs
        iocs = {}
    # Each type's values without repeats (in order), so that a text of one line needs no merging.
    values = tuple(tuple(dict.fromkeys(iocs.get(key, []) or [])) for key in IOC_KEYS)
    return values, tuple(match.group(1) for match in INTERNAL_FQDN.finditer(refang(text)))


def _pairs(parts: Parts) -> tuple[tuple[str, str], ...]:
    values, hostnames = parts
    found = [(kind, value) for kind, found in zip(IOC_KEYS.values(), values, strict=True) for value in found]
    return (*found, *(("hostname", name) for name in hostnames))


def _from_text_parsed(text: str) -> tuple[tuple[str, str], ...]:
    """One call on the whole text, without the pre-check (the tests' reference for `from_text`)."""
    return _pairs(_parts(text))


def warm_up() -> None:
    """Build ioc-finder's grammars now (slow, once per process) rather than under the first alert's batch."""
    _from_text("198.51.100.1 warm-up.example")


def extract(fields: list[tuple[str, str]], text: str = "") -> list[tuple[str, str]]:
    """Adapter fields first, then text: normalised, de-duplicated, order kept."""
    seen: dict[tuple[str, str], None] = {}
    for kind, value in [*fields, *from_text(text)]:
        pair = normalise(kind, value)
        if pair is not None:
            seen.setdefault(pair, None)
    return list(seen)


DOCUMENTATION_NETS = tuple(
    ipaddress.ip_network(net)
    for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
SHARED_NET = ipaddress.ip_network("100.64.0.0/10")


def ip_scope(value: str) -> str:
    """'' for a public address; otherwise what kind of non-public address it is (shown on the panel)."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return ""
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_unspecified, "reserved"),
        (
            any(address in net for net in DOCUMENTATION_NETS if net.version == address.version),
            "documentation",
        ),
        (address.version == 4 and address in SHARED_NET, "shared (CGNAT)"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "reserved"),
    )
    for condition, label in checks:
        if condition:
            return label
    return ""


def value_hash(kind: str, value: str) -> str:
    """The key of the (type, value) unique index (values can be longer than an index entry allows)."""
    return hashlib.sha256(f"{kind}\x1f{value}".encode()).hexdigest()
