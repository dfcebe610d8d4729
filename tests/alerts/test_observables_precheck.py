"""The shortcuts in front of ioc-finder change no result: the same observables as one call on the whole text.

`may_hold_observables` lets `from_text` skip ioc-finder's parser for text that cannot name an observable.
It must never skip a text in which the parser (or the internal-FQDN fallback) would find something. And
`from_text` parses a short text line by line (each line remembered, as floods repeat lines): the values,
their order and their kinds must be those of one call on the whole text.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socdesk.alerts.observables import _from_text_parsed, from_text, may_hold_observables

# Pieces from which observables, their defanged forms and near misses are made, and plain prose.
FRAGMENTS = [
    "the",
    "host",
    "login",
    "failed",
    "again",
    "Please",
    "check",
    "web01",
    "corp",
    "local",
    "lan",
    "example",
    "com",
    "evil",
    "org",
    "net",
    "io",
    "http",
    "https",
    "hxxp",
    "hXXps",
    "fxp",
    "xxxx",
    "www",
    ".",
    ",",
    ":",
    ";",
    "/",
    "//",
    "\\",
    "^",
    "@",
    "-",
    "_",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "<",
    ">",
    "[.]",
    "(.)",
    "{.}",
    "[dot]",
    "(dot)",
    " dot ",
    " DOT ",
    "-dot-",
    "punto",
    "punkt",
    "<.>",
    "\\.",
    "[:]",
    "[://]",
    "[@]",
    "[at]",
    " AT ",
    "at",
    "::",
    "fe80",
    "2001",
    "db8",
    "1",
    "10",
    "0",
    "192",
    "168",
    "203",
    "113",
    "255",
    "999",
    "7",
    "10,0,0,1",
    "cve",
    "CVE",
    "-2024-",
    "3094",
    "e3b0c442",
    "98fc1c149afbf4c8",
    "d41d8cd98f00b204",
    "e9800998ecf8427e",
    "deadbeef",
    " ",
    "\n",
    "\t",
    "é",
    "。",
    "\uff0e",
    "\u017f",
    "\u212a",
    "\u0130",
    "\u0131",
    "Ü",
    "€",
    "\u200b",
]
pieces = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3))
texts = st.lists(pieces, max_size=40).map("".join)
# Several lines, some alike: the texts parsed line by line.
lined = st.lists(st.lists(pieces, max_size=12).map("".join), min_size=2, max_size=10).map("\n".join)
# Prose without the characters observables are made of: the texts the pre-check is there to skip,
# with defang-looking words mixed in so that the skipped ones are tested too.
PROSE = [
    "the",
    "printer",
    "jammed",
    "again",
    "Please",
    "check",
    "it",
    "thanks",
    " ",
    "\n",
    "!",
    "?",
    "dot",
    "punto",
    "at",
    "AT",
    "cve",
    "http",
    "p",
    "s",
    "/",
    ",",
    "1",
    "deadbeef",
    "(",
    "é",
    ".",
]
prose = st.lists(st.sampled_from(PROSE), max_size=30).map("".join)


def without_precheck(text: str) -> tuple:
    return _from_text_parsed(text) if text else ()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(texts, prose, lined))
def test_the_precheck_never_changes_what_is_found(text):
    if not may_hold_observables(text):
        assert without_precheck(text) == (), text
    assert tuple(from_text(text)) == without_precheck(text[:20_000])


@pytest.mark.parametrize(
    "text",
    [
        "Source IP: 192.168.1.50",
        "callback to evil[.]com",
        "callback to evil(dot)com",
        "callback to evil[dot]com",
        "hxxps://bad[.]com/x",
        "ip 10,0,0,1 seen",
        "mail me at a[@]b[.]com",
        "from fe80::1 and 2001:db8::7",
        "d41d8cd98f00b204e9800998ecf8427e",
        "patch CVE-2024-3094 now",
        "dc01.corp.local is down",
    ],
)
def test_texts_with_observables_are_parsed(text):
    assert may_hold_observables(text)
    assert from_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The printer on floor 3 is jammed again. Please send someone, thanks!",
        "Password reset for my account please\nI am locked out since this morning.",
        "Meeting moved to 3 pm; agenda attached.",
    ],
)
def test_prose_without_observables_skips_the_parser(text):
    assert not may_hold_observables(text)
    assert from_text(text) == [] and without_precheck(text) == ()


@pytest.mark.parametrize(
    "text",
    [
        "Failed logins from 203.0.113.7\nLabels: instance=203.0.113.7, job=node",  # a value on two lines
        "see http://evil.example/x\nevil.example again\nand evil.example once more",
        "dc01.corp.local down\ndc01.corp.local still down",  # the internal-name fallback keeps repeats
        "\n".join(f"line {n}: 198.51.100.{n} to files{n}.example" for n in range(12)),  # parsed whole
        "a\r\nb 192.0.2.1\r\n",
    ],
)
def test_lines_parsed_apart_give_what_the_whole_text_gives(text):
    assert tuple(from_text(text)) == without_precheck(text)


def test_a_line_repeated_across_alerts_is_parsed_once(monkeypatch):
    from socdesk.alerts import observables

    parsed: list[str] = []
    real = observables._parts
    monkeypatch.setattr(observables, "_parts", lambda text: parsed.append(text) or real(text))
    observables._chunk_parts.cache_clear()
    shared = "Failed logins from 198.51.100.77"
    for host in ("alpha", "bravo", "charlie"):
        assert ("ip", "198.51.100.77") in from_text(f"Suspicious activity on {host}.example\n{shared}")
    assert parsed.count(shared) == 1  # the differing first lines are parsed, the shared one once


def test_a_plain_text_goes_to_the_parser_without_being_fanged_twice(monkeypatch):
    import ioc_fanger

    from socdesk.alerts import observables

    fanged: list[str] = []
    real_fang = ioc_fanger.fang
    monkeypatch.setattr(ioc_fanger, "fang", lambda text, **k: fanged.append(text) or real_fang(text, **k))
    plain = "User reports a suspicious mail from evil1.com (203.0.113.1)"
    assert may_hold_observables(plain)
    assert fanged == []  # the pre-check saw the plain IP and domain; only the parser fangs the text
    defanged = "callback to evil[.]com"
    assert may_hold_observables(defanged)
    assert fanged == [defanged]  # a defanged value is still looked for in the fanged text
    observables._chunk_parts.cache_clear()
    assert from_text(plain) == [("ip", "203.0.113.1"), ("domain", "evil1.com")]
