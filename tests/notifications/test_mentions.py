"""`@username` mentions found in a note's text (pure, table-driven)."""

from __future__ import annotations

import pytest

from socdesk.notifications.mentions import MENTIONS_MAX, mentioned_usernames


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("@bob please look", ["bob"]),
        ("cc @bob, @alice.", ["bob", "alice"]),
        ("(@bob) and @bob again", ["bob"]),
        ("mail bob@example.test or @@bob", []),
        ("@j.doe-2 and @first.last+soc", ["j.doe-2", "first.last+soc"]),
        ("end of sentence @carol.", ["carol"]),
        ("a lone @ sign", []),
        ("", []),
        ("line one\n@dana: line two", ["dana"]),
    ],
)
def test_mentions(text, names):
    assert mentioned_usernames(text) == names


def test_only_the_first_mentions_count():
    text = " ".join(f"@user{i}" for i in range(MENTIONS_MAX + 5))
    assert mentioned_usernames(text) == [f"user{i}" for i in range(MENTIONS_MAX)]
