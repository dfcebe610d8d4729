"""The one way a JSON body from outside is parsed: only values both databases can store get through.

JSON as Python reads it is wider than what SOCdesk's JSON columns keep. `NaN`, `Infinity` and
`-Infinity` are not JSON at all, and a number such as `1e400` overflows to infinity; Django writes
either back as the token `Infinity`, which SQLite's JSON check and PostgreSQL's `jsonb` both refuse.
An integer of more than 4,300 digits is refused by Python itself (the int/str conversion limit) with a
ValueError that used to escape as a 500. So every entry point (webhooks, the TheHive- and
osTicket-compatible APIs, the v1 API) parses with `loads` below, before anything is acknowledged:

- NaN / Infinity / -Infinity and floats that overflow (`1e400`, a 400-digit `1.0…`) are refused;
- integers with more than MAX_INT_DIGITS digits are refused (send such values as strings);
- everything else is kept exactly (a 30-digit integer stays an exact integer).

The refusal is an `UnstorableNumber` (a ValueError) whose `message` is a sentence for the sender.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Integers longer than this are refused. 100 digits holds every real identifier (128-bit values have
# 39) and stays far below Python's 4,300-digit conversion limit and PostgreSQL's numeric range.
MAX_INT_DIGITS = 100
_SHOWN = 40  # how much of an offending literal a message quotes


class UnstorableNumber(ValueError):
    """A JSON number the databases cannot store; `message` says which and what to send instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _quote(literal: str) -> str:
    return literal if len(literal) <= _SHOWN else f"{literal[:_SHOWN]}… ({len(literal)} characters)"


def _refuse_constant(name: str) -> Any:
    raise UnstorableNumber(
        f"The body contains {name}, which is not a JSON number and cannot be stored; "
        "send null or a string instead."
    )


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise UnstorableNumber(
            f"The number {_quote(literal)} is too large to store (the limit is about ±1.8e308); "
            "send it as a string."
        )
    return value


def _parse_int(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits > MAX_INT_DIGITS:
        raise UnstorableNumber(
            f"The integer {_quote(literal)} has {digits} digits; integers of more than {MAX_INT_DIGITS} "
            "digits are refused. Send it as a string."
        )
    return int(literal)


def loads(text: str | bytes) -> Any:
    """json.loads that refuses what the databases cannot store (see the module docstring).

    Syntax errors are json.JSONDecodeError as usual, too-deep nesting RecursionError; unstorable
    numbers are UnstorableNumber. All three are ValueError or RuntimeError, never a crash later on.
    """
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_parse_float, parse_int=_parse_int)
