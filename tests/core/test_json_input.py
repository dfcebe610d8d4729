"""The shared JSON parse step: what it refuses (with a sentence), what it keeps exactly. No database."""

from __future__ import annotations

import json

import pytest

from socdesk.core.json_input import MAX_INT_DIGITS, UnstorableNumber, loads


@pytest.mark.parametrize(
    "text, words",
    [
        ("[NaN]", "contains NaN, which is not a JSON number"),
        ('{"a": {"b": [Infinity]}}', "contains Infinity"),
        ("-Infinity", "contains -Infinity"),
        ("1e400", "The number 1e400 is too large to store"),
        ("[-1E+309]", "The number -1E+309 is too large"),
        ("1" * 310 + ".0", "… (312 characters) is too large"),
        ("9" * 5000, "has 5000 digits; integers of more than 100 digits are refused. Send it as a string."),
        ("-" + "1" * (MAX_INT_DIGITS + 1), f"has {MAX_INT_DIGITS + 1} digits"),
    ],
)
def test_refused_with_a_sentence_naming_the_number(text, words):
    with pytest.raises(UnstorableNumber) as refused:
        loads(text)
    assert words in refused.value.message
    assert len(refused.value.message) < 250  # a 5000-digit literal is quoted shortened


@pytest.mark.parametrize(
    "text",
    [
        "1" * MAX_INT_DIGITS,
        "-" + "9" * MAX_INT_DIGITS,
        "1.7976931348623157e308",
        "-2.5e-308",
        "1e-400",
        "0",
        "-0",
    ],
)
def test_kept_exactly(text):
    assert loads(text) == json.loads(text)
    assert type(loads(text)) is type(json.loads(text))


def test_syntax_errors_and_nesting_stay_what_callers_already_handle():
    with pytest.raises(json.JSONDecodeError):
        loads('{"a": }')
    with pytest.raises(RecursionError):
        loads("[" * 100_000 + "]" * 100_000)
    assert loads(b'{"bytes": "too"}') == {"bytes": "too"}
