"""clean_text: control characters removed from every text, whatever its length or alphabet."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe

from socdesk.core.text import clean_json, clean_text
from socdesk.tickets.choices import Severity


def test_control_characters_go_and_tab_newline_carriage_return_stay():
    assert clean_text("a\x00b\x07c\x1fd\te\nf\rg") == "abcd\te\nf\rg"
    assert clean_text("é\x00ß") == "éß"  # non-ASCII
    long = "line\x0b " * 500 + "é"
    assert clean_text(long) == "line " * 500 + "é"
    assert clean_text("x\x01" * 2000) == "x" * 2000  # long ASCII
    assert clean_text("plain text, nothing to remove") == "plain text, nothing to remove"
    assert clean_text("") == ""


def test_the_result_is_a_plain_string_as_translate_gave_it():
    cleaned = clean_text(Severity.HIGH)
    assert cleaned == "high" and type(cleaned) is str
    assert not isinstance(clean_text(mark_safe("<b>safe</b>")), SafeString)
    assert clean_json({"k\x00": ["v\x01", 1, None]}) == {"k": ["v", 1, None]}
