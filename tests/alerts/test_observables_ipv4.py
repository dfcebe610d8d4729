"""`ipv4_addresses` (the IPv4 step of ioc-finder's `find_iocs`, without its grammar) finds what ioc-finder's
own grammar finds: the same addresses, written the same way, in the same order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from ioc_finder.ioc_finder import _IPV4_CANDIDATE_RE, _scan_candidates
from ioc_finder.ioc_grammars import ipv4_address

from socdesk.alerts.observables import from_text, ipv4_addresses


def grammar(text: str) -> list[str]:
    """ioc-finder's own IPv4 step (its `parse_ipv4_addresses`), from its pieces."""
    return _scan_candidates(text, _IPV4_CANDIDATE_RE, ipv4_address)


CASES = [
    "203.0.113.7",
    "from 203.0.113.7, then 198.51.100.1 and 203.0.113.7 again",
    "leading zeros 010.001.000.099 and 10.1.0.99",
    "too big 256.1.1.1 1.2.3.256 999.1.1.1 but 255.255.255.255",
    "in words a1.2.3.4 1.2.3.4b 1.2.3.4.5 .1.2.3.4 1.2.3.4.x 1.2.3.4. end",
    "four digits 1234.1.1.1 1.1.1.1234",
    "other scripts' digits \u0661.\u0662.\u0663.\u0664 1.2.3.\u0664 \uff11.2.3.4",
    "cidr 10.0.0.0/8 port 10.0.0.1:443 url http://192.0.2.5/x (192.0.2.6)",
    "",
]


def test_the_same_addresses_as_ioc_finders_grammar_on_chosen_text():
    for text in CASES:
        assert ipv4_addresses(text) == grammar(text), text
    # The cases do exercise both outcomes: addresses found, rewritten, and candidates refused.
    assert ipv4_addresses(CASES[2]) == ["10.1.0.99"]
    assert ipv4_addresses(CASES[3]) == ["255.255.255.255"]
    assert ipv4_addresses(CASES[6]) == []


NUMBERS = ["0", "00", "1", "01", "9", "10", "99", "100", "199", "255", "256", "300", "999", "1000"]
PIECES = st.sampled_from([*NUMBERS, "\u0664", "\uff11"])
SEPARATORS = st.sampled_from([".", ".", ".", " ", "", "a", "x", ":", "/", ",", "..", ". ", "(", ")", "\n"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(PIECES, SEPARATORS), max_size=14))
def test_the_same_addresses_as_ioc_finders_grammar_on_generated_text(pairs):
    text = "".join(piece + separator for piece, separator in pairs)
    assert ipv4_addresses(text) == grammar(text)


def test_from_text_reports_ipv4_addresses_as_ioc_finder_writes_them():
    found = from_text("Seen from 010.0.0.1 and 203.0.113.250, not 203.0.113.256")
    assert [value for kind, value in found if kind == "ip"] == ["10.0.0.1", "203.0.113.250"]
