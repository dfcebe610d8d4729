"""Durations as people read them on a console: "12 min", "3 h 4 min", "2 d 5 h"."""

from __future__ import annotations

from datetime import timedelta


def duration_label(value: timedelta | None) -> str:
    """A short human reading of a duration; '' for None, '< 1 min' under a minute.

    Two units at most: an analyst comparing response times wants the order of magnitude, and
    "3 h 4 min" reads faster than "3:04:27".
    """
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return "< 1 min"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
