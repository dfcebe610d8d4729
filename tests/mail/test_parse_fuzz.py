"""parse_message never raises: random bytes and random damage to the corpus always give a ParsedMessage."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socdesk.mail.parse import ParsedMessage, parse_message

from . import corpus

SHAPES = [build() for build in corpus.ALL.values()]


def _check(raw: bytes) -> None:
    parsed = parse_message(raw, max_attachment_bytes=64)
    assert isinstance(parsed, ParsedMessage)
    assert parsed.raw_size == len(raw)
    assert parsed.message_id
    assert all(isinstance(problem, str) and problem.endswith(".") for problem in parsed.problems)
    for text in (parsed.text, parsed.subject, parsed.reply_text, parsed.html):
        text.encode("utf-8")  # storable: no lone surrogates
        assert "\x00" not in text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(raw):
    _check(raw)


@st.composite
def mutated(draw):
    raw = bytearray(draw(st.sampled_from(SHAPES)))
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        position = draw(st.integers(0, max(0, len(raw) - 1)))
        if action == "flip" and raw:
            raw[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[position:]
        elif action == "insert":
            raw[position:position] = draw(
                st.sampled_from(
                    [b"=?utf-8?b?", b"\r\n--", b'; charset="x"', b"\xff\xfe", b"\r\n\r\n", b"=\r\n", b"<"]
                )
            )
        elif action == "delete" and raw:
            del raw[position : position + draw(st.integers(1, 40))]
    return bytes(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_corpus_messages_never_raise(raw):
    _check(raw)
