"""`fang_when_needed` gives ioc_fanger's `fang(text)` for every text, and skips fang where none of its
mappings can change the text (most messages: plain addresses and domains in prose)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioc_fanger import fang

from socdesk.alerts.observables import fang_when_needed
from tests.alerts.test_observables_precheck import FRAGMENTS

# What each of ioc_fanger's mappings rewrites (regexes_fang, in order), and near misses of each.
TRIGGERS = [
    "[://]",
    "(.)",
    "{ , }",
    "[ : ]",
    "evil DOT com",
    "-DOT-",
    "evilDOTcom",
    "(dot)",
    "punto]",
    "-punkt-",
    "[at]",
    "(et )",
    "arroba}",
    "[AT",
    "ET)",
    "userATexample",
    "aARROBAb",
    "[www]",
    ":///",
    ":// ",
    "C:/temp",
    ":://",
    "[http",
    "https)",
    "hXXps://",
    "hxxp/",
    "https:// x",
    "http :",
    "XXXX://",
    "xxxxs://",
    "[-]",
    "a @ b",
    "10,0,0,1",
    "\\/",
    "^.",
    "<.>",
    "\\.",
]
NEAR = [" ", "x", "a", "A", "T", "E", "d", "o", "t", "p", "s", "h", "H", "w", ":", "/", ",", "@", "-"]
pieces = st.one_of(st.sampled_from([*FRAGMENTS, *TRIGGERS, *NEAR]), st.text(max_size=3))
texts = st.lists(pieces, max_size=30).map("".join)


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_mapping_s_example_is_fanged_as_fang_does(trigger):
    for text in (trigger, f"see {trigger} here", f"x{trigger}y"):
        assert fang_when_needed(text) == fang(text)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_the_same_text_as_fang(text):
    assert fang_when_needed(text) == fang(text)


def test_a_text_no_mapping_can_change_skips_fang(monkeypatch):
    import ioc_fanger

    def refuse(text):
        raise AssertionError(f"fang ran on {text!r}")

    monkeypatch.setattr(ioc_fanger, "fang", refuse)
    text = "User reports a suspicious mail from evil7.example (203.0.113.7), again at 10:00 today"
    assert fang_when_needed(text) is text
