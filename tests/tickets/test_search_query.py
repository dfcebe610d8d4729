"""The search query language: a pure parser, table-driven, and fuzzed so that it never raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socdesk.tickets.search.query import FIELDS, MAX_TERMS, Term, parse_query

CASES = [
    ("", []),
    ("   ", []),
    ("phishing", [Term("phishing")]),
    ("203.0.113.7 phishing", [Term("203.0.113.7"), Term("phishing")]),
    ('"lateral movement"', [Term("lateral movement", phrase=True)]),
    ("-noise", [Term("noise", negated=True)]),
    ('-"false alarm"', [Term("false alarm", negated=True, phrase=True)]),
    ("ip:10.0.0.5", [Term("10.0.0.5", field="ip")]),
    ("IP:10.0.0.5", [Term("10.0.0.5", field="ip")]),
    ('tag:"night shift"', [Term("night shift", phrase=True, field="tag")]),
    ("-tag:fp", [Term("fp", negated=True, field="tag")]),
    ("status:new severity:high", [Term("new", field="status"), Term("high", field="severity")]),
    ("assignee:me source:alert", [Term("me", field="assignee"), Term("alert", field="source")]),
    ("topic:Phishing", [Term("Phishing", field="topic")]),
    ('Topic:"Lateral movement"', [Term("Lateral movement", phrase=True, field="topic")]),
    ("-topic:none", [Term("none", negated=True, field="topic")]),
    ("hash:d41d8cd98f00b204e9800998ecf8427e", [Term("d41d8cd98f00b204e9800998ecf8427e", field="hash")]),
    (
        "domain:evil[.]example host:web01 user:jdoe",
        [Term("evil[.]example", field="domain"), Term("web01", field="host"), Term("jdoe", field="user")],
    ),
    # not fields: a URL, an IPv6 address, a Windows path, a quoted colon, a trailing colon
    ("hxxp://evil[.]example/x", [Term("hxxp://evil[.]example/x")]),
    ("2001:db8::1", [Term("2001:db8::1")]),
    ("C:\\temp", [Term("C:\\temp")]),
    ('"ip:10.0.0.5"', [Term("ip:10.0.0.5")]),
    ("note: hello", [Term("note:"), Term("hello")]),
    # stray characters
    ('- -- " unclosed', [Term("unclosed")]),
    ('"unclosed phrase', [Term("unclosed phrase", phrase=True)]),
    ("SOC-1045 1045", [Term("SOC-1045"), Term("1045")]),
]


@pytest.mark.parametrize(("text", "terms"), CASES)
def test_parse(text, terms):
    query = parse_query(text)
    assert list(query.terms) == terms
    assert query.errors == ()


def test_an_unknown_field_is_explained_and_left_out():
    query = parse_query("colour:red phishing")
    assert list(query.terms) == [Term("phishing")]
    assert len(query.errors) == 1
    assert "Unknown search field 'colour:'" in query.errors[0]
    assert all(f"{name}:" in query.errors[0] for name in FIELDS)
    assert "quotes" in query.errors[0]


def test_too_many_terms_are_cut_and_said_so():
    query = parse_query(" ".join(f"w{n}" for n in range(MAX_TERMS + 5)))
    assert len(query.terms) == MAX_TERMS
    assert query.errors == (f"Only the first {MAX_TERMS} terms of a search are used.",)


def test_parts_by_kind():
    query = parse_query('a -b "c d" tag:x')
    assert [t.text for t in query.text_terms] == ["a", "b", "c d"]
    assert [t.text for t in query.positive_text] == ["a", "c d"]
    assert [t.field for t in query.field_terms] == ["tag"]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_any_text(text):
    query = parse_query(text)
    for term in query.terms:
        assert term.text.strip() and term.text == term.text.strip()
        assert not term.field or term.field in FIELDS
    assert len(query.terms) <= MAX_TERMS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(['"', "-", ":", "ip", "tag", " ", "a", "\\", "//", "é", "\t"]), max_size=40))
def test_never_raises_on_syntax_soup(parts):
    parse_query("".join(parts))
