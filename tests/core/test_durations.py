"""Durations read by people: the TTA/TTR figures of the ticket page and the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socdesk.core.durations import duration_label


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (None, ""),
        (timedelta(seconds=-5), "< 1 min"),
        (timedelta(seconds=0), "< 1 min"),
        (timedelta(seconds=59), "< 1 min"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=12, seconds=40), "12 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=3, minutes=4, seconds=27), "3 h 4 min"),
        (timedelta(days=1), "1 d"),
        (timedelta(days=2, hours=5, minutes=59), "2 d 5 h"),
        (timedelta(days=400), "400 d"),
    ],
)
def test_duration_label(value, label):
    assert duration_label(value) == label
